/**
 * The approval page (Lambda Function URL, payload v2).
 *
 * GET shows the plan behind a signed link and changes nothing, so mail scanners that open links
 * cannot approve. POST (the page's own form) decides: it needs the signed link, a form token bound
 * to the plan hash the page showed, a PENDING approval whose plan hash still equals the run's, and
 * it wins the approval's single-use conditional update before calling SendTaskSuccess. Every
 * refusal is a 4xx page and the workflow is not resumed. The task token never leaves the ledger
 * except as the argument of SendTaskSuccess.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  formToken,
  type LinkFailure,
  type SigningKeySource,
  signingKeysFromSecret,
  verifyApprovalLinkWithKeys,
  verifyFormTokenWithKeys,
} from './adapters/approval-link.ts';
import { clientConfig } from './adapters/clients.ts';
import type { ApprovalRecord, Ledger, RunRecord } from './adapters/ledger/index.ts';
import { type RunWorkspace, WorkspaceKeyNotFoundError } from './adapters/workspace.ts';
import { lazyHandler, ledgerFromEnv, regionFromEnv, sfnClient, workspaceFromEnv } from './commons/deps.ts';
import { getNumberFromEnv, getStringFromEnv, recycleBinFromEnv } from './commons/env.ts';
import { createLogger, type HandlerLogger } from './commons/logger.ts';
import { admitUnderCap, deletionSetOf, hashDeletionSet, previewDeletion } from './core/deletion-set.ts';
import type { Plan } from './core/model.ts';
import { planCandidates } from './core/plan.ts';
import { type RecycleBinRetention, savingDelayText } from './core/recycle-bin.ts';
import type { ApprovalDecision, ApprovalResult, RunStatus } from './core/workflow.ts';
import { renderMessage, renderPlanPage } from './views/approval-page.ts';

export interface ApprovalPageDeps {
  readonly ledger: Ledger;
  readonly workspace: RunWorkspace;
  readonly sfn: SFNClient;
  /** The HMAC key (cache it: it is asked for on every request). */
  readonly signingKey: () => Promise<string>;
  /** The key before the last rotation, tried only when a signature fails under the current one. */
  readonly previousSigningKey?: () => Promise<string | undefined>;
  readonly now: () => Date;
  /** For the saving estimate shown before approval (the summary's price). Default: the core's. */
  readonly pricePerGibMonth?: number;
  /** Recycle Bin retention on: the page says when the saving starts. */
  readonly recycleBin?: RecycleBinRetention;
  /** The deployment's region: a plan for another region is refused. Default: not checked. */
  readonly region?: string;
  /** Waits between re-reads of the run after a spent token (tests pass one that returns at once). */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly logger?: HandlerLogger;
}

