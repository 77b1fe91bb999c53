/**
 * Planning at scale: the steps of `planAccount` (cli/plan-account.ts), timed one by one, on a
 * generated account of 1k, 10k and 100k AMIs (images / 20 groups, orphan sweep on). No rate
 * limits: this measures our code and the SDK, not EC2's buckets (their cost is computed).
 */

import { DEFAULT_MAX_DELETIONS } from '../cli/options.ts';
import { EC2_RATE_LIMITS } from '../cli/simulated-account/account.ts';
import { readInventory, readLaunchPermissions } from '../functions/adapters/inventory.ts';
import {
  assemblePlan,
  filterInUseStep,
  mapStep,
  orphanStep,
  rotateStep,
  sharingCheckStep,
} from '../functions/core/plan.ts';
import { DEFAULT_PLAN_SETTINGS } from '../functions/core/settings.ts';
import {
  type BenchAccount,
  countBy,
  formatCounts,
  int,
  kib,
  median,
  ms,
  printTable,
  type Row,
  repeat,
  type SummaryRow,
  seededAccount,
} from './harness.ts';

const SIZES = [
  { images: 1_000, reps: 5 },
  { images: 10_000, reps: 5 },
  { images: 100_000, reps: 1 },
];
const settings = { ...DEFAULT_PLAN_SETTINGS, checkOrphans: true };

interface Timings {
  readonly inventory: number;
  readonly core: number;
  readonly sharing: number;
  readonly total: number;
  readonly planBytes: number;
  readonly candidates: number;
}

/** `planAccount`, with a clock between the steps. */
async function planOnce({ account, clients }: BenchAccount): Promise<Timings> {
  account.calls.length = 0;
  const t0 = performance.now();
  const inventory = await readInventory(clients, {
    region: account.region,
    ssmParameterPaths: settings.ssmParameterPaths,
    includeSnapshots: settings.checkOrphans,
  });
  const t1 = performance.now();
  const now = new Date();
  const mapped = mapStep({ images: inventory.images, settings });
  const filtered = filterInUseStep({ inventory, mapped });
  const toCheck = sharingCheckStep({ filtered, settings, now, limit: DEFAULT_MAX_DELETIONS });
  const t2 = performance.now();
  const sharedImageIds = await readLaunchPermissions(clients.ec2, toCheck);
  const t3 = performance.now();
  const groups = rotateStep({
    filtered,
    settings,
    now,
    sharedImageIds,
    sharingCheckedIds: toCheck,
    limit: DEFAULT_MAX_DELETIONS,
  });
  const orphanSnapshots = orphanStep({ inventory, settings });
  const plan = assemblePlan({
    region: inventory.region,
    now,
    groups,
    orphanSnapshots,
    images: inventory.images,
    maxDeletionsPerRun: DEFAULT_MAX_DELETIONS,
  });
  const t4 = performance.now();
  return {
    inventory: t1 - t0,
    core: t2 - t1 + (t4 - t3),
    sharing: t3 - t2,
    total: t4 - t0,
    planBytes: Buffer.byteLength(JSON.stringify(plan)),
    candidates: plan.totals.candidates,
  };
}

/** Seconds the calls would take at least against EC2's refill rates (bucket capacity aside). */
function secondsAtEc2Limits(calls: Record<string, number>): number {
  return Object.entries(calls).reduce((sum, [command, n]) => {
    const limit = EC2_RATE_LIMITS[command];
    return limit === undefined ? sum : sum + Math.max(0, n - limit.capacity) / limit.refillPerSecond;
  }, 0);
}

export async function runPlanning(): Promise<SummaryRow[]> {
  const rows: Row[] = [];
  const callRows: Row[] = [];
  const summary: SummaryRow[] = [];
  for (const { images, reps } of SIZES) {
    const seedStart = performance.now();
    const bench = seededAccount({ images, groups: images / 20 });
    const seedMs = performance.now() - seedStart;
    const runs = await repeat(reps, () => planOnce(bench));
    const last = runs.at(-1) as Timings;
    const calls = countBy(bench.account.calls, (call) => call.command);
    const pick = (key: keyof Timings) => median(runs.map((run) => run[key]));
    rows.push({
      AMIs: int(images),
      reps,
      seed: ms(seedMs),
      'read inventory': ms(pick('inventory')),
      'sharing check': ms(pick('sharing')),
      'core steps': ms(pick('core')),
      total: ms(pick('total')),
      candidates: int(last.candidates),
      'plan JSON': kib(last.planBytes),
      'bytes/AMI': int(last.planBytes / images),
    });
    callRows.push({
      AMIs: int(images),
      'API calls': int(bench.account.calls.length),
      'by command (1 call = 1 page)': formatCounts(calls),
      'min s at EC2 refill (Rotate Lambda timeout: 300 s)': int(secondsAtEc2Limits(calls)),
    });
    summary.push({
      bench: 'planning',
      case: `${int(images)} AMIs`,
      figure: `${ms(pick('total'))} total (inventory ${ms(pick('inventory'))}, sharing ${ms(pick('sharing'))}), ${int(bench.account.calls.length)} calls, plan ${kib(last.planBytes)}`,
    });
  }
  printTable('Planning: medians per size (rate limits off; groups = AMIs / 20, checkOrphans on)', rows);
  printTable('Planning: API calls of one planning (the last rep)', callRows);
  return summary;
}
