/**
 * Hostile requests to the approval page of a real run that waits for approval (the real ASL, the
 * real handlers, the page on a loopback port). Each row is one request a forger, a mail scanner
 * or a confused client could send; each must get a 4xx page with a heading that says why, and
 * change nothing: the approval stays PENDING, the workflow is not resumed, nothing is deleted.
 * The run is withdrawn at the end and must end WITHDRAWN with every seeded resource still there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formToken, signApprovalLink } from '../../functions/adapters/approval-link.ts';
import { startWorkflowHarness, type WorkflowHarness } from '../workflow/harness.ts';
import { hostile } from './count.ts';
import { startWaitingRun, stillWaiting, type WaitingRun } from './waiting-run.ts';

const SIGNING_SECRET_ID = 'ami-cleaner/approval-signing-key';
const RUN_ID = 'hostile-approval';

let waiting: WaitingRun;
let h: WorkflowHarness;
let request: WaitingRun['request'];
let genuine: Readonly<Record<string, string>>;

beforeAll(async () => {
  waiting = await startWaitingRun(RUN_ID);
  ({ h, request, form: genuine } = waiting);
});

afterAll(async () => {
  const execution = await waiting.end();
  expect(execution.result.output).toMatchObject({
    status: 'WITHDRAWN',
    deregistered: 0,
    snapshotsDeleted: 0,
  });
});

const signingKey = () => h.stack.control.secrets.get(SIGNING_SECRET_ID)?.value ?? '';
const link = () => new URL(request.link);
const param = (name: string) => link().searchParams.get(name) ?? '';
const withParams = (changes: Record<string, string>) => {
  const url = link();
  for (const [name, value] of Object.entries(changes)) url.searchParams.set(name, value);
  return url.toString();
};
const approveForm = (changes: Record<string, string> = {}) =>
  new URLSearchParams({ ...genuine, approver: 'Mallory', decision: 'APPROVE', ...changes }).toString();
const FORM = 'application/x-www-form-urlencoded';

interface HostileRequest {
  readonly url?: () => string;
  readonly method?: string;
  readonly headers?: () => Record<string, string>;
  readonly body?: () => string;
  /** The 4xx the page must answer (or 200 for a GET, which must merely change nothing). */
  readonly status: number;
  /** Refused before the page (the Function URL's own body limit): no HTML heading. */
  readonly byTheUrl?: true;
}

