/**
 * Planning at scale: the steps of `planAccount` (cli/plan-account.ts), timed one by one, on a
 * generated account of 1k, 10k and 100k AMIs (images / 20 groups, orphan sweep on). No rate
 * limits: this measures our code and the SDK, not EC2's buckets (their cost is computed).
 *
 * Then the per-AMI reads at the plan cap (500 would-be candidates), against the simulated account
 * with EC2's buckets on and a per-call latency: launch permissions (one DescribeImageAttribute
 * each) and DescribeImageReferences (10 AMIs a call), measured beside the refill-rate minimum.
 */

import { DEFAULT_MAX_DELETIONS } from '../cli/options.ts';
import { EC2_RATE_LIMITS } from '../cli/simulated-account/account.ts';
import { IMAGE_REFERENCES_BATCH, readAwsImageReferences } from '../functions/adapters/image-references.ts';
import {
  DESCRIBE_CONCURRENCY,
  readInventory,
  readLaunchPermissions,
} from '../functions/adapters/inventory.ts';
import {
  assemblePlan,
  filterInUseStep,
  mapStep,
  orphanStep,
  planCandidates,
  rotateStep,
  secondOpinionStep,
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
  readonly references: number;
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
  const rotated = rotateStep({
    filtered,
    settings,
    now,
    sharedImageIds,
    sharingCheckedIds: toCheck,
    limit: DEFAULT_MAX_DELETIONS,
  });
  const t4 = performance.now();
  const candidateIds = planCandidates({ groups: rotated }).map((c) => c.imageId);
  const awsReferences = await readAwsImageReferences(clients.ec2, candidateIds);
  const t5 = performance.now();
  const groups = secondOpinionStep({ groups: rotated, awsReferences });
  const orphanSnapshots = orphanStep({ inventory, settings });
  const plan = assemblePlan({
    region: inventory.region,
    now,
    groups,
    orphanSnapshots,
    images: inventory.images,
    maxDeletionsPerRun: DEFAULT_MAX_DELETIONS,
  });
  const t6 = performance.now();
  return {
    inventory: t1 - t0,
    core: t2 - t1 + (t4 - t3) + (t6 - t5),
    sharing: t3 - t2,
    references: t5 - t4,
    total: t6 - t0,
    planBytes: Buffer.byteLength(JSON.stringify(plan)),
    candidates: plan.totals.candidates,
  };
}

/** Seconds `n` calls of `command` take at least against its EC2 bucket (a full burst, then the refill). */
function minimumSeconds(command: string, n: number): number {
  const limit = EC2_RATE_LIMITS[command];
  return limit === undefined ? 0 : Math.max(0, n - limit.capacity) / limit.refillPerSecond;
}

/** Seconds the calls would take at least against EC2's refill rates (bucket capacity aside). */
function secondsAtEc2Limits(calls: Record<string, number>): number {
  return Object.entries(calls).reduce((sum, [command, n]) => sum + minimumSeconds(command, n), 0);
}

/** Simulated round trip of one EC2 call in the rate-limited measurement. */
const LATENCY_MS = 50;

/**
 * The per-AMI reads of one planning at the plan cap, with EC2's buckets on (each command its own
 * full bucket, as after a quiet period) and `LATENCY_MS` per call: measured beside the minimum.
 */
async function perAmiReadsAtEc2Rates(): Promise<{ rows: Row[]; summary: SummaryRow[] }> {
  const bench = seededAccount({ images: 1_000, groups: 50, seed: 'rates' });
  const inventory = await readInventory(bench.clients, {
    region: bench.account.region,
    ssmParameterPaths: settings.ssmParameterPaths,
    includeSnapshots: false,
  });
  const now = new Date();
  const filtered = filterInUseStep({ inventory, mapped: mapStep({ images: inventory.images, settings }) });
  const toCheck = sharingCheckStep({ filtered, settings, now, limit: DEFAULT_MAX_DELETIONS });
  bench.account.useEc2RateLimits();
  bench.account.setLatency(LATENCY_MS);
  bench.account.calls.length = 0;
  const t0 = performance.now();
  const sharedImageIds = await readLaunchPermissions(bench.clients.ec2, toCheck);
  const t1 = performance.now();
  const rotated = rotateStep({
    filtered,
    settings,
    now,
    sharedImageIds,
    sharingCheckedIds: toCheck,
    limit: DEFAULT_MAX_DELETIONS,
  });
  const candidateIds = planCandidates({ groups: rotated }).map((c) => c.imageId);
  const t2 = performance.now();
  await readAwsImageReferences(bench.clients.ec2, candidateIds);
  const t3 = performance.now();
  const attempts = countBy(bench.account.calls, (call) => call.command);
  const throttled = countBy(
    bench.account.calls.filter((call) => call.error === 'RequestLimitExceeded'),
    (call) => call.command,
  );
  const row = (command: string, amis: number, calls: number, measuredMs: number): Row => ({
    read: command,
    AMIs: int(amis),
    calls: int(calls),
    'attempts (throttled)': `${int(attempts[command] ?? 0)} (${int(throttled[command] ?? 0)})`,
    'min s at refill': minimumSeconds(command, calls).toFixed(1),
    'measured s': (measuredMs / 1000).toFixed(1),
  });
  const referenceCalls = Math.ceil(candidateIds.length / IMAGE_REFERENCES_BATCH);
  const rows = [
    row('DescribeImageAttribute', toCheck.length, toCheck.length, t1 - t0),
    row('DescribeImageReferences', candidateIds.length, referenceCalls, t3 - t2),
  ];
  const summary: SummaryRow[] = [
    {
      bench: 'planning',
      case: `per-AMI reads at EC2 rates, ${int(toCheck.length)} would-be candidates`,
      figure: `launch permissions ${int(toCheck.length)} calls in ${((t1 - t0) / 1000).toFixed(1)} s (min ${minimumSeconds('DescribeImageAttribute', toCheck.length).toFixed(1)} s); DescribeImageReferences ${int(referenceCalls)} calls in ${((t3 - t2) / 1000).toFixed(1)} s (min ${minimumSeconds('DescribeImageReferences', referenceCalls).toFixed(1)} s)`,
    },
  ];
  return { rows, summary };
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
      'AWS references': ms(pick('references')),
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
      figure: `${ms(pick('total'))} total (inventory ${ms(pick('inventory'))}, sharing ${ms(pick('sharing'))}, AWS references ${ms(pick('references'))}), ${int(bench.account.calls.length)} calls, plan ${kib(last.planBytes)}`,
    });
  }
  const rated = await perAmiReadsAtEc2Rates();
  printTable('Planning: medians per size (rate limits off; groups = AMIs / 20, checkOrphans on)', rows);
  printTable('Planning: API calls of one planning (the last rep)', callRows);
  printTable(
    `Planning: per-AMI reads at the plan cap (${DEFAULT_MAX_DELETIONS}) with EC2's buckets on, ${LATENCY_MS} ms a call, ${DESCRIBE_CONCURRENCY} in flight`,
    rated.rows,
  );
  return [...summary, ...rated.summary];
}
