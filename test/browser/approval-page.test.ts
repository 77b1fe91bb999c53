/**
 * The approval page in a real browser, against a real local run: the deployed ASL executed
 * in-process on the rich demo account, the ledger on dynalite, and the page served on 127.0.0.1
 * exactly as `npm start` serves it. The run waits at RequestApproval; the emailed link goes to
 * headless Chromium, and what the browser does decides the run.
 */
import type { Browser, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { AccountEnvironment } from '../../cli/environment.ts';
import { demoEnvironment } from '../../cli/environment.ts';
import { startLocalLedger } from '../../cli/local-ledger.ts';
import { startApprovalServer } from '../../cli/local-runner/approval-server.ts';
import { createLocalStack, type LocalStack } from '../../cli/local-runner/local-stack.ts';
import { type LocalRunResult, runWorkflowLocally } from '../../cli/local-runner/run-workflow.ts';
import { answerApprovalLink } from '../../cli/local-runner/scripted-approver.ts';
import type { DemoScenario } from '../../cli/scenarios.ts';
import type { SimulatedAccount } from '../../cli/simulated-account/account.ts';
import type { Ledger } from '../../functions/adapters/ledger/index.ts';
import type { Plan } from '../../functions/core/model.ts';
import { DEFAULT_PLAN_SETTINGS } from '../../functions/core/settings.ts';
import { type BrowserTab, launchChromium, openTab } from './browser.ts';

// ---------------------------------------------------------------------------------------------
// A local run waiting for approval
// ---------------------------------------------------------------------------------------------

interface WaitingRun {
  readonly env: AccountEnvironment;
  readonly account: SimulatedAccount;
  readonly stack: LocalStack;
  readonly ledger: Ledger;
  /** The link the approval email carries. */
  readonly link: string;
  readonly origin: string;
  readonly runId: string;
  readonly approvalId: string;
  readonly plan: Plan;
  /** AMIs in the account when the run asked for approval. */
  readonly imagesBefore: number;
  readonly result: Promise<LocalRunResult>;
}

/** Starts a run on the rich demo account and returns once it waits at the approval. */
async function startWaitingRun(scenario: DemoScenario = 'rich'): Promise<WaitingRun> {
  const env = demoEnvironment(scenario);
  const account = env.simulated;
  if (!account) throw new Error('the demo environment has no simulated account');
  const local = await startLocalLedger();
  let stack: LocalStack | undefined;
  const server = await startApprovalServer(() => {
    if (!stack) throw new Error('the approval page was asked for before the stack existed');
    return stack.approvalPage;
  });
  const waitingStack = createLocalStack({
    clients: env.clients,
    region: env.region,
    ledger: local.ledger,
    simulated: account,
    defaultSettings: { ...DEFAULT_PLAN_SETTINGS, checkOrphans: true, ssmParameterPaths: ['/amicleaner'] },
    approvalTimeoutSeconds: 120,
    approvalBaseUrl: server.baseUrl,
  });
  stack = waitingStack;

  let announced!: (link: string) => void;
  const linkSent = new Promise<string>((resolve) => {
    announced = resolve;
  });
  const result = runWorkflowLocally(waitingStack, {
    input: {},
    retryIntervalMs: 0,
    onApprovalRequested: (request) => announced(request.link),
  });
  let settled = false;
  let link: string | undefined;
  void result.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  onTestFinished(async () => {
    // A test that failed half-way leaves the run waiting: reject it so it ends and deletes nothing.
    if (!settled && link) await answerApprovalLink(link, 'REJECT', 'test teardown').catch(() => undefined);
    await Promise.race([
      result.catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, 10_000)),
    ]);
    await server.close();
    await local.stop();
  });

  link = await Promise.race([
    linkSent,
    result.then((ended) => {
      throw new Error(`the run ended before asking for approval: ${JSON.stringify(ended)}`);
    }),
  ]);
  const approvalId = new URL(link).searchParams.get('a') ?? '';
  const approval = await local.ledger.getApproval(approvalId);
  if (!approval) throw new Error(`no approval ${approvalId} in the ledger`);
  const plan = await waitingStack.workspace.getJson<Plan>(approval.planKey);
  return {
    env,
    account,
    stack: waitingStack,
    ledger: local.ledger,
    link,
    origin: new URL(server.baseUrl).origin,
    runId: approval.runId,
    approvalId,
    plan,
    imagesBefore: account.images.size,
    result,
  };
}

/** EC2 calls that delete something, and Step Functions calls that resume the run. */
const DELETIONS = new Set(['DeregisterImage', 'DeleteSnapshot']);
const RESUMPTIONS = new Set(['SendTaskSuccess', 'SendTaskFailure']);

