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
  cachedSecretString,
  formToken,
  type LinkFailure,
  verifyApprovalLink,
  verifyFormToken,
} from './adapters/approval-link.ts';
import { clientConfig } from './adapters/clients.ts';
import type { ApprovalRecord, Ledger, LedgerItem, RunRecord } from './adapters/ledger/index.ts';
import { type RunWorkspace, WorkspaceKeyNotFoundError } from './adapters/workspace.ts';
import { lazyHandler, ledgerFromEnv, sfnClient, workspaceFromEnv } from './commons/deps.ts';
import { getStringFromEnv } from './commons/env.ts';
import { createLogger, type HandlerLogger } from './commons/logger.ts';
import type { KeepReason, Plan, PlanGroup } from './core/model.ts';
import type { ApprovalDecision, ApprovalResult, RunStatus } from './core/workflow.ts';

export interface ApprovalPageDeps {
  readonly ledger: Ledger;
  readonly workspace: RunWorkspace;
  readonly sfn: SFNClient;
  /** The HMAC key (cache it: it is asked for on every request). */
  readonly signingKey: () => Promise<string>;
  readonly now: () => Date;
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
  const link = verifyApprovalLink(
    { a: query.get('a'), e: query.get('e'), s: query.get('s') },
    key,
    deps.now(),
  );
  if (!link.ok) return refuse(LINK_REFUSALS[link.reason]);

  const approval = await deps.ledger.getApproval(link.approvalId);
  const state = checkApproval(approval, deps.now());
  if (state.refusal || !approval) return refuse(state.refusal ?? REFUSALS.unknown);

  const run = await deps.ledger.getRun(approval.runId);
  if (!awaits(run, approval)) return refuse(REFUSALS.superseded);
  let plan: Plan;
  try {
    plan = await deps.workspace.getJson<Plan>(approval.planKey);
  } catch (error) {
    if (error instanceof WorkspaceKeyNotFoundError) return refuse(REFUSALS.planChanged);
    throw error;
  }
  if (plan.planHash !== approval.planHash || run?.planHash !== approval.planHash)
    return refuse(REFUSALS.planChanged);

  const items = await deps.ledger.listItems(approval.runId);
  const deferred = new Set(items.filter((item) => item.status === 'DEFERRED').map((item) => item.id));
  const hidden = {
    a: query.get('a') ?? '',
    e: query.get('e') ?? '',
    s: query.get('s') ?? '',
    planHash: plan.planHash,
    formToken: formToken(key, approval.approvalId, plan.planHash),
  };
  return respond(200, renderPlanPage(plan, approval, deferred, hidden, items));
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
  const key = await deps.signingKey();
  const link = verifyApprovalLink({ a: param('a'), e: param('e'), s: param('s') }, key, now);
  if (!link.ok) return refuse(LINK_REFUSALS[link.reason]);
  const log = { approvalId: link.approvalId };

