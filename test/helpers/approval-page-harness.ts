/**
 * The approval page handler on dynalite and an in-memory workspace, waiting on one approval of
 * a given plan: for tests of what the page shows (plans of any size, many targets).
 */
import {
  SendTaskSuccessCommand,
  type ServiceInputTypes,
  type ServiceOutputTypes,
  SFNClient,
  type SFNClientResolvedConfig,
} from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type AwsStub, mockClient } from 'aws-sdk-client-mock';
import { formToken, signApprovalLink } from '../../functions/adapters/approval-link.ts';
import { Ledger } from '../../functions/adapters/ledger/index.ts';
import { MemoryWorkspace, runKey } from '../../functions/adapters/workspace.ts';
import { type ApprovalPageResponse, createApprovalPageHandler } from '../../functions/approval-page.ts';
import type { Plan } from '../../functions/core/model.ts';
import { type LocalDynamo, startDynalite } from './dynalite.ts';
import { runContext } from './ledger-fixtures.ts';

export const PAGE_KEY = 'test-signing-key-0123456789abcdef';
export const PAGE_NOW = new Date('2026-05-01T12:00:00.000Z');
const EXPIRES = new Date('2026-05-02T12:00:00.000Z');
const APPROVAL_ID = '11111111-2222-4333-8444-555555555555';
const BASE_URL = 'https://abc123.lambda-url.eu-west-1.on.aws/';

export interface PageHarness {
  readonly ledger: Ledger;
  readonly workspace: MemoryWorkspace;
  readonly sfn: AwsStub<ServiceInputTypes, ServiceOutputTypes, SFNClientResolvedConfig>;
  readonly approvalId: string;
  /** The signed link's query (`a`, `e`, `s`), as the email carries it. */
  readonly query: string;
  get(query: string): Promise<ApprovalPageResponse>;
  post(fields: Record<string, string>, query?: string): Promise<ApprovalPageResponse>;
  stop(): Promise<void>;
}

/** A Function URL (payload v2) request. */
export function httpEvent(
  method: string,
  options: { query?: string; body?: string; contentType?: string; base64?: boolean } = {},
): APIGatewayProxyEventV2 {
  const body =
    options.body === undefined
      ? undefined
      : options.base64
        ? Buffer.from(options.body).toString('base64')
        : options.body;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: options.query ?? '',
    headers: options.contentType ? { 'content-type': options.contentType } : {},
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abc123',
      domainName: 'abc123.lambda-url.eu-west-1.on.aws',
      domainPrefix: 'abc123',
      http: { method, path: '/', protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: 'test' },
      requestId: 'req-1',
      routeKey: '$default',
      stage: '$default',
      time: '01/May/2026:12:00:00 +0000',
      timeEpoch: PAGE_NOW.getTime(),
    },
    isBase64Encoded: options.base64 ?? false,
    ...(body === undefined ? {} : { body }),
  };
}

/** The hidden fields of a rendered form, as a browser would send them. */
export function hiddenFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[match[1] ?? ''] = (match[2] ?? '').replaceAll('&amp;', '&');
  }
  return fields;
}

/** A run waiting for approval of `plan` (recorded in the ledger, stored in the workspace). */
export async function startPageHarness(plan: Plan, options: { region?: string } = {}): Promise<PageHarness> {
  const dynamo: LocalDynamo = await startDynalite();
  const ledger = new Ledger({ doc: dynamo.docClient, tableName: dynamo.tableName, now: () => PAGE_NOW });
  const workspace = new MemoryWorkspace();
  const run = runContext({ maxDeletionsPerRun: plan.maxDeletionsPerRun ?? 100 });
  await ledger.putRun(run);
  await ledger.updateRun(run.runId, { planHash: plan.planHash });
  const planKey = runKey(run.runId, 'plan');
  await workspace.putJson(planKey, plan);
  await ledger.putApproval({
    approvalId: APPROVAL_ID,
    runId: run.runId,
    planHash: plan.planHash,
    planKey,
    taskToken: 'task-token',
    expiresAt: EXPIRES,
  });
  await ledger.updateRun(run.runId, { status: 'AWAITING_APPROVAL', approvalId: APPROVAL_ID });
  const sfn = mockClient(SFNClient);
  sfn.on(SendTaskSuccessCommand).resolves({});
  const handle = createApprovalPageHandler({
    ledger,
    workspace,
    sfn: new SFNClient({}),
    signingKey: async () => PAGE_KEY,
    now: () => PAGE_NOW,
    sleep: async () => undefined,
    ...(options.region === undefined ? {} : { region: options.region }),
  });
  const query = new URL(
    signApprovalLink({ baseUrl: BASE_URL, approvalId: APPROVAL_ID, expiresAt: EXPIRES, key: PAGE_KEY }),
  ).search.slice(1);
  return {
    ledger,
    workspace,
    sfn,
    approvalId: APPROVAL_ID,
    query,
    get: (q) => handle(httpEvent('GET', { query: q })),
    post: (fields, q = query) =>
      handle(
        httpEvent('POST', {
          query: q,
          body: new URLSearchParams(fields).toString(),
          contentType: 'application/x-www-form-urlencoded',
        }),
      ),
    stop: async () => {
      sfn.restore();
      await dynamo.stop();
    },
  };
}

/** The form token the page must issue for `planHash`. */
export const expectedFormToken = (planHash: string): string => formToken(PAGE_KEY, APPROVAL_ID, planHash);
