/**
 * The page and the email stay bounded at any plan size: every page of a 100,000-AMI plan, and of
 * a plan of many targets, renders under 1 MB (a Function URL returns at most 6 MB), and the email
 * stays a few KiB. Sizes only: timing is measured in bench/page-size.ts, never here.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../functions/core/model.ts';
import { PAGE_ROWS, pageRows, planView } from '../../functions/core/plan-view.ts';
import { renderApprovalEmail } from '../../functions/views/approval-email.ts';
import { renderPlanPage, TARGETS_SHOWN } from '../../functions/views/approval-page.ts';
import { largePlan, targetsOf } from '../helpers/large-plan.ts';

const MB = 1024 * 1024;
const HIDDEN = { a: 'a', e: '1', s: 's', formToken: 'f' };

function everyPage(plan: Plan): string[] {
  const view = planView(plan);
  return Array.from({ length: view.pageCount }, (_, i) =>
    renderPlanPage({
      view,
      page: i + 1,
      runId: 'run-1',
      expiresAt: '2026-05-02T12:00:00.000Z',
      hidden: { ...HIDDEN, planHash: plan.planHash },
      maxApproverLength: 100,
    }),
  );
}

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');
const listedAmis = (html: string): string[] =>
  [...html.matchAll(/<tr><td><code>(ami-[0-9a-f]+)<\/code><\/td>/g)].map((m) => m[1] ?? '');

describe('a plan of 100,000 AMIs and 20,000 candidates in one account', () => {
  let plan: Plan;
  let pages: string[];
  beforeAll(() => {
    plan = largePlan(targetsOf(1), {
      amis: 100_000,
      candidates: 20_000,
      maxDeletionsPerRun: 20_500,
      orphans: 500,
    });
    pages = everyPage(plan);
  }, 120_000);

  it('renders every page under 1 MB, listing each candidate on exactly one page', () => {
    expect(pages.length).toBe(Math.ceil((20_000 + plan.groups.length + 500) / PAGE_ROWS));
    for (const html of pages) expect(bytes(html)).toBeLessThan(MB);
    const listed = pages.flatMap(listedAmis);
    expect(listed).toHaveLength(20_000);
    expect(new Set(listed)).toEqual(new Set(plan.groups.flatMap((g) => g.candidates.map((c) => c.imageId))));
    // Every page says what the decision covers, and carries the whole plan's hash.
    for (const html of pages) {
      expect(html).toContain(`listed on ${pages.length} pages`);
      expect(html).toContain(`<input type="hidden" name="planHash" value="${plan.planHash}">`);
    }
  });

  it('keeps the email under 16 KiB', () => {
    const { message, subject } = renderApprovalEmail(plan, 'https://x.example/?a=1', new Date(0));
    expect(bytes(message)).toBeLessThan(16 * 1024);
    expect(subject).toBe('ami-cleaner: approve deleting 20000 AMIs and 500 orphan snapshots in eu-west-1');
    expect(message.match(/^"app-/gm)).toHaveLength(10);
  });
});

describe('a plan of 10 targets, 10,000 AMIs and 2,000 candidates each', () => {
  let plan: Plan;
  beforeAll(() => {
    plan = largePlan(targetsOf(10), { amis: 10_000, candidates: 2_000, maxDeletionsPerRun: 500 });
  }, 120_000);

  it('renders every page under 1 MB and totals each target on every page', () => {
    const pages = everyPage(plan);
    for (const html of pages) {
      expect(bytes(html)).toBeLessThan(MB);
      expect(html).toContain('What approving deletes, by account and region (10)');
      expect(html).toContain('<li>5000 AMIs to deregister</li>');
    }
    expect(pages.flatMap(listedAmis)).toHaveLength(20_000);
  });

  it('keeps the email under 16 KiB with a line per target', () => {
    const { message } = renderApprovalEmail(plan, 'https://x.example/?a=1', new Date(0));
    expect(bytes(message)).toBeLessThan(16 * 1024);
    for (const t of targetsOf(10))
      expect(message).toMatch(new RegExp(`^${t.accountId}\\s+${t.region}\\s+500\\s`, 'm'));
    expect(message).toMatch(/^All\s+5000\s+10000\s+50000\s+2500\.00\s+15000\s+80000$/m);
  });
});

describe('plans wider than the overview', () => {
  it(`lists ${TARGETS_SHOWN} targets in the overview and heads every target in the pages`, () => {
    // Prepare
    const targets = targetsOf(TARGETS_SHOWN + 30);
    const plan = largePlan(targets, { amis: 3, candidates: 1 });

    // Act
    const pages = everyPage(plan);

    // Assess
    for (const html of pages) {
      expect(html.match(/<tr><td><code>\d{12}<\/code><\/td>/g)).toHaveLength(TARGETS_SHOWN);
      expect(html).toContain('30 more targets are not listed here');
    }
    const all = pages.join('\n');
    for (const t of targets) expect(all).toContain(`<h3>In account ${t.accountId} in ${t.region}</h3>`);
    const { message } = renderApprovalEmail(plan, 'https://x.example/?a=1', new Date(0));
    expect(message).toContain('(110 more targets: the review page lists every one.)');
  });

  it('names at most 5 AMIs beside a snapshot many AMIs share', () => {
    // Prepare
    const base = largePlan(targetsOf(1), { amis: 20, candidates: 1 });
    const sharedWith = Array.from({ length: 1_000 }, (_, i) => `ami-${i.toString(16).padStart(17, '0')}`);
    const plan: Plan = {
      ...base,
      groups: base.groups.map((g) => ({
        ...g,
        candidates: g.candidates.map((c) => ({
          ...c,
          snapshots: c.snapshots.map((s) => ({ ...s, sharedWith })),
        })),
      })),
    };

    // Act
    const view = planView(plan);
    const html = everyPage(plan).join('\n');

    // Assess
    expect(pageRows(view, 1).length).toBeLessThanOrEqual(PAGE_ROWS);
    expect(html).toContain('and 995 more');
    expect(bytes(html)).toBeLessThan(64 * 1024);
  });
});
