/**
 * What the approval page shows of plans of many targets and many rows: totals per account and
 * region, pages of a fixed size on the same signed link, every page bound to the whole plan.
 */
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import type { Plan, PlanTargetRef } from '../functions/core/model.ts';
import { hashPlanDeletion } from '../functions/core/plan-targets.ts';
import { PAGE_ROWS } from '../functions/core/plan-view.ts';
import {
  expectedFormToken,
  hiddenFields,
  type PageHarness,
  startPageHarness,
} from './helpers/approval-page-harness.ts';
import { largePlan, targetPlan, targetsOf } from './helpers/large-plan.ts';

let h: PageHarness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function harness(plan: Plan, options: { region?: string } = {}): Promise<PageHarness> {
  h = await startPageHarness(plan, options);
  return h;
}

/** The rows of the table with this caption, as the text of each cell (tags stripped). */
function tableRows(html: string, caption: string): string[][] {
  const start = html.indexOf(`<caption>${caption}</caption>`);
  if (start < 0) return [];
  const end = html.indexOf('</table>', start);
  const body = html.slice(start, end);
  return [...body.matchAll(/<tr>(.*?)<\/tr>/g)]
    .slice(1)
    .map((m) =>
      [...(m[1] ?? '').matchAll(/<t[dh][^>]*>(.*?)<\/t[dh]>/g)].map((c) =>
        (c[1] ?? '').replace(/<[^>]+>/g, ''),
      ),
    );
}

const candidateIds = (html: string): string[] =>
  [...html.matchAll(/<tr><td><code>(ami-[0-9a-f]+)<\/code><\/td>/g)].map((m) => m[1] ?? '');

/** Per target, counted from the plan's rows directly (not through the page's summaries). */
function expectedByTarget(plan: Plan, t: PlanTargetRef) {
  const mine = <R extends { accountId?: string; region?: string }>(rows: readonly R[]) =>
    rows.filter((r) => r.accountId === t.accountId && r.region === t.region);
  const candidates = mine(plan.groups.flatMap((g) => g.candidates));
  const kept = mine(plan.groups.flatMap((g) => g.kept));
  const cap = plan.maxDeletionsPerRun ?? Number.POSITIVE_INFINITY;
  const admitted = Math.min(cap, candidates.length);
  const oldest = [...candidates]
    .sort((a, b) => a.creationDate.localeCompare(b.creationDate))
    .slice(0, admitted);
  const gib = oldest.flatMap((c) => c.snapshots).reduce((sum, s) => sum + s.sizeGiB, 0);
  return { admitted, snapshots: oldest.flatMap((c) => c.snapshots).length, gib, kept: kept.length };
}

