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
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  formToken,
  type SigningKeySource,
  signingKeysFromSecret,
  verifyApprovalLinkWithKeys,
  verifyFormTokenWithKeys,
} from './adapters/approval-link.ts';
import { clientConfig } from './adapters/clients.ts';
import type { ApprovalRecord, Ledger, TaskToken } from './adapters/ledger/index.ts';
import type { RunWorkspace } from './adapters/workspace.ts';
import {
  approvalsSoFar,
  awaits,
  checkApproval,
  checkPersonalLink,
  decidedRefusal,
  expiredLinkAnswer,
  isDecided,
  voteRefusal,
} from './commons/approval-answers.ts';
import { deliverAndRecord } from './commons/approval-delivery.ts';
import { loadVerifiedPlan, noSuchPage, parsePage } from './commons/approval-plan.ts';
import { lazyHandler, ledgerFromEnv, regionFromEnv, sfnClient, workspaceFromEnv } from './commons/deps.ts';
import { getNumberFromEnv, getStringFromEnv, recycleBinFromEnv } from './commons/env.ts';
import { createLogger, type HandlerLogger } from './commons/logger.ts';
import { type DecisionOrigin, decisionOrigin } from './core/approvers.ts';
import { planView } from './core/plan-view.ts';
import { type RecycleBinRetention, savingDelayText } from './core/recycle-bin.ts';
import type { ApprovalDecision, ApprovalResult } from './core/workflow.ts';
import { REFUSALS, type Refusal } from './views/approval-answers.ts';
import { renderMessage, renderPlanPage } from './views/approval-page.ts';
import { recordedVoteMessage } from './views/approvals-so-far.ts';

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
    { a: query.get('a'), e: query.get('e'), s: query.get('s'), r: query.get('r') },
    { current: key, previous: deps.previousSigningKey },
    deps.now(),
  );
  if (!link.ok) return refuse(await expiredLinkAnswer(deps, link.reason, query.get('a')));

  const approval = await deps.ledger.getApproval(link.approvalId);
  const personal = checkPersonalLink(approval, link.approver);
  if (personal) return refuse(personal);
  if (approval && isDecided(approval)) return refuse(await decidedRefusal(deps, approval));
  const state = checkApproval(approval, deps.now());
  if (state.refusal || !approval) return refuse(state.refusal ?? REFUSALS.unknown);

  const run = await deps.ledger.getRun(approval.runId);
  if (!run || !awaits(run, approval)) return refuse(REFUSALS.superseded);
  const verified = await loadVerifiedPlan(deps, approval, run);
  if (!verified) return refuse(REFUSALS.planChanged);

  const plan = verified;
  const page = parsePage(query);
  if (page === undefined) return refuse(REFUSALS.badPage);
  const view = planView(plan, deps.pricePerGibMonth);
  if (page > view.pageCount) return refuse(noSuchPage(view.pageCount));
  const hidden = {
    a: query.get('a') ?? '',
    e: query.get('e') ?? '',
    s: query.get('s') ?? '',
    planHash: plan.planHash,
    formToken: formToken(key, approval.approvalId, plan.planHash, link.approver),
    ...(link.approver === undefined ? {} : { r: link.approver }),
  };
  return respond(
    200,
    renderPlanPage({
      view,
      page,
      runId: approval.runId,
      expiresAt: approval.expiresAt,
      hidden,
      maxApproverLength: MAX_APPROVER_LENGTH,
      ...(link.approver === undefined ? {} : { approvalsSoFar: approvalsSoFar(approval, link.approver) }),
      ...(deps.recycleBin ? { savingDelay: savingDelayText(deps.recycleBin) } : {}),
    }),
  );
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
  const link = await verifyApprovalLinkWithKeys(
    { a: param('a'), e: param('e'), s: param('s'), r: param('r') },
    keys,
    now,
  );
  if (!link.ok) return refuse(await expiredLinkAnswer(deps, link.reason, param('a')));
  const log = { approvalId: link.approvalId };

  const planHash = form.get('planHash') ?? '';
  if (
    !(await verifyFormTokenWithKeys(keys, link.approvalId, planHash, form.get('formToken'), link.approver))
  ) {
    deps.logger?.warn('approval refused: bad form token', log);
    return refuse(REFUSALS.formToken);
  }
  const decision = parseDecision(form.get('decision'));
  const approver = parseApprover(form.get('approver'));
  if (!decision || !approver) return refuse(REFUSALS.badInput);

  const origin = decisionOrigin(event.requestContext?.http?.sourceIp, event.requestContext?.http?.userAgent);

  const approval = await deps.ledger.getApproval(link.approvalId);
  const personal = checkPersonalLink(approval, link.approver);
  if (personal) {
    deps.logger?.warn('approval refused', { ...log, reason: personal.title });
    return refuse(personal);
  }
  if (approval && isDecided(approval)) return refuse(await decidedRefusal(deps, approval));
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

  if (link.approver !== undefined) {
    return decideAsApprover(
      deps,
      approval,
      { approver: link.approver, decision, planHash, comment: approver, origin },
      now,
    );
  }

  const use = await deps.ledger.useApproval(
    approval.approvalId,
    { decision, approver, planHash, origin },
    now,
  );
  if (!use.used) {
    deps.logger?.warn('approval refused: already used', log);
    // Decided by another press in between: say what was decided.
    const current = await deps.ledger.getApproval(approval.approvalId);
    return refuse(current && isDecided(current) ? await decidedRefusal(deps, current) : REFUSALS.used);
  }
  return deliver(deps, approval, { decision, planHash, approver }, use, {
    reopen: () => deps.ledger.reopenApproval(approval.approvalId, decision),
    done: decided(decision, approver),
  });
}