function callsIn(account: SimulatedAccount, commands: ReadonlySet<string>): string[] {
  return account.calls.filter((call) => commands.has(call.command)).map((call) => call.command);
}

/** The run still waits: nothing resumed it, nothing was deleted, the approval is still usable. */
async function expectStillWaiting(run: WaitingRun): Promise<void> {
  expect(callsIn(run.account, RESUMPTIONS)).toEqual([]);
  expect(callsIn(run.account, DELETIONS)).toEqual([]);
  expect(run.account.images.size).toBe(run.imagesBefore);
  expect((await run.ledger.getApproval(run.approvalId))?.status).toBe('PENDING');
  expect((await run.ledger.getRun(run.runId))?.status).toBe('AWAITING_APPROVAL');
}

function candidateIds(plan: Plan): string[] {
  return plan.groups.flatMap((group) => group.candidates.map((c) => c.imageId));
}

// ---------------------------------------------------------------------------------------------
// Browser helpers
// ---------------------------------------------------------------------------------------------

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

async function newTab(): Promise<BrowserTab> {
  const tab = await openTab(browser);
  onTestFinished(() => tab.close());
  return tab;
}

async function open(page: Page, url: string): Promise<Response> {
  const response = await page.goto(url);
  if (!response) throw new Error(`no response for ${url}`);
  return response;
}

/** Fills the name and presses a button, returning the POST's response once its page has loaded. */
async function decide(page: Page, button: 'Approve' | 'Reject', name: string): Promise<Response> {
  await page.getByLabel('Your name').fill(name);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST'),
    page.getByRole('button', { name: button, exact: true }).click(),
  ]);
  await page.waitForLoadState();
  return response;
}

async function heading(page: Page): Promise<string> {
  return ((await page.getByRole('heading', { level: 1 }).textContent()) ?? '').trim();
}

async function tableBody(page: Page, caption: string): Promise<string[][]> {
  const rows = await page
    .getByRole('table', { name: caption, exact: true })
    .locator('tbody')
    .getByRole('row')
    .all();
  return Promise.all(
    rows.map(async (row) => (await row.getByRole('cell').allTextContents()).map((t) => t.trim())),
  );
}

function expectSecurityHeaders(response: Response): void {
  const headers = response.headers();
  expect(headers['content-security-policy']).toContain("default-src 'none'");
  expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['cache-control']).toBe('no-store');
}

/** One character of `value` at `index` replaced by another of the same alphabet (the shape stays valid). */
function changeOneChar(value: string, index: number): string {
  const current = value[index];
  const replacement = current === 'a' ? 'b' : 'a';
  return `${value.slice(0, index)}${replacement}${value.slice(index + 1)}`;
}