export interface ApprovalPageResponse extends APIGatewayProxyStructuredResultV2 {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Sent with every response: no scripts, no framing, no referrer (the URL is a credential), no caching. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

const MAX_BODY_BYTES = 8 * 1024;
const MAX_APPROVER_LENGTH = 100;
/** Re-reads of the run after a spent token, one a second: the workflow records its move within seconds. */
const CONFIRM_ATTEMPTS = 10;
const CONFIRM_INTERVAL_MS = 1000;
/** SendTaskSuccess errors meaning the workflow no longer waits for this token. */
const TOKEN_GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

type Refusal = { readonly status: number; readonly title: string; readonly message: string };

const LINK_REFUSALS: Readonly<Record<LinkFailure, Refusal>> = {
  malformed: { status: 400, title: 'Invalid link', message: 'This approval link is incomplete or damaged.' },
  'bad-signature': {
    status: 403,
    title: 'Invalid link',
    message: 'This approval link is not valid. Use the link from the approval email as it was sent.',
  },
  expired: {
    status: 410,
    title: 'Approval expired',
    message: 'This approval has expired. Nothing will be deleted.',
  },
};

const REFUSALS = {
  unknown: { status: 404, title: 'Approval not found', message: 'There is no approval for this link.' },
  used: {
    status: 409,
    title: 'Already used',
    message: 'This approval has already been used. Each approval link can be used once.',
  },
  planChanged: {
    status: 409,
    title: 'Plan changed',
    message:
      'The plan has changed since this page was shown. Nothing was approved; wait for a new approval email.',
  },
  expired: LINK_REFUSALS.expired,
  superseded: {
    status: 409,
    title: 'No longer waiting',
    message:
      'This run no longer waits for this approval: a newer request replaced it, or the run has ended. Use the link in the latest email.',
  },
  formToken: {
    status: 403,
    title: 'Invalid form',
    message: 'This form was not issued for this approval and plan. Open the link from the email again.',
  },
  badInput: { status: 400, title: 'Invalid form', message: 'Enter your name and choose Approve or Reject.' },
  contentType: {
    status: 415,
    title: 'Unsupported form',
    message: 'The form must be sent as a standard HTML form.',
  },
  tooLarge: { status: 413, title: 'Form too large', message: 'The form is larger than this page accepts.' },
  method: { status: 405, title: 'Method not allowed', message: 'Only GET and POST are accepted here.' },
  unconfirmed: {
    status: 202,
    title: 'Decision sent',
    message:
      'Your decision was sent, but the workflow has not confirmed it yet. Do not press again; the run history shows the outcome in a few minutes.',
  },
  unavailable: {
    status: 503,
    title: 'Try again',
    message: 'The workflow could not be reached, so your decision was not recorded. Try again in a minute.',
  },
  failed: {
    status: 500,
    title: 'Something went wrong',
    message: 'The page could not be processed. Nothing was approved or deleted. Try again later.',
  },
} as const satisfies Record<string, Refusal>;

export function createApprovalPageHandler(
  deps: ApprovalPageDeps,
): (event: APIGatewayProxyEventV2) => Promise<ApprovalPageResponse> {
  return async (event) => {
    const method = event.requestContext.http.method.toUpperCase();
    try {
      if (method === 'GET') return await showPlan(deps, event);
      if (method === 'POST') return await decide(deps, event);
    } catch (error) {
      // Still an HTML page with the security headers; only the error's name is logged.
      deps.logger?.error('approval page failed', {
        error: error instanceof Error ? error.name : 'UnknownError',
      });
      return refuse(REFUSALS.failed);
    }
    return { ...refuse(REFUSALS.method), headers: { ...SECURITY_HEADERS, Allow: 'GET, POST' } };
  };
}

// ---------------------------------------------------------------------------------------------
// GET: show the plan, change nothing
// ---------------------------------------------------------------------------------------------

async function showPlan(
  deps: ApprovalPageDeps,
  event: APIGatewayProxyEventV2,
): Promise<ApprovalPageResponse> {
  const query = new URLSearchParams(event.rawQueryString ?? '');
  const key = await deps.signingKey();
  const link = await verifyApprovalLinkWithKeys(
    { a: query.get('a'), e: query.get('e'), s: query.get('s') },
    { current: key, previous: deps.previousSigningKey },
    deps.now(),
  );
  if (!link.ok) return refuse(LINK_REFUSALS[link.reason]);

  const approval = await deps.ledger.getApproval(link.approvalId);
  const state = checkApproval(approval, deps.now());
  if (state.refusal || !approval) return refuse(state.refusal ?? REFUSALS.unknown);

  const run = await deps.ledger.getRun(approval.runId);
  if (!run || !awaits(run, approval)) return refuse(REFUSALS.superseded);
  const verified = await loadVerifiedPlan(deps, approval, run);
  if (!verified) return refuse(REFUSALS.planChanged);

  const plan = verified;
  const hidden = {
    a: query.get('a') ?? '',
    e: query.get('e') ?? '',
    s: query.get('s') ?? '',
    planHash: plan.planHash,
    formToken: formToken(key, approval.approvalId, plan.planHash),
  };
  const cap = plan.maxDeletionsPerRun;
  const admitted = admitUnderCap(planCandidates(plan), plan.orphanSnapshots, cap);
  const deferred = new Set([
    ...admitted.deferredCandidates.map((c) => c.imageId),
    ...admitted.deferredOrphans.map((o) => o.snapshotId),
  ]);
  return respond(
    200,
    renderPlanPage({
      plan,
      runId: approval.runId,
      expiresAt: approval.expiresAt,
      preview: previewDeletion(planCandidates(plan), plan.orphanSnapshots, cap, deps.pricePerGibMonth),
      deferred,
      hidden,
      maxApproverLength: MAX_APPROVER_LENGTH,
      ...(deps.recycleBin ? { savingDelay: savingDelayText(deps.recycleBin) } : {}),
    }),
  );
}

/**
 * The plan the page shows, from one source (the workspace), and only if the deletion set it
 * renders hashes to the approved plan hash, which the run recorded too. Anything else (a plan
 * rewritten, missing, or bound to another hash) is undefined: the page refuses it.
 */
async function loadVerifiedPlan(
  deps: ApprovalPageDeps,
  approval: ApprovalRecord,
  run: RunRecord,
): Promise<Plan | undefined> {
  if (run.planHash !== approval.planHash) return undefined;
  let plan: Plan;
  try {
    plan = await deps.workspace.getJson<Plan>(approval.planKey);
  } catch (error) {
    if (error instanceof WorkspaceKeyNotFoundError) return undefined;
    throw error;
  }
  if (
    plan.planHash !== approval.planHash ||
    !Array.isArray(plan.groups) ||
    !Array.isArray(plan.orphanSnapshots)
  )
    return undefined;
  const cap = plan.maxDeletionsPerRun ?? run.maxDeletionsPerRun;
  const deletion = deletionSetOf(plan.region, planCandidates(plan), plan.orphanSnapshots, cap);
  if (deps.region !== undefined && plan.region !== deps.region) return undefined;
  return hashDeletionSet(deletion) === approval.planHash ? plan : undefined;
}

// ---------------------------------------------------------------------------------------------
// POST: decide once
// ---------------------------------------------------------------------------------------------

async function decide(deps: ApprovalPageDeps, event: APIGatewayProxyEventV2): Promise<ApprovalPageResponse> {
  const contentType = headerValue(event, 'content-type') ?? '';
  if (!contentType.toLowerCase().startsWith('application/x-www-form-urlencoded'))
    return refuse(REFUSALS.contentType);
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) return refuse(REFUSALS.tooLarge);
  const form = new URLSearchParams(text);
  const query = new URLSearchParams(event.rawQueryString ?? '');
  // The hidden fields and the form's action both carry the link; the fields win.
  const param = (name: string): string | null => form.get(name) ?? query.get(name);

