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
  type LinkFailure,
  type SigningKeySource,
  signingKeysFromSecret,
  verifyApprovalLinkWithKeys,
  verifyFormTokenWithKeys,
} from './adapters/approval-link.ts';
import { clientConfig } from './adapters/clients.ts';
import type { ApprovalRecord, Ledger, RunRecord, TaskToken, VoteRefusal } from './adapters/ledger/index.ts';
import type { RunWorkspace } from './adapters/workspace.ts';
import { actedOn, deliverAndRecord, runAfterDelivery } from './commons/approval-delivery.ts';
import { loadVerifiedPlan, noSuchPage, parsePage } from './commons/approval-plan.ts';
import { lazyHandler, ledgerFromEnv, regionFromEnv, sfnClient, workspaceFromEnv } from './commons/deps.ts';
import { getNumberFromEnv, getStringFromEnv } from './commons/env.ts';
import { createLogger, type HandlerLogger } from './commons/logger.ts';
import { type DecisionOrigin, decisionOrigin, tallyVotes } from './core/approvers.ts';
import { planView } from './core/plan-view.ts';
import type { ApprovalDecision, ApprovalResult, RunStatus } from './core/workflow.ts';
import { decidedAnswer, LINK_REFUSALS, REFUSALS, type Refusal } from './views/approval-answers.ts';
import { renderMessage, renderPlanPage } from './views/approval-page.ts';
import { recordedVoteMessage, renderApprovalsSoFar } from './views/approvals-so-far.ts';

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
  if (!link.ok) return refuseLink(deps, link.reason, query.get('a'));

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
  if (!link.ok) return refuseLink(deps, link.reason, param('a'));
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

/**
 * A link whose signature is valid but whose time ran out may belong to an approval that was
 * decided in time: that decision is the truth, not "expired, nothing will be deleted".
 */
async function refuseLink(
  deps: ApprovalPageDeps,
  reason: LinkFailure,
  approvalId: string | null,
): Promise<ApprovalPageResponse> {
  if (reason !== 'expired' || !approvalId) return refuse(LINK_REFUSALS[reason]);
  const approval = await deps.ledger.getApproval(approvalId);
  return refuse(
    approval && isDecided(approval) ? await decidedRefusal(deps, approval) : LINK_REFUSALS[reason],
  );
}

function isDecided(approval: ApprovalRecord): boolean {
  return approval.status === 'APPROVED' || approval.status === 'REJECTED';
}

/**
 * What a decided approval's link answers: the recorded decision, received by the workflow if the
 * page saw it delivered or the run has acted on it (re-read while the run still waits, as after a
 * spent token), otherwise not yet confirmed. A GET reads only; nothing is re-sent.
 */
async function decidedRefusal(deps: ApprovalPageDeps, approval: ApprovalRecord): Promise<Refusal> {
  const decision = approval.status as ApprovalDecision;
  const recorded = {
    decision,
    approver: approval.approver ?? 'an unnamed approver',
    decidedAt: approval.decidedAt ?? 'an unrecorded time',
    expiresAt: approval.expiresAt,
  };
  if (approval.deliveredAt !== undefined) return decidedAnswer(recorded, true);
  const run = await runAfterDelivery(
    { getRun: (runId) => deps.ledger.getRun(runId), ...(deps.sleep ? { sleep: deps.sleep } : {}) },
    approval.runId,
  );
  if (run?.approvalId === approval.approvalId && actedOn(run.status, decision))
    return decidedAnswer(recorded, true);
  // The run ended without acting on it (it expired, or was stopped): that is what the link says.
  if (run && !awaits(run, approval)) return REFUSALS.superseded;
  return decidedAnswer(recorded, false);
}

/** The run is waiting, and waiting for this very approval (a retried request replaces it). */
function awaits(run: RunRecord, approval: ApprovalRecord): boolean {
  return run.status === 'AWAITING_APPROVAL' && run.approvalId === approval.approvalId;
}

/**
 * A personal link (`r`) belongs to an approval with named approvers, and names one of them; the
 * shared link belongs to an approval without. Anything else is refused before any decision.
 */
function checkPersonalLink(
  approval: ApprovalRecord | undefined,
  approver: string | undefined,
): Refusal | undefined {
  if (!approval) return undefined;
  if (approval.approvers === undefined) return approver === undefined ? undefined : REFUSALS.notAnApprover;
  if (approver === undefined) return REFUSALS.personalLinkNeeded;
  return approval.approvers.includes(approver) ? undefined : REFUSALS.notAnApprover;
}

function voteRefusal(reason: VoteRefusal): Refusal {
  const refusals: Readonly<Record<VoteRefusal, Refusal>> = {
    unknown: REFUSALS.unknown,
    'not-pending': REFUSALS.used,
    'not-an-approver': REFUSALS.notAnApprover,
    'plan-changed': REFUSALS.planChanged,
    expired: REFUSALS.expired,
    'already-voted': REFUSALS.alreadyVoted,
    contention: REFUSALS.unavailable,
  };
  return refusals[reason];
}

function approvalsSoFar(approval: ApprovalRecord, viewer: string): string {
  const votes = approval.votes ?? {};
  const tally = tallyVotes(
    votes,
    approval.approvers ?? [],
    approval.requiredApprovals ?? 1,
    approval.planHash,
  );
  return renderApprovalsSoFar({ tally, votes, viewer });
}

function checkApproval(approval: ApprovalRecord | undefined, now: Date): { refusal?: Refusal } {
  if (!approval) return { refusal: REFUSALS.unknown };
  if (approval.status === 'EXPIRED') return { refusal: REFUSALS.expired };
  if (approval.status === 'REJECTED' && approval.approvers) return { refusal: REFUSALS.rejectedByAnother };
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
    region: regionFromEnv(),
    logger: createLogger('approval-page'),
  }),
);

function pageSigningKeys(
  keys: SigningKeySource,
): Pick<ApprovalPageDeps, 'signingKey' | 'previousSigningKey'> {
  return { signingKey: keys.current, previousSigningKey: keys.previous };
}