const cases: readonly [string, HostileRequest][] = [
  ['GET with a forged signature', { url: () => withParams({ s: 'A'.repeat(43) }), status: 403 }],
  [
    'GET with a link signed by another key',
    {
      url: () =>
        signApprovalLink({
          baseUrl: `${link().origin}/`,
          approvalId: param('a'),
          expiresAt: new Date(Number(param('e')) * 1000),
          key: 'not-the-key',
        }),
      status: 403,
    },
  ],
  [
    'GET with the expiry moved a day later (signature no longer matches)',
    {
      url: () => withParams({ e: String(Number(param('e')) + 86_400) }),
      status: 403,
    },
  ],
  [
    'GET with a genuinely signed but expired link',
    {
      url: () =>
        signApprovalLink({
          baseUrl: `${link().origin}/`,
          approvalId: param('a'),
          expiresAt: new Date(Date.now() - 60_000),
          key: signingKey(),
        }),
      status: 410,
    },
  ],
  [
    'GET for another approval id',
    { url: () => withParams({ a: 'ffffffff-0000-4000-8000-000000000000' }), status: 403 },
  ],
  [
    'GET without the signature',
    { url: () => `${link().origin}/?a=${param('a')}&e=${param('e')}`, status: 400 },
  ],
  [
    'GET with a script in the approval id',
    { url: () => withParams({ a: '<script>alert(1)</script>' }), status: 400 },
  ],
  [
    'GET that tries to approve through the query',
    { url: () => withParams({ decision: 'APPROVE', approver: 'Scanner' }), status: 200 },
  ],
  // The page number is the one parameter a person may change: every other value of it is refused.
  ['GET page=-1', { url: () => withParams({ page: '-1' }), status: 400 }],
  ['GET page=0', { url: () => withParams({ page: '0' }), status: 400 }],
  ['GET page=NaN', { url: () => withParams({ page: 'NaN' }), status: 400 }],
  ['GET page=1.5', { url: () => withParams({ page: '1.5' }), status: 400 }],
  ['GET page=1e3', { url: () => withParams({ page: '1e3' }), status: 400 }],
  ['GET page=01', { url: () => withParams({ page: '01' }), status: 400 }],
  ['GET page=<script>', { url: () => withParams({ page: '<script>alert(1)</script>' }), status: 400 }],
  ['GET page past the last', { url: () => withParams({ page: '999999999' }), status: 404 }],
  [
    'GET page=huge (past Number.MAX_SAFE_INTEGER)',
    { url: () => withParams({ page: '9'.repeat(400) }), status: 400 },
  ],
  ['GET with the page parameter repeated', { url: () => `${request.link}&page=1&page=1`, status: 400 }],
  [
    'GET page=1 with a forged signature',
    { url: () => withParams({ page: '1', s: 'A'.repeat(43) }), status: 403 },
  ],
  [
    'GET page=1 with the signature moved into the page parameter',
    { url: () => `${link().origin}/?a=${param('a')}&e=${param('e')}&page=${param('s')}`, status: 400 },
  ],
  ['HEAD (a link prefetcher)', { method: 'HEAD', status: 405 }],
  [
    'PUT with an approving form',
    { method: 'PUT', headers: () => ({ 'content-type': FORM }), body: () => approveForm(), status: 405 },
  ],
  ['DELETE', { method: 'DELETE', status: 405 }],
  [
    'PATCH with an approving form',
    { method: 'PATCH', headers: () => ({ 'content-type': FORM }), body: () => approveForm(), status: 405 },
  ],
  [
    'GET carrying X-HTTP-Method-Override: POST',
    { method: 'GET', headers: () => ({ 'x-http-method-override': 'POST' }), status: 200 },
  ],
  [
    'POST with a forged link signature',
    {
      method: 'POST',
      headers: () => ({ 'content-type': FORM }),
      body: () => approveForm({ s: 'B'.repeat(43) }),
      status: 403,
    },
  ],
  [
    'POST without a form token',
    {
      method: 'POST',
      headers: () => ({ 'content-type': FORM }),
      body: () => approveForm({ formToken: '' }),
      status: 403,
    },
  ],
  [
    'POST with a form token signed by another key',
    {
      method: 'POST',
      headers: () => ({ 'content-type': FORM }),
      body: () => approveForm({ formToken: formToken('not-the-key', param('a'), genuine.planHash ?? '') }),
      status: 403,
    },
  ],
  [
    'POST with another plan hash (and its genuine form token)',
    {
      method: 'POST',
      headers: () => ({ 'content-type': FORM }),
      body: () =>
        approveForm({
          planHash: 'f'.repeat(64),
          formToken: formToken(signingKey(), param('a'), 'f'.repeat(64)),
        }),
      status: 409,
    },
  ],
  [
    'POST with the plan hash changed but the old form token',
    {
      method: 'POST',
      headers: () => ({ 'content-type': FORM }),
      body: () => approveForm({ planHash: '0'.repeat(64) }),
      status: 403,
    },
  ],
  [
    'POST as JSON',
    {
      method: 'POST',
      headers: () => ({ 'content-type': 'application/json' }),
      body: () => JSON.stringify({ ...genuine, approver: 'M', decision: 'APPROVE' }),
      status: 415,
    },
  ],
  [
    'POST as text/plain (a cross-site simple request)',
    {
      method: 'POST',
      headers: () => ({ 'content-type': 'text/plain' }),
      body: () => approveForm(),
      status: 415,
    },
  ],
  [
    'POST as multipart/form-data',
    {
      method: 'POST',
      headers: () => ({ 'content-type': 'multipart/form-data; boundary=x' }),
      body: () => `--x\r\nContent-Disposition: form-data; name="decision"\r\n\r\nAPPROVE\r\n--x--`,
      status: 415,
    },
  ],
  ['POST without a content type', { method: 'POST', body: () => approveForm(), status: 415 }],
  [
    'POST with a 20 KiB body (past the page limit)',
    {
      method: 'POST',
      headers: () => ({ 'content-type': FORM }),
      body: () => `${approveForm()}&pad=${'x'.repeat(20 * 1024)}`,
      status: 413,
    },
  ],
  [
    'POST with an oversize body (100 KiB)',
    {
      method: 'POST',
      headers: () => ({ 'content-type': FORM }),
      body: () => `${approveForm()}&pad=${'x'.repeat(100 * 1024)}`,
      status: 413,
      byTheUrl: true,
    },
  ],
  [
    'POST with a 9 KiB approver name',
    {
      method: 'POST',
      headers: () => ({ 'content-type': FORM }),
      body: () => approveForm({ approver: 'A'.repeat(9 * 1024) }),
      status: 413,
    },
  ],
  [
    'POST with a 101-character approver name',
    {
      method: 'POST',
      headers: () => ({ 'content-type': FORM }),
      body: () => approveForm({ approver: 'A'.repeat(101) }),
      status: 400,
    },
  ],
  [
    'POST with an approver made of control characters',
    {
      method: 'POST',
      headers: () => ({ 'content-type': FORM }),
      body: () => approveForm({ approver: '\u0000\u001b\u202e\u200f\t' }),
      status: 400,
    },
  ],
  [
    'POST with decision "approved" (not a button value)',
    {
      method: 'POST',
      headers: () => ({ 'content-type': FORM }),
      body: () => approveForm({ decision: 'approved' }),
      status: 400,
    },
  ],
  [
    'POST with no decision',
    {
      method: 'POST',
      headers: () => ({ 'content-type': FORM }),
      body: () => new URLSearchParams({ ...genuine, approver: 'M' }).toString(),
      status: 400,
    },
  ],
];