describe('a plan of several accounts and regions', () => {
  const targets = targetsOf(3);
  const plan = largePlan(targets, { amis: 60, candidates: 12, maxDeletionsPerRun: 10 });

  it('shows totals per account and region and in all, and heads each target', async () => {
    // Prepare
    const page = await harness(plan);

    // Act
    const response = await page.get(page.query);

    // Assess
    expect(response.statusCode).toBe(200);
    const html = response.body;
    expect(html).toContain('<h1>Approve AMI cleanup in 2 accounts and 2 regions?</h1>');
    const rows = tableRows(html, 'What approving deletes, by account and region (3)');
    expect(rows).toHaveLength(4);
    for (const [i, t] of targets.entries()) {
      const e = expectedByTarget(plan, t);
      expect(rows[i]?.slice(0, 7)).toEqual([
        t.accountId,
        t.region,
        String(e.admitted),
        String(e.snapshots),
        String(e.gib),
        `$${(e.gib * 0.05).toFixed(2)}`,
        String(12 - e.admitted),
      ]);
      expect(rows[i]?.[7]).toMatch(new RegExp(`^${e.kept} \\(`));
      expect(html).toContain(`<h3>In account ${t.accountId} in ${t.region}</h3>`);
    }
    expect(rows[3]?.slice(0, 5)).toEqual(['All', '30', '60', '300', '$15.00']);
    // The group name repeats across targets: each table says whose it is.
    expect(html).toContain(
      `AMIs to delete in app-0000.prod in account ${targets[0]?.accountId} in eu-west-1 (4)`,
    );
    expect(html).toContain(
      `AMIs to delete in app-0000.prod in account ${targets[1]?.accountId} in us-east-1 (4)`,
    );
  });

  it('binds the form to the hash over every target, and approving sends that hash', async () => {
    // Prepare
    const page = await harness(plan);
    const html = (await page.get(page.query)).body;
    const fields = hiddenFields(html);

    // Act
    const response = await page.post({ ...fields, approver: 'Ada', decision: 'APPROVE' });

    // Assess
    expect(plan.planHash).toBe(hashPlanDeletion(plan));
    for (const t of targets)
      expect(plan.planHash).not.toBe(targetPlan(t, { amis: 60, candidates: 12 }).planHash);
    expect(fields.planHash).toBe(plan.planHash);
    expect(fields.formToken).toBe(expectedFormToken(plan.planHash));
    expect(response.statusCode).toBe(200);
    const sent = page.sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.output ?? '{}';
    expect(JSON.parse(sent)).toMatchObject({ decision: 'APPROVED', planHash: plan.planHash });
  });

  it.each([
    [
      'a candidate moved to another listed target',
      (p: Plan): Plan => ({
        ...p,
        groups: p.groups.map((g, i) =>
          i === 0 ? { ...g, candidates: g.candidates.map((c) => ({ ...c, ...targets[1] })) } : g,
        ),
      }),
    ],
    [
      'a group moved to a target the plan does not list',
      (p: Plan): Plan => ({
        ...p,
        groups: p.groups.map((g, i) =>
          i === 0
            ? {
                ...g,
                accountId: '999999999999',
                candidates: g.candidates.map((c) => ({ ...c, accountId: '999999999999' })),
                kept: g.kept.map((k) => ({ ...k, accountId: '999999999999' })),
              }
            : g,
        ),
      }),
    ],
    [
      'a target listed twice',
      (p: Plan): Plan => ({ ...p, targets: [...(p.targets ?? []), ...(p.targets ?? []).slice(0, 1)] }),
    ],
    ['a target dropped from the list', (p: Plan): Plan => ({ ...p, targets: (p.targets ?? []).slice(1) })],
    [
      'targets that are not a list',
      (p: Plan): Plan => ({ ...p, targets: 'all' as unknown as PlanTargetRef[] }),
    ],
  ])('refuses (409) a plan rewritten with %s, though it keeps the approved hash', async (_what, rewrite) => {
    // Prepare
    const page = await harness(plan);
    await page.workspace.putJson('runs/run-1/plan.json', rewrite(plan));

    // Act
    const response = await page.get(page.query);

    // Assess
    expect(response.statusCode).toBe(409);
    expect(response.body).toContain('Plan changed');
    expect((await page.ledger.getApproval(page.approvalId))?.status).toBe('PENDING');
  });

  it('does not refuse a multi-region plan for its first region differing from the deployment', async () => {
    // Prepare: the hub in eu-west-1 plans us-east-1 too.
    const page = await harness(plan, { region: 'eu-west-1' });

    // Act
    const response = await page.get(page.query);

    // Assess
    expect(response.statusCode).toBe(200);
  });
});