  const now = deps.now();
  const keys = { current: await deps.signingKey(), previous: deps.previousSigningKey };
  const link = await verifyApprovalLinkWithKeys({ a: param('a'), e: param('e'), s: param('s') }, keys, now);
  if (!link.ok) return refuse(LINK_REFUSALS[link.reason]);
  const log = { approvalId: link.approvalId };

  const planHash = form.get('planHash') ?? '';
  if (!(await verifyFormTokenWithKeys(keys, link.approvalId, planHash, form.get('formToken')))) {
    deps.logger?.warn('approval refused: bad form token', log);
    return refuse(REFUSALS.formToken);
  }
  const decision = parseDecision(form.get('decision'));
  const approver = parseApprover(form.get('approver'));
  if (!decision || !approver) return refuse(REFUSALS.badInput);

  const approval = await deps.ledger.getApproval(link.approvalId);
  const state = checkApproval(approval, now);
  if (state.refusal || !approval) {
    deps.logger?.warn('approval refused', { ...log, reason: state.refusal?.title ?? 'unknown' });
    return refuse(state.refusal ?? REFUSALS.unknown);
  }
  const run = await deps.ledger.getRun(approval.runId);
  if (!run || !awaits(run, approval)) {
    deps.logger?.warn('approval refused: the run does not wait for it', log);
    return refuse(REFUSALS.superseded);
  }
  // Verified again on POST: the plan may have been rewritten since the page was shown.
  if (planHash !== approval.planHash || !(await loadVerifiedPlan(deps, approval, run))) {
    deps.logger?.warn('approval refused: plan changed', log);
    return refuse(REFUSALS.planChanged);
  }

  const use = await deps.ledger.useApproval(approval.approvalId, { decision, approver, planHash }, now);
  if (!use.used) {
    deps.logger?.warn('approval refused: already used', log);
    return refuse(REFUSALS.used);
  }

  const result: ApprovalResult = { decision, planHash, approver };
  try {
    await deps.sfn.send(
      new SendTaskSuccessCommand({ taskToken: use.taskToken.reveal(), output: JSON.stringify(result) }),
    );
  } catch (error) {
    const name = error instanceof Error ? error.name : 'UnknownError';
    if (TOKEN_GONE.has(name)) {
      // The token is spent: either the wait ended, or an earlier attempt of this very call was
      // delivered and only its answer was lost. The run says which, once it has moved on.
      const after = await runAfterDelivery(deps, approval.runId);
      if (after && actedOn(after.status, decision)) {
        await deps.ledger.settleApproval(approval.approvalId, use.useId);
        deps.logger?.info('approval decided (delivered by an earlier attempt)', { ...log, decision });
        return respond(200, decided(decision, approver));
      }
      if (after?.status === 'AWAITING_APPROVAL') {
        // Not moved on yet: claiming "expired" could be false while the run deletes.
        deps.logger?.warn('approval sent, delivery unconfirmed', { ...log, error: name });
        return refuse(REFUSALS.unconfirmed);
      }
      await deps.ledger.expireApproval(approval.approvalId);
      deps.logger?.warn('approval expired: the workflow no longer waits', { ...log, error: name });
      return refuse(REFUSALS.expired);
    }
    // Not delivered: reopen so the person can retry. Only the error's name is logged, since an
    // SDK error can echo request parts.
    await deps.ledger.reopenApproval(approval.approvalId, decision);
    deps.logger?.error('approval not delivered', { ...log, error: name });
    return refuse(REFUSALS.unavailable);
  }