describe('hostile approval requests against a waiting run', () => {
  it.each(cases)(hostile('approval request', '%s'), async (_what, attack) => {
    // Act
    const init: RequestInit = { method: attack.method ?? 'GET', headers: attack.headers?.() ?? {} };
    if (attack.body) init.body = attack.body();
    const response = await fetch(attack.url?.() ?? request.link, init);
    const html = await response.text();

    // Assess: the answer, with a heading that says why (HEAD has no body).
    expect(response.status).toBe(attack.status);
    if (attack.method !== 'HEAD' && !attack.byTheUrl) expect(html).toMatch(/<h1[^>]*>[^<]{3,}<\/h1>/);
    if (attack.status === 200) expect(html).not.toMatch(/approved;|Thank you/i);
    // Assess: no side effect.
    expect(await waiting.untouched()).toEqual(stillWaiting(RUN_ID));
  });
});

describe('hostile replays of a link whose approval was used', () => {
  let used: WorkflowHarness;
  let usedLink = '';
  let usedForm: Record<string, string> = {};
  let deletedAfterRun = 0;

  beforeAll(async () => {
    used = await startWorkflowHarness();
    const execution = await used.run({
      executionName: 'hostile-replay',
      beforeAnswer: async (r) => {
        usedLink = r.link;
        const page = await fetch(r.link);
        for (const m of (await page.text()).matchAll(
          /<input type="hidden" name="([^"]+)" value="([^"]*)">/g,
        )) {
          usedForm[m[1] as string] = (m[2] as string).replaceAll('&amp;', '&');
        }
      },
    });
    expect(execution.result.output).toMatchObject({ status: 'COMPLETED' });
    deletedAfterRun = used.ec2Mutations().length;
  });

  afterAll(async () => {
    await used?.stop();
    usedForm = {};
  });

  it.each([
    ['the approving POST replayed', 'POST', 'APPROVE'],
    ['a rejecting POST replayed after the approval', 'POST', 'REJECT'],
    ['the link opened again', 'GET', ''],
  ])(hostile('approval request', '%s'), async (_what, method, decision) => {
    // Act
    const response = await fetch(usedLink, {
      method,
      ...(method === 'POST'
        ? {
            headers: { 'content-type': FORM },
            body: new URLSearchParams({ ...usedForm, approver: 'Replay', decision }).toString(),
          }
        : {}),
    });

    // Assess: refused with a heading, the workflow not resumed again, nothing more deleted.
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(await response.text()).toMatch(/<h1[^>]*>[^<]{3,}<\/h1>/);
    expect(used.account.callsTo('SendTaskSuccess').filter((c) => c.error === undefined)).toHaveLength(1);
    expect(used.ec2Mutations()).toHaveLength(deletedAfterRun);
    expect((await used.runRecord('hostile-replay'))?.status).toBe('COMPLETED');
  });
});