describe('a plan longer than one page', () => {
  // 1,000 candidates in 167 groups of 30 AMIs: a row per candidate and per group, so page
  // breaks fall inside groups.
  const plan = largePlan(targetsOf(1), {
    amis: 5_000,
    candidates: 1_000,
    groupSize: 30,
    maxDeletionsPerRun: 600,
  });
  const pages = Math.ceil((1_000 + plan.groups.length) / PAGE_ROWS);

  it('lists every candidate on exactly one page, and every page decides the whole plan', async () => {
    // Prepare
    const page = await harness(plan);
    const all = plan.groups.flatMap((g) => g.candidates.map((c) => c.imageId));

    // Act
    const bodies: string[] = [];
    for (let n = 1; n <= pages; n += 1) {
      const response = await page.get(`${page.query}&page=${n}`);
      expect(response.statusCode).toBe(200);
      bodies.push(response.body);
    }

    // Assess
    expect(bodies.flatMap(candidateIds).sort()).toEqual([...all].sort());
    for (const [i, html] of bodies.entries()) {
      expect(html).toContain(`The plan, page ${i + 1} of ${pages}`);
      expect(html).toContain(
        `Approving approves the whole plan: 600 AMIs and 0 orphan snapshots in 1 target, listed on ${pages} pages`,
      );
      expect(hiddenFields(html)).toMatchObject({
        planHash: plan.planHash,
        formToken: expectedFormToken(plan.planHash),
      });
      // The form posts to the signed link itself, never to a page of it.
      expect(html).toMatch(/<form id="decision" method="post" action="\?a=[^"&]+&amp;e=\d+&amp;s=[\w-]+">/);
      // The totals are the whole plan's on every page.
      expect(html).toContain('<li>600 AMIs to deregister</li>');
      expect(html).toContain('400 more exceed the per-run deletion limit');
    }
    // A group cut by a page break is headed again.
    expect(bodies.slice(1).some((html) => html.includes('(continued)</h4>'))).toBe(true);
    // Links to other pages carry the same signed link and the page number, nothing else.
    const links = [...(bodies[1] ?? '').matchAll(/<a href="([^"]+)"/g)].map((m) =>
      (m[1] ?? '').replaceAll('&amp;', '&'),
    );
    const pageLinks = links.filter((l) => l.startsWith('?'));
    // Page 2: first, previous, next and last, above and below the rows.
    const pager = ['1', '1', '3', String(pages)];
    expect(pageLinks.map((l) => new URLSearchParams(l.replace(/#.*$/, '')).get('page'))).toEqual([
      ...pager,
      ...pager,
    ]);
    for (const l of pageLinks) {
      const q = new URLSearchParams(l.replace(/#.*$/, ''));
      expect([...q.keys()]).toEqual(['a', 'e', 's', 'page']);
      expect(`a=${q.get('a')}&e=${q.get('e')}&s=${q.get('s')}`).toBe(page.query);
    }
    expect(page.sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect((await page.ledger.getApproval(page.approvalId))?.status).toBe('PENDING');
  });

  it('approves the whole plan from any page', async () => {
    // Prepare
    const page = await harness(plan);
    const html = (await page.get(`${page.query}&page=${pages}`)).body;

    // Act: the browser posts to the form's action (the link without `page`) from the last page.
    const response = await page.post({ ...hiddenFields(html), approver: 'Ada', decision: 'APPROVE' });

    // Assess
    expect(response.statusCode).toBe(200);
    const sent = page.sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.output ?? '{}';
    expect(JSON.parse(sent)).toMatchObject({ decision: 'APPROVED', planHash: plan.planHash });
  });

  it.each([
    ['page=-1', '&page=-1', 400],
    ['page=0', '&page=0', 400],
    ['page=NaN', '&page=NaN', 400],
    ['page=1.5', '&page=1.5', 400],
    ['page=01', '&page=01', 400],
    ['page=+2', '&page=%2B2', 400],
    ['page= 2', '&page=%202', 400],
    ['an empty page', '&page=', 400],
    ['page=1e2', '&page=1e2', 400],
    ['400 digits', `&page=${'9'.repeat(400)}`, 400],
    ['the page repeated', '&page=1&page=2', 400],
    ['one past the last page', `&page=${pages + 1}`, 404],
    ['page=999999999', '&page=999999999', 404],
  ])('refuses %s, changing nothing', async (_what, suffix, status) => {
    // Prepare
    const page = await harness(plan);

    // Act
    const response = await page.get(`${page.query}${suffix}`);

    // Assess
    expect(response.statusCode).toBe(status);
    expect(response.body).toMatch(/<h1>(Invalid page|No such page)<\/h1>/);
    expect(response.headers['Referrer-Policy']).toBe('no-referrer');
    expect(page.sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect((await page.ledger.getApproval(page.approvalId))?.status).toBe('PENDING');
  });

  it('checks the signature before the page: a valid page of a tampered link is 403', async () => {
    // Prepare
    const page = await harness(plan);
    const tampered = page.query.replace(/s=([\w-])/, (_m, c: string) => `s=${c === 'A' ? 'B' : 'A'}`);

    // Act
    const response = await page.get(`${tampered}&page=2`);

    // Assess
    expect(response.statusCode).toBe(403);
    expect(response.body).not.toMatch(/ami-[0-9a-f]{17}/);
  });
});
