/**
 * The approval page and email at scale (issue 9 §4): bytes of every page of the paged plan (the
 * biggest one against the 6 MB a Lambda Function URL can return), bytes of the email (SNS takes
 * 256 KiB), and the median time of a whole GET (workspace JSON parsed, hash verified over every
 * target, summaries, one page rendered) and of rendering one page from a built view.
 * Plans come from `test/helpers/large-plan.ts` (the core's assemblePlan / combineTargetPlans).
 * Before paging, the page rendered a row per AMI: 13 KiB for the demo's 46 rows, about 25 MB at
 * 100,000 AMIs.
 */
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import type { Plan } from '../functions/core/model.ts';
import { planView } from '../functions/core/plan-view.ts';
import { renderApprovalEmail } from '../functions/views/approval-email.ts';
import { renderPlanPage } from '../functions/views/approval-page.ts';
import { startPageHarness } from '../test/helpers/approval-page-harness.ts';
import { largePlan, targetsOf } from '../test/helpers/large-plan.ts';
import { int, kib, median, ms, pct, printTable, type Row, type SummaryRow } from './harness.ts';

const FUNCTION_URL_LIMIT = 6 * 1024 * 1024;
const SNS_LIMIT = 256 * 1024;
const REPS = 5;

interface Case {
  readonly name: string;
  readonly targets: number;
  readonly amis: number;
  readonly candidates: number;
  readonly cap: number;
}

const CASES: readonly Case[] = [
  {
    name: '100,000 AMIs, 500 candidates (the default cap)',
    targets: 1,
    amis: 100_000,
    candidates: 500,
    cap: 500,
  },
  { name: '100,000 AMIs, 20,000 candidates', targets: 1, amis: 100_000, candidates: 20_000, cap: 20_000 },
  {
    name: '10 targets x 10,000 AMIs, 2,000 candidates each',
    targets: 10,
    amis: 10_000,
    candidates: 2_000,
    cap: 2_000,
  },
];

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

async function measure(c: Case): Promise<Row> {
  const plan: Plan = largePlan(targetsOf(c.targets), {
    amis: c.amis,
    candidates: c.candidates,
    maxDeletionsPerRun: c.cap,
  });
  const view = planView(plan);
  const render = (page: number) =>
    renderPlanPage({
      view,
      page,
      runId: 'bench',
      expiresAt: '2026-05-02T12:00:00.000Z',
      hidden: {
        a: 'a'.repeat(36),
        e: '1777777777',
        s: 's'.repeat(43),
        planHash: plan.planHash,
        formToken: 'f'.repeat(43),
      },
      maxApproverLength: 100,
    });
  const sizes = Array.from({ length: view.pageCount }, (_, i) => bytes(render(i + 1)));
  const renderTimes = Array.from({ length: REPS }, (_, rep) => {
    const started = performance.now();
    render(1 + ((rep * 7) % view.pageCount));
    return performance.now() - started;
  });
  const email = renderApprovalEmail(
    plan,
    `https://abc123.lambda-url.eu-west-1.on.aws/?a=${'a'.repeat(36)}`,
    new Date(),
  );

  // The whole GET through the handler, the plan read from the workspace as JSON each time.
  const page = await startPageHarness(plan);
  const getTimes: number[] = [];
  try {
    for (let rep = 0; rep < REPS; rep += 1) {
      const started = performance.now();
      const response = await page.get(`${page.query}&page=${1 + rep}`);
      getTimes.push(performance.now() - started);
      if (response.statusCode !== 200) throw new Error(`GET answered ${response.statusCode}`);
    }
    if (page.sfn.commandCalls(SendTaskSuccessCommand).length > 0) throw new Error('a GET resumed the run');
  } finally {
    await page.stop();
  }
  const biggest = Math.max(...sizes);
  return {
    case: c.name,
    'plan JSON': kib(bytes(JSON.stringify(plan))),
    pages: int(view.pageCount),
    'biggest page': kib(biggest),
    'of 6 MB': pct(biggest / FUNCTION_URL_LIMIT),
    'all pages': kib(sizes.reduce((a, b) => a + b, 0)),
    email: kib(bytes(email.message)),
    'of 256 KiB': pct(bytes(email.message) / SNS_LIMIT),
    'render median': ms(median(renderTimes)),
    'GET median': ms(median(getTimes)),
  };
}

export async function runPageSize(): Promise<SummaryRow[]> {
  const rows: Row[] = [];
  for (const c of CASES) rows.push(await measure(c));
  printTable('Approval page and email at scale (200 rows a page)', rows);
  return rows.map((row) => ({
    bench: 'page-size',
    case: String(row.case),
    figure: `biggest page ${row['biggest page']} of ${row.pages} pages, email ${row.email}, GET ${row['GET median']}`,
  }));
}
