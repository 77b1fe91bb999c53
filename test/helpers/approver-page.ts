/**
 * The approval page of a run waiting for named approvers: a ledger on dynalite holding the run, its
 * plan and an approval with personal links, the real page handler, and helpers that open an
 * approver's link and press a button on it as a browser would (GET, then the form's POST).
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { signApprovalLink } from '../../functions/adapters/approval-link.ts';
import { Ledger, type LedgerOptions } from '../../functions/adapters/ledger/index.ts';
import { MemoryWorkspace, runKey } from '../../functions/adapters/workspace.ts';
import { type ApprovalPageResponse, createApprovalPageHandler } from '../../functions/approval-page.ts';
import { deletionSetOf, hashDeletionSet } from '../../functions/core/deletion-set.ts';
import type { Plan } from '../../functions/core/model.ts';
import { planCandidates } from '../../functions/core/plan.ts';
import { type LocalDynamo, startDynalite } from './dynalite.ts';
import { runContext, smallPlan } from './ledger-fixtures.ts';

export const KEY = 'test-signing-key-0123456789abcdef';
export const NOW = new Date('2026-05-01T12:00:00.000Z');
export const EXPIRES = new Date('2026-05-02T12:00:00.000Z');
export const APPROVAL_ID = '11111111-2222-4333-8444-555555555555';
export const TASK_TOKEN = 'AQCEAAAAKgAAAA-very-secret-task-token-value';
export const ADA = 'ada@example.com';
export const BOB = 'bob@example.com';
export const CY = 'cy@example.com';
const BASE_URL = 'https://abc123.lambda-url.eu-west-1.on.aws/';

function boundPlan(): Plan {
  const plan = smallPlan({ maxDeletionsPerRun: 2 });
  const deletion = deletionSetOf(
    plan.region,
    planCandidates(plan),
    plan.orphanSnapshots,
    plan.maxDeletionsPerRun,
  );
  return { ...plan, planHash: hashDeletionSet(deletion) };
}
export const PLAN = boundPlan();

export interface ApproverPage {
  readonly dynamo: LocalDynamo;
  readonly ledger: Ledger;
  readonly handle: (event: APIGatewayProxyEventV2) => Promise<ApprovalPageResponse>;
  readonly logged: string[];
  /** The personal link's query for `approver` (signed with `key`). */
  query(approver: string | undefined, key?: string): string;
  get(query: string): Promise<ApprovalPageResponse>;
  /** The hidden fields of the page `approver`'s link opens. */
  formOf(approver: string): Promise<Record<string, string>>;
  /** Posts a form opened earlier (`formOf`) as `approver`'s browser would. */
  post(
    approver: string,
    form: Record<string, string>,
    decision: 'APPROVE' | 'REJECT',
  ): Promise<ApprovalPageResponse>;
  /** Opens `approver`'s link and presses `decision`, with `changes` to the form. */
  press(
    approver: string,
    decision: 'APPROVE' | 'REJECT',
    options?: { name?: string; changes?: Record<string, string>; query?: string; userAgent?: string },
  ): Promise<ApprovalPageResponse>;
  stop(): Promise<void>;
}

export function httpEvent(
  method: string,
  options: { query?: string; body?: string; userAgent?: string; sourceIp?: string } = {},
): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: options.query ?? '',
    headers: options.body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abc123',
      domainName: 'abc123.lambda-url.eu-west-1.on.aws',
      domainPrefix: 'abc123',
      http: {
        method,
        path: '/',
        protocol: 'HTTP/1.1',
        sourceIp: options.sourceIp ?? '198.51.100.7',
        userAgent: options.userAgent ?? 'Mozilla/5.0 (test)',
      },
      requestId: 'req-1',
      routeKey: '$default',
      stage: '$default',
      time: '01/May/2026:12:00:00 +0000',
      timeEpoch: NOW.getTime(),
    },
    isBase64Encoded: false,
    ...(options.body === undefined ? {} : { body: options.body }),
  };
}

export function hiddenFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[match[1] ?? ''] = (match[2] ?? '').replaceAll('&amp;', '&');
  }
  return fields;
}

export async function startApproverPage(options: {
  sfn: SFNClient;
  approvers?: readonly string[];
  requiredApprovals?: number;
  /** Wraps the ledger's document client (fault injection). */
  ledgerOptions?: (options: LedgerOptions) => LedgerOptions;
}): Promise<ApproverPage> {
  const dynamo = await startDynalite();
  const base: LedgerOptions = { doc: dynamo.docClient, tableName: dynamo.tableName, now: () => NOW };
  const ledger = new Ledger(options.ledgerOptions ? options.ledgerOptions(base) : base);
  const workspace = new MemoryWorkspace();
  const run = runContext({ maxDeletionsPerRun: 2 });
  await ledger.putRun(run);
  await ledger.recordPlan(run, PLAN);
  await workspace.putJson(runKey(run.runId, 'plan'), PLAN);
  await ledger.putApproval({
    approvalId: APPROVAL_ID,
    runId: run.runId,
    planHash: PLAN.planHash,
    planKey: runKey(run.runId, 'plan'),
    taskToken: TASK_TOKEN,
    expiresAt: EXPIRES,
    approvers: options.approvers ?? [ADA, BOB, CY],
    requiredApprovals: options.requiredApprovals ?? 2,
  });
  await ledger.updateRun(run.runId, { status: 'AWAITING_APPROVAL', approvalId: APPROVAL_ID });
  const logged: string[] = [];
  const record = (message: string, extra?: Readonly<Record<string, unknown>>) => {
    logged.push(`${message} ${JSON.stringify(extra)}`);
  };
  const handle = createApprovalPageHandler({
    ledger,
    workspace,
    sfn: options.sfn,
    signingKey: async () => KEY,
    now: () => NOW,
    sleep: async () => undefined,
    logger: { info: record, warn: record, error: record },
  });
  const query = (approver: string | undefined, key = KEY) =>
    new URL(
      signApprovalLink({
        baseUrl: BASE_URL,
        approvalId: APPROVAL_ID,
        expiresAt: EXPIRES,
        key,
        ...(approver ? { approver } : {}),
      }),
    ).search.slice(1);
  const get = (q: string) => handle(httpEvent('GET', { query: q }));
  return {
    dynamo,
    ledger,
    handle,
    logged,
    query,
    get,
    async formOf(approver) {
      return hiddenFields((await get(query(approver))).body);
    },
    post(approver, form, decision) {
      const body = new URLSearchParams({ ...form, approver: `Name of ${approver}`, decision }).toString();
      return handle(httpEvent('POST', { query: query(approver), body }));
    },
    async press(approver, decision, pressOptions = {}) {
      const q = pressOptions.query ?? query(approver);
      const form = hiddenFields((await get(q)).body);
      const body = new URLSearchParams({
        ...form,
        approver: pressOptions.name ?? `Name of ${approver}`,
        decision,
        ...pressOptions.changes,
      }).toString();
      return handle(
        httpEvent('POST', {
          query: q,
          body,
          ...(pressOptions.userAgent ? { userAgent: pressOptions.userAgent } : {}),
        }),
      );
    },
    stop: () => dynamo.stop(),
  };
}