  await deps.ledger.settleApproval(approval.approvalId, use.useId);
  deps.logger?.info('approval decided', { ...log, decision });
  return respond(200, decided(decision, approver));
}

/** The run, re-read until it leaves AWAITING_APPROVAL (the workflow acts within seconds) or the tries run out. */
async function runAfterDelivery(deps: ApprovalPageDeps, runId: string): Promise<RunRecord | undefined> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let run = await deps.ledger.getRun(runId);
  for (let attempt = 1; attempt < CONFIRM_ATTEMPTS && run?.status === 'AWAITING_APPROVAL'; attempt += 1) {
    await sleep(CONFIRM_INTERVAL_MS);
    run = await deps.ledger.getRun(runId);
  }
  return run;
}

function decided(decision: ApprovalDecision, approver: string): string {
  return decision === 'APPROVED'
    ? renderMessage(
        'Approved',
        `Thank you, ${approver}. The plan is approved; the workflow now deletes the AMIs and snapshots it lists.`,
      )
    : renderMessage('Rejected', `Thank you, ${approver}. The plan is rejected; nothing will be deleted.`);
}

/** The run is waiting, and waiting for this very approval (a retried request replaces it). */
function awaits(run: RunRecord, approval: ApprovalRecord): boolean {
  return run.status === 'AWAITING_APPROVAL' && run.approvalId === approval.approvalId;
}

/** Statuses a run reaches only once the workflow received this decision. */
function actedOn(status: RunStatus, decision: ApprovalDecision): boolean {
  if (decision === 'REJECTED') return status === 'REJECTED';
  return status === 'DELETING' || status === 'COMPLETED' || status === 'COMPLETED_WITH_FAILURES';
}

function checkApproval(approval: ApprovalRecord | undefined, now: Date): { refusal?: Refusal } {
  if (!approval) return { refusal: REFUSALS.unknown };
  if (approval.status === 'EXPIRED') return { refusal: REFUSALS.expired };
  if (approval.status !== 'PENDING') return { refusal: REFUSALS.used };
  if (Date.parse(approval.expiresAt) <= now.getTime()) return { refusal: REFUSALS.expired };
  return {};
}

function parseDecision(value: string | null): ApprovalDecision | undefined {
  if (value === 'APPROVE') return 'APPROVED';
  if (value === 'REJECT') return 'REJECTED';
  return undefined;
}

function parseApprover(value: string | null): string | undefined {
  // Control characters would end up in the ledger and the execution history.
  const name = (value ?? '').replace(/[\p{Cc}\p{Cf}]/gu, ' ').trim();
  return name.length > 0 && name.length <= MAX_APPROVER_LENGTH ? name : undefined;
}

function headerValue(event: APIGatewayProxyEventV2, name: string): string | undefined {
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === name) return value;
  }
  return undefined;
}

function respond(statusCode: number, body: string): ApprovalPageResponse {
  return { statusCode, headers: { ...SECURITY_HEADERS }, body };
}

function refuse(refusal: Refusal): ApprovalPageResponse {
  return respond(refusal.status, renderMessage(refusal.title, refusal.message));
}

// ---------------------------------------------------------------------------------------------
// Lambda entry point
// ---------------------------------------------------------------------------------------------

export const handler = lazyHandler(() =>
  createApprovalPageHandler({
    ledger: ledgerFromEnv(),
    workspace: workspaceFromEnv(),
    sfn: sfnClient(),
    ...pageSigningKeys(
      signingKeysFromSecret(
        new SecretsManagerClient(clientConfig()),
        getStringFromEnv('APPROVAL_SIGNING_SECRET_ARN'),
      ),
    ),
    now: () => new Date(),
    pricePerGibMonth: getNumberFromEnv('SNAPSHOT_PRICE_PER_GIB_MONTH', { min: 0 }),
    ...recycleBinFromEnv(),
    region: regionFromEnv(),
    logger: createLogger('approval-page'),
  }),
);

function pageSigningKeys(
  keys: SigningKeySource,
): Pick<ApprovalPageDeps, 'signingKey' | 'previousSigningKey'> {
  return { signingKey: keys.current, previousSigningKey: keys.previous };
}