function withParam(link: string, name: string, value: string): string {
  const url = new URL(link);
  url.searchParams.set(name, value);
  return url.toString();
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe('the approval page in Chromium, on a waiting local run', () => {
  it("lists every group's AMIs to delete, counts what each keeps by reason, and lists the orphan snapshots, in a self-contained page", async () => {
    // Prepare
    const run = await startWaitingRun();
    const { page, requests } = await newTab();
    const { plan } = run;
    expect(plan.groups.filter((g) => g.candidates.length > 0).length).toBeGreaterThan(1);
    expect(plan.orphanSnapshots.length).toBeGreaterThan(0);

    // Act
    const response = await open(page, run.link);

    // Assess
    expect(response.status()).toBe(200);
    expect(await heading(page)).toBe(`Approve AMI cleanup in ${plan.region}?`);
    // AMIs named beside a snapshot they share with a candidate.
    const sharingIds = new Set(
      plan.groups.flatMap((g) => g.candidates.flatMap((c) => c.snapshots.flatMap((s) => s.sharedWith ?? []))),
    );
    for (const group of plan.groups) {
      expect(await page.getByRole('heading', { name: `Group ${group.name}`, exact: true }).count()).toBe(1);
      if (group.candidates.length > 0) {
        const rows = await tableBody(page, `AMIs to delete in ${group.name} (${group.candidates.length})`);
        expect(rows).toEqual(
          group.candidates.map((c) => [
            c.imageId,
            c.name,
            c.creationDate,
            c.snapshots
              .map((s) =>
                s.sharedWith
                  ? `${s.snapshotId} (kept: also used by ${s.sharedWith.join(', ')})`
                  : s.snapshotId,
              )
              .join(''),
            String(c.snapshots.filter((s) => !s.sharedWith).reduce((sum, s) => sum + s.sizeGiB, 0)),
            'Delete',
          ]),
        );
      }
      // Kept AMIs are counted by reason under their group's heading, never listed.
      const counts = page
        .getByRole('heading', { name: `Group ${group.name}`, exact: true })
        .locator('xpath=following-sibling::p[1]');
      expect(await counts.textContent()).toMatch(new RegExp(`kept: ${group.kept.length}( \\(|$)`));
      for (const k of group.kept.filter((k) => !sharingIds.has(k.imageId)))
        expect(await page.getByText(k.imageId).count()).toBe(0);
    }
    const orphans = await tableBody(page, `Orphan snapshots to delete (${plan.orphanSnapshots.length})`);
    expect(orphans).toEqual(
      plan.orphanSnapshots.map((o) => [o.snapshotId, o.imageId, String(o.sizeGiB), o.description, 'Delete']),
    );
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toContain(plan.planHash);
    expect(text).toContain(`${plan.totals.candidates} AMIs to deregister`);
    const sharedSnapshots = plan.groups.flatMap((g) =>
      g.candidates.flatMap((c) => c.snapshots.filter((s) => s.sharedWith)),
    );
    expect(sharedSnapshots.length).toBeGreaterThan(0);
    const keptRows = await tableBody(
      page,
      `Snapshots kept because another AMI uses them (${sharedSnapshots.length})`,
    );
    expect(keptRows).toEqual(sharedSnapshots.map((s) => [s.snapshotId, (s.sharedWith ?? []).join(', ')]));
    const byReason = await tableBody(page, `AMIs kept (${plan.totals.kept})`);
    expect(byReason.reduce((sum, [, n]) => sum + Number(n), 0)).toBe(plan.totals.kept);
    const byTarget = await tableBody(page, 'What approving deletes, by account and region (1)');
    expect(byTarget[0]?.slice(1, 3)).toEqual([plan.region, String(plan.totals.candidates)]);
    const planned = (await run.ledger.listItems(run.runId)).filter((item) => item.status === 'PLANNED');
    expect(planned.map((item) => item.id).sort()).toEqual(
      [...candidateIds(plan), ...plan.orphanSnapshots.map((o) => o.snapshotId)].sort(),
    );
    // Self-contained: it must work offline and run nothing.
    expectSecurityHeaders(response);
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.locator('[src], link[href], iframe, object, embed').count()).toBe(0);
    expect(requests.length).toBeGreaterThan(0);
    expect(new Set(requests.map((r) => new URL(r.url()).origin))).toEqual(new Set([run.origin]));
  });

  it('changes nothing when opened twice, prefetched, or submitted without a name', async () => {
    // Prepare
    const run = await startWaitingRun();
    const { page, requests } = await newTab();
    const name = page.getByRole('textbox', { name: 'Your name' });
    const approve = page.getByRole('button', { name: 'Approve', exact: true });
    const reject = page.getByRole('button', { name: 'Reject', exact: true });

    // Act
    const first = await open(page, run.link);
    const second = await open(page, run.link);
    const prefetch = await fetch(run.link, { headers: { Purpose: 'prefetch', 'Sec-Purpose': 'prefetch' } });
    await approve.click();
    await name.focus();
    await page.keyboard.press('Tab');
    const approveFocused = await approve.evaluate((el) => el === el.ownerDocument.activeElement);
    await page.keyboard.press('Tab');
    const rejectFocused = await reject.evaluate((el) => el === el.ownerDocument.activeElement);

    // Assess
    expect([first.status(), second.status(), prefetch.status]).toEqual([200, 200, 200]);
    expect(requests.filter((r) => r.method() !== 'GET')).toEqual([]);
    await expectStillWaiting(run);
    // Accessible: a labelled, required name field, and both buttons by role and name, in tab order.
    expect(await name.getAttribute('required')).not.toBeNull();
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect([await approve.isEnabled(), await reject.isEnabled()]).toEqual([true, true]);
    expect([approveFocused, rejectFocused]).toEqual([true, true]);
    // On a phone, wide tables scroll inside themselves; the page itself does not scroll sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.locator('html').evaluate((html) => html.scrollWidth)).toBeLessThanOrEqual(390);
  });

  it('resumes the run when a person approves, and the planned AMIs and snapshots are deleted', async () => {
    // Prepare
    const run = await startWaitingRun();
    const { page } = await newTab();
    const { plan, account } = run;
    const candidates = plan.groups.flatMap((g) => g.candidates);
    const candidateSet = new Set(candidates.map((c) => c.imageId));
    const snapshots = candidates.flatMap((c) => c.snapshots);
    // A snapshot that a kept AMI also maps must survive its candidate's deletion.
    const shared = snapshots.filter((s) =>
      account.imagesUsingSnapshot(s.snapshotId).some((id) => !candidateSet.has(id)),
    );
    expect(shared.length).toBeGreaterThan(0);
    await open(page, run.link);
    // What the page promises, read as the person reads it.
    const promised = /(\d+) snapshots to delete \((\d+) GiB\)/.exec(
      (await page.locator('main').textContent()) ?? '',
    );
    const saving = /at most \$(\d+\.\d\d) a month/.exec((await page.locator('main').textContent()) ?? '');

    // Act
    const response = await decide(page, 'Approve', 'Ada Lovelace');
    const result = await run.result;

    // Assess
    expect(response.status()).toBe(200);
    expectSecurityHeaders(response);
    expect(await heading(page)).toBe('Approved');
    const totals = plan.totals;
    const sharedGiB = shared.reduce((sum, s) => sum + s.sizeGiB, 0);
    expect(result).toMatchObject({
      status: 'SUCCEEDED',
      output: {
        status: 'COMPLETED',
        approver: 'Ada Lovelace',
        planHash: plan.planHash,
        candidates: totals.candidates + totals.orphanSnapshots,
        deregistered: totals.candidates,
        snapshotsDeleted: totals.candidateSnapshots - shared.length + totals.orphanSnapshots,
        gibFreed: totals.candidateSizeGiB - sharedGiB + totals.orphanSizeGiB,
        failed: 0,
      },
    });
    // The page said exactly what the run did: snapshots, GiB and the summary's own estimate.
    const output = (
      result as { output: { snapshotsDeleted: number; gibFreed: number; estimatedMonthlySavingUsd: number } }
    ).output;
    expect([Number(promised?.[1]), Number(promised?.[2])]).toEqual([
      output.snapshotsDeleted,
      output.gibFreed,
    ]);
    expect(Number(saving?.[1])).toBe(output.estimatedMonthlySavingUsd);
    expect(candidates.filter((c) => account.images.has(c.imageId))).toEqual([]);
    const sharedIds = new Set(shared.map((s) => s.snapshotId));
    const deleted = [
      ...snapshots.filter((s) => !sharedIds.has(s.snapshotId)).map((s) => s.snapshotId),
      ...plan.orphanSnapshots.map((o) => o.snapshotId),
    ];
    expect(deleted.filter((id) => account.snapshots.has(id))).toEqual([]);
    expect([...sharedIds].filter((id) => !account.snapshots.has(id))).toEqual([]);
    const kept = plan.groups.flatMap((g) => g.kept.map((k) => k.imageId));
    expect(kept.filter((id) => !account.images.has(id))).toEqual([]);
    expect(account.images.size).toBe(run.imagesBefore - totals.candidates);
    expect(callsIn(account, RESUMPTIONS)).toEqual(['SendTaskSuccess']);
    expect(await run.ledger.getRun(run.runId)).toMatchObject({
      status: 'COMPLETED',
      approver: 'Ada Lovelace',
    });
  });

  it('ends the run with nothing deleted when a person rejects', async () => {
    // Prepare
    const run = await startWaitingRun();
    const { page } = await newTab();
    await open(page, run.link);

    // Act
    const response = await decide(page, 'Reject', 'Grace Hopper');
    const result = await run.result;

    // Assess
    expect(response.status()).toBe(200);
    expect(await heading(page)).toBe('Rejected');
    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { status: 'REJECTED', deregistered: 0 } });
    expect(callsIn(run.account, DELETIONS)).toEqual([]);
    expect(run.account.images.size).toBe(run.imagesBefore);
    expect(candidateIds(run.plan).every((id) => run.account.images.has(id))).toBe(true);
    expect(run.plan.orphanSnapshots.every((o) => run.account.snapshots.has(o.snapshotId))).toBe(true);
    expect(await run.ledger.getApproval(run.approvalId)).toMatchObject({
      status: 'REJECTED',
      approver: 'Grace Hopper',
    });
  });

  it('refuses a second decision, from another tab or after going back, and keeps the first', async () => {
    // Prepare
    const run = await startWaitingRun();
    const tab = await newTab();
    const first = tab.page;
    const second = await tab.context.newPage();
    await open(first, run.link);
    await open(second, run.link);
    await decide(first, 'Approve', 'Ada Lovelace');

    // Act
    const resubmitted = await decide(second, 'Reject', 'Mallory');
    const back = await first.goBack();
    const result = await run.result;

    // Assess
    expect(resubmitted.status()).toBe(409);
    expectSecurityHeaders(resubmitted);
    expect(await heading(second)).toBe('Already approved');
    expect(back?.status()).toBe(409);
    expect(await heading(first)).toBe('Already approved');
    expect(await first.getByRole('button').count()).toBe(0);
    expect(callsIn(run.account, RESUMPTIONS)).toEqual(['SendTaskSuccess']);
    expect(result).toMatchObject({ output: { status: 'COMPLETED', approver: 'Ada Lovelace' } });
    expect(await run.ledger.getApproval(run.approvalId)).toMatchObject({
      status: 'APPROVED',
      approver: 'Ada Lovelace',
    });
  });

  it('shows an error page for a tampered link or form, and the genuine link still works', async () => {
    // Prepare
    const run = await startWaitingRun();
    const { page } = await newTab();
    const url = new URL(run.link);
    const s = url.searchParams.get('s') ?? '';
    const a = url.searchParams.get('a') ?? '';
    const e = url.searchParams.get('e') ?? '';
    const tamperedLinks = [
      withParam(run.link, 's', changeOneChar(s, 5)),
      withParam(run.link, 'a', changeOneChar(a, 0)),
      withParam(run.link, 'e', String(Number(e) + 86_400)),
    ];

    // Act
    const pages: { status: number; heading: string; buttons: number }[] = [];
    for (const link of tamperedLinks) {
      const response = await open(page, link);
      expectSecurityHeaders(response);
      pages.push({
        status: response.status(),
        heading: await heading(page),
        buttons: await page.getByRole('button').count(),
      });
    }
    await open(page, run.link);
    await page.locator('input[name="s"]').evaluate(
      (input, value) => {
        (input as unknown as { value: string }).value = value;
      },
      changeOneChar(s, 5),
    );
    const tamperedForm = await decide(page, 'Approve', 'Mallory');
    const tamperedFormHeading = await heading(page);
    await open(page, run.link);
    await page.locator('input[name="planHash"]').evaluate((input) => {
      (input as unknown as { value: string }).value = 'f'.repeat(64);
    });
    const otherPlan = await decide(page, 'Approve', 'Mallory');
    const otherPlanHeading = await heading(page);

    // Assess
    expect(pages).toEqual(tamperedLinks.map(() => ({ status: 403, heading: 'Invalid link', buttons: 0 })));
    expect([tamperedForm.status(), tamperedFormHeading]).toEqual([403, 'Invalid link']);
    expect([otherPlan.status(), otherPlanHeading]).toEqual([403, 'Invalid form']);
    await expectStillWaiting(run);
    await open(page, run.link);
    expect((await decide(page, 'Approve', 'Ada Lovelace')).status()).toBe(200);
    expect(await run.result).toMatchObject({ output: { status: 'COMPLETED', approver: 'Ada Lovelace' } });
  });
  it('pages a plan longer than one page on the same link, sends no referrer, and decides it from any page', async () => {
    // Prepare: 2,000 AMIs in groups of 20 give more than one page of rows.
    const run = await startWaitingRun('generated:2000');
    const { page, requests } = await newTab();
    const first = await open(page, run.link);
    expect(first.status()).toBe(200);
    const text = (await page.locator('main').textContent()) ?? '';
    const pages = Number(/The plan, page 1 of (\d+)/.exec(text)?.[1]);
    expect(pages).toBeGreaterThan(1);

    // Act: follow "Next page", then reject from page 2.
    const [second] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).searchParams.get('page') === '2'),
      page.getByRole('link', { name: 'Next page' }).first().click(),
    ]);
    await page.waitForLoadState();
    const secondText = (await page.locator('main').textContent()) ?? '';
    const rejected = await decide(page, 'Reject', 'Ada Lovelace');

    // Assess
    expect(second.status()).toBe(200);
    expect(secondText).toContain(`The plan, page 2 of ${pages}`);
    expect(secondText).toContain(`listed on ${pages} pages`);
    const navigation = requests.find((r) => new URL(r.url()).searchParams.get('page') === '2');
    expect(navigation?.headers().referer).toBeUndefined();
    expect(new URL(navigation?.url() ?? run.link).searchParams.get('s')).toBe(
      new URL(run.link).searchParams.get('s'),
    );
    expect(rejected.status()).toBe(200);
    expect(await run.result).toMatchObject({ output: { status: 'REJECTED' } });
    expect(callsIn(run.account, DELETIONS)).toEqual([]);
  });
});