/**
 * A named approver's decision: one vote, recorded under the address the link was sent to. Only
 * the vote that reaches the quorum (or a rejection) gets the task token and resumes the workflow.
 */
async function decideAsApprover(
  deps: ApprovalPageDeps,
  approval: ApprovalRecord,
  vote: {
    approver: string;
    decision: ApprovalDecision;
    planHash: string;
    comment: string;
    origin: DecisionOrigin;
  },
  now: Date,
): Promise<ApprovalPageResponse> {
  const log = { approvalId: approval.approvalId };
  const cast = await deps.ledger.castVote(approval.approvalId, vote, now);
  if (cast.outcome === 'refused') {
    deps.logger?.warn('vote refused', { ...log, reason: cast.reason });
    return refuse(voteRefusal(cast.reason));
  }
  if (cast.outcome === 'recorded') {
    deps.logger?.info('vote recorded', {
      ...log,
      approvals: cast.tally.approvedBy.length,
      required: cast.tally.required,
    });
    return respond(200, renderMessage('Approval recorded', recordedVoteMessage(cast.tally, vote.approver)));
  }
  const approvers = vote.decision === 'APPROVED' ? cast.tally.approvedBy : [vote.approver];
  const result: ApprovalResult = {
    decision: vote.decision,
    planHash: vote.planHash,
    approver: approvers.join(', '),
    approvers,
  };
  return deliver(deps, approval, result, cast, {
    reopen: () => deps.ledger.reopenVote(approval.approvalId, vote.approver, vote.decision, cast.useId),
    done: decided(vote.decision, `${vote.comment} (${vote.approver})`),
  });
}

/** Sends a decision the ledger recorded, and answers what became of it. */
async function deliver(
  deps: ApprovalPageDeps,
  approval: ApprovalRecord,
  result: ApprovalResult,
  use: { readonly taskToken: TaskToken; readonly useId: string },
  then: { readonly reopen: () => Promise<boolean>; readonly done: string },
): Promise<ApprovalPageResponse> {
  const log = { approvalId: approval.approvalId, decision: result.decision };
  const delivery = await deliverAndRecord(deps, approval, result, use, then.reopen);
  if (delivery.outcome === 'delivered' || delivery.outcome === 'delivered-earlier') {
    deps.logger?.info('approval decided', { ...log, delivery: delivery.outcome });
    return respond(200, then.done);
  }
  const refusal = {
    unconfirmed: REFUSALS.unconfirmed,
    expired: REFUSALS.expired,
    unavailable: REFUSALS.unavailable,
  }[delivery.outcome];
  deps.logger?.warn('approval not delivered', { ...log, delivery: delivery.outcome, error: delivery.error });
  return refuse(refusal);
}

function decided(decision: ApprovalDecision, approver: string): string {
  return decision === 'APPROVED'
    ? renderMessage(
        'Approved',
        `Thank you, ${approver}. The plan is approved; the workflow now deletes the AMIs and snapshots it lists.`,
      )
    : renderMessage('Rejected', `Thank you, ${approver}. The plan is rejected; nothing will be deleted.`);
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