  const planHash = form.get('planHash') ?? '';
  if (!verifyFormToken(key, link.approvalId, planHash, form.get('formToken'))) {
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
  if (!awaits(run, approval)) {
    deps.logger?.warn('approval refused: the run does not wait for it', log);
    return refuse(REFUSALS.superseded);
  }
  if (planHash !== approval.planHash || run?.planHash !== approval.planHash) {
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
      // The token is spent: either it expired, or an earlier attempt of this very call was
      // delivered and only its answer was lost. A run that already acted on the decision says which.
      const after = await deps.ledger.getRun(approval.runId);
      if (after && actedOn(after.status, decision)) {
        deps.logger?.info('approval decided (delivered by an earlier attempt)', { ...log, decision });
        return respond(200, decided(decision, approver));
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

  deps.logger?.info('approval decided', { ...log, decision });
  return respond(200, decided(decision, approver));
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
function awaits(run: RunRecord | undefined, approval: ApprovalRecord): boolean {
  return run?.status === 'AWAITING_APPROVAL' && run.approvalId === approval.approvalId;
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

// ---------------------------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------------------------

export function escapeHtml(value: unknown): string {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;line-height:1.5;margin:0;color:#1b1b1b;background:#fff}
main{max-width:72rem;margin:0 auto;padding:1rem 1.5rem 3rem}
.scroll{overflow-x:auto}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem}h3{font-size:1.05rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border:1px solid #8a8a8a;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#eef0f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
code{font-family:ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere}td code{overflow-wrap:normal;white-space:nowrap}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0}
.notice{border-left:4px solid #8a5a00;background:#fff8e5;padding:.5rem 1rem}
form{margin-top:2rem;padding:1rem;border:2px solid #1b1b1b;max-width:32rem}
label{display:block;font-weight:600;margin-bottom:.25rem}
input[type=text]{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box;border:2px solid #555}
.actions{display:flex;gap:1rem;margin-top:1rem}
button{font-size:1rem;padding:.5rem 1.25rem;border:2px solid #1b1b1b;cursor:pointer}
button.approve{background:#0b5d1e;color:#fff}button.reject{background:#fff;color:#8b0000;border-color:#8b0000}
:focus-visible{outline:3px solid #1a5fb4;outline-offset:2px}
`;

function htmlDocument(title: string, content: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${escapeHtml(title)} · ami-cleaner</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${content}
</main>
</body>
</html>
`;
}

function renderMessage(title: string, message: string): string {
  return htmlDocument(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>`);
}

const REASONS: Readonly<Record<KeepReason, string>> = {
  NO_MAPPING: 'Lacks the mapping (excluded group)',
  EXCLUDED_MAPPING_VALUE: 'Excluded mapping value',
  IN_USE: 'In use',
  KEEP_PREVIOUS: 'Among the newest kept',
  MIN_AGE: 'Younger than the minimum age',
  OPT_OUT_TAG: 'Carries the opt-out tag',
  DEREGISTRATION_PROTECTION: 'Deregistration protection',
  SHARED: 'Public or shared with other accounts',
  NOT_AVAILABLE: 'Not available',
  NOT_REQUESTED: 'Not among the requested AMI IDs',
  MAX_DELETIONS_PER_RUN: 'Deferred to a later run',
  AWS_REPORTS_IN_USE: 'In use according to AWS (not found by our inventory)',
};

function renderGroup(group: PlanGroup, deferred: ReadonlySet<string>): string {
  const parts = [`<section>\n<h2>Group ${escapeHtml(group.name)}</h2>`];
  if (group.candidates.length > 0) {
    const rows = group.candidates.map((c) => {
      const size = c.snapshots.reduce((sum, s) => sum + s.sizeGiB, 0);
      const action = deferred.has(c.imageId) ? 'Deferred to a later run' : 'Delete';
      return `<tr><td><code>${escapeHtml(c.imageId)}</code></td><td>${escapeHtml(c.name)}</td><td>${escapeHtml(
        c.creationDate,
      )}</td><td>${c.snapshots.map((s) => `<code>${escapeHtml(s.snapshotId)}</code>`).join('<br>')}</td><td class="num">${escapeHtml(
        size,
      )}</td><td>${action}</td></tr>`;
    });
    parts.push(
      table(
        `AMIs to delete in ${group.name} (${group.candidates.length})`,
        ['AMI ID', 'Name', 'Creation Date', 'Snapshots', 'Size GiB', 'This run'],
        rows,
      ),
    );
  } else {
    parts.push('<p>No AMIs to delete in this group.</p>');
  }
  if (group.kept.length > 0) {
    const rows = group.kept.map(
      (k) =>
        `<tr><td><code>${escapeHtml(k.imageId)}</code></td><td>${escapeHtml(k.name)}</td><td>${escapeHtml(
          k.creationDate,
        )}</td><td>${escapeHtml(REASONS[k.reason] ?? k.reason)}${
          k.detail ? `: ${escapeHtml(k.detail)}` : ''
        }</td></tr>`,
    );
    parts.push(
      table(
        `AMIs kept in ${group.name} (${group.kept.length})`,
        ['AMI ID', 'Name', 'Creation Date', 'Reason'],
        rows,
      ),
    );
  }
  parts.push('</section>');
  return parts.join('\n');
}

function plural(n: number, word: string): string {
  return `${escapeHtml(n)} ${word}${n === 1 ? '' : 's'}`;
}

function table(caption: string, headings: readonly string[], rows: readonly string[]): string {
  const head = headings.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('');
  // The wrapper scrolls a wide table on a phone instead of the whole page.
  return `<div class="scroll">\n<table>\n<caption>${escapeHtml(caption)}</caption>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${rows.join(
    '\n',
  )}\n</tbody>\n</table>\n</div>`;
}

function renderPlanPage(
  plan: Plan,
  approval: ApprovalRecord,
  deferred: ReadonlySet<string>,
  hidden: Readonly<Record<'a' | 'e' | 's' | 'planHash' | 'formToken', string>>,
  items: readonly LedgerItem[],
): string {
  const t = plan.totals;
  const deferredCount = items.filter((item) => item.status === 'DEFERRED').length;
  const action = `?${new URLSearchParams({ a: hidden.a, e: hidden.e, s: hidden.s }).toString()}`;
  const orphanRows = plan.orphanSnapshots.map(
    (o) =>
      `<tr><td><code>${escapeHtml(o.snapshotId)}</code></td><td><code>${escapeHtml(o.imageId)}</code></td><td class="num">${escapeHtml(
        o.sizeGiB,
      )}</td><td>${escapeHtml(o.description)}</td><td>${deferred.has(o.snapshotId) ? 'Deferred to a later run' : 'Delete'}</td></tr>`,
  );
  const content = [
    `<h1>Approve AMI cleanup in ${escapeHtml(plan.region)}?</h1>`,
    '<p>Review the plan below. Nothing is deleted until you press <strong>Approve</strong>.</p>',
    // The plan can list hundreds of kept AMIs; the decision is one jump away.
    '<p><a href="#decision">Go to the decision</a> at the end of the plan.</p>',
    '<dl>',
    `<dt>Region</dt><dd>${escapeHtml(plan.region)}</dd>`,
    `<dt>Plan hash</dt><dd><code>${escapeHtml(plan.planHash)}</code></dd>`,
    `<dt>Planned at</dt><dd>${escapeHtml(plan.createdAt)}</dd>`,
    `<dt>Run</dt><dd><code>${escapeHtml(approval.runId)}</code></dd>`,
    `<dt>Approval expires</dt><dd>${escapeHtml(approval.expiresAt)}</dd>`,
    '</dl>',
    '<h2>Totals</h2>',
    '<ul>',
    `<li>${plural(t.candidates, 'AMI')} to delete, with ${plural(t.candidateSnapshots, 'snapshot')} (${escapeHtml(
      t.candidateSizeGiB,
    )} GiB)</li>`,
    `<li>${plural(t.orphanSnapshots, 'orphan snapshot')} (${escapeHtml(t.orphanSizeGiB)} GiB)</li>`,
    `<li>${plural(t.kept, 'AMI')} kept</li>`,
    '</ul>',
    deferredCount > 0
      ? `<p class="notice">${escapeHtml(deferredCount)} of these exceed the per-run deletion limit; they are marked "Deferred" and are left for a later run.</p>`
      : '',
    ...plan.groups.map((group) => renderGroup(group, deferred)),
    '<section>',
    '<h2>Orphan snapshots</h2>',
    orphanRows.length > 0
      ? table(
          `Orphan snapshots to delete (${orphanRows.length})`,
          ['Snapshot ID', 'Former AMI', 'Size GiB', 'Description', 'This run'],
          orphanRows,
        )
      : '<p>No orphan snapshots in this plan.</p>',
    '</section>',
    `<form id="decision" method="post" action="${escapeHtml(action)}">`,
    '<h2>Your decision</h2>',
    ...Object.entries(hidden).map(
      ([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`,
    ),
    '<label for="approver">Your name</label>',
    `<input type="text" id="approver" name="approver" required maxlength="${MAX_APPROVER_LENGTH}" autocomplete="name">`,
    '<div class="actions">',
    '<button type="submit" class="approve" name="decision" value="APPROVE">Approve</button>',
    '<button type="submit" class="reject" name="decision" value="REJECT">Reject</button>',
    '</div>',
    '</form>',
  ];
  return htmlDocument(
    `Approve AMI cleanup in ${plan.region}`,
    content.filter((line) => line !== '').join('\n'),
  );
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
    signingKey: cachedSecretString(
      new SecretsManagerClient(clientConfig()),
      getStringFromEnv('APPROVAL_SIGNING_SECRET_ARN'),
    ),
    now: () => new Date(),
    logger: createLogger('approval-page'),
  }),
);
