/**
 * Deletion throughput against EC2's token buckets (`useEc2RateLimits()`: DeregisterImage and
 * DeleteSnapshot 100 burst, 5/s refill; CreateTags 100 burst, 10/s refill): a full approved local
 * run at several Map concurrencies, with and without Recycle Bin retention (one CreateTags per AMI
 * before DeregisterImage, one per orphan snapshot).
 * Rates are counted from the approval to the end of the run; "steady" is the rate over the second
 * half of the successful calls, well after the 100-token burst is spent.
 */
import { RETAIN_TAG } from '../functions/core/recycle-bin.ts';
import {
  clockSuccessfulCalls,
  countBy,
  formatCounts,
  perSecond,
  printTable,
  type Row,
  type SummaryRow,
  seededAccount,
  withLocalRig,
} from './harness.ts';

/** 20 groups of 20 AMIs: each keeps its 4 newest and its in-use one, so 20 * 15 = 300 candidates. */
const GROUPS = 20;
const PER_GROUP = 20;
const CONCURRENCIES = [5, 10, 20];
/** The same runs with Recycle Bin retention on, at the default concurrency and twice it. */
const RETAINED_CONCURRENCIES = [5, 10];
const RETENTION = { imageDays: 7, snapshotDays: 7 };
/** CreateTags refill per second (MISSION.md). */
const CREATE_TAGS_REFILL = 10;
const PHYSICAL_LIMIT = 5;
/** DeleteSnapshot bucket capacity: the burst before the 5/s refill binds. */
const BURST = 100;

/** Successful calls per second over the second half of `times` (sorted), past the burst. */
function steadyRate(times: readonly number[]): number {
  const from = Math.floor(times.length / 2);
  const first = times[from];
  const last = times.at(-1);
  if (first === undefined || last === undefined || last === first) return Number.NaN;
  return (times.length - 1 - from) / ((last - first) / 1000);
}

/** One approved run at one Map concurrency, on its own account (own buckets) and ledger. */
async function measure(concurrency: number, retained = false): Promise<{ row: Row; summary: SummaryRow }> {
  const bench = seededAccount({ images: GROUPS * PER_GROUP, groups: GROUPS, seed: 'throughput' });
  bench.account.useEc2RateLimits();
  if (retained) {
    const tag = { key: RETAIN_TAG.key, value: RETAIN_TAG.value };
    bench.account.recycleBin.addRule({ resourceType: 'EC2_IMAGE', tag, retentionDays: RETENTION.imageDays });
    bench.account.recycleBin.addRule({
      resourceType: 'EBS_SNAPSHOT',
      tag,
      retentionDays: RETENTION.snapshotDays,
    });
  }
  const clock = clockSuccessfulCalls(bench.clients);
  const outcome = await withLocalRig((rig) =>
    rig.run({
      bench,
      approve: true,
      deletionMaxConcurrency: concurrency,
      ...(retained ? { recycleBin: RETENTION } : {}),
    }),
  );
  const approvedAt = outcome.approvedAt ?? Number.NaN;
  const seconds = (outcome.endedAt - approvedAt) / 1000;
  const amis = clock.get('DeregisterImage') ?? [];
  const snapshots = clock.get('DeleteSnapshot') ?? [];
  const tags = clock.get('CreateTags') ?? [];
  const binned = bench.account.recycleBin.images().size + bench.account.recycleBin.snapshots().size;
  const burst = ((snapshots[BURST - 1] ?? Number.NaN) - approvedAt) / 1000;
  const throttled = (from: number, to?: number) =>
    formatCounts(
      countBy(
        bench.account.calls.slice(from, to).filter((call) => call.error === 'RequestLimitExceeded'),
        (call) => call.command,
      ),
    ) || '0';
  const retries = countBy(
    outcome.events.filter((event) => event.type === 'StateRetried'),
    (event) => event.state?.name ?? '?',
  );
  const retryCount = Object.values(retries).reduce((a, b) => a + b, 0);
  const images = outcome.items.filter((item) => item.kind === 'IMAGE' && item.status !== 'KEPT');
  const done = images.filter((item) => item.status === 'DONE').length;
  const lost = done === images.length ? '' : ` (${formatCounts(countBy(images, (item) => item.status))})`;
  const rate = (times: readonly number[]) =>
    `${(times.length / seconds).toFixed(2)} (${steadyRate(times).toFixed(2)})`;
  // Each Map item deregisters its AMI, then deletes its snapshots, so AMIs finish no faster than
  // their snapshots: at most 5/s divided by the snapshots per AMI.
  const amiCeiling = PHYSICAL_LIMIT / (snapshots.length / amis.length);
  const approval = outcome.callsAtApproval ?? 0;
  return {
    row: {
      Map: concurrency,
      'Recycle Bin': retained ? 'on' : 'off',
      status: outcome.result.status,
      'AMIs / snaps': `${amis.length} / ${snapshots.length}`,
      'delete phase': `${seconds.toFixed(1)} s`,
      'to 1st AMI': `${(((amis[0] ?? Number.NaN) - approvedAt) / 1000).toFixed(1)} s`,
      [`first ${BURST} snaps`]: `${burst.toFixed(1)} s`,
      'AMIs/s (steady)': rate(amis),
      'snaps/s (steady)': rate(snapshots),
      'AMI ceiling': perSecond(amiCeiling),
      // One per AMI plus one per orphan; its bucket refills twice as fast as DeregisterImage's.
      'CreateTags (per AMI, /s)': retained
        ? `${tags.length} (${(tags.length / Math.max(1, amis.length)).toFixed(2)}, ${rate(tags)}; refill ${CREATE_TAGS_REFILL}/s)`
        : '-',
      'in the bin': retained ? binned : '-',
      'throttled while planning | deleting': `${throttled(0, approval)} | ${throttled(approval)}`,
      'SFN retries': formatCounts(retries) || '0',
      'items DONE': `${done}/${images.length}${lost}`,
    },
    summary: {
      bench: 'deletion',
      case: `Map concurrency ${concurrency}${retained ? ', Recycle Bin on' : ''}`,
      figure:
        `AMIs/s ${rate(amis)}, snaps/s ${rate(snapshots)} overall (steady); limit ${PHYSICAL_LIMIT}/s, ` +
        `AMI ceiling ${perSecond(amiCeiling)}; ${done}/${images.length} DONE; ${retryCount} SFN retries` +
        (retained ? `; ${tags.length} CreateTags for ${amis.length} AMIs` : ''),
    },
  };
}

export async function runDeletionThroughput(): Promise<SummaryRow[]> {
  // The runs wait on token buckets, not on the CPU, so they run at once, each on its own account.
  const results = await Promise.all([
    ...CONCURRENCIES.map((c) => measure(c)),
    ...RETAINED_CONCURRENCIES.map((c) => measure(c, true)),
  ]);
  printTable(
    `Deletion throughput: ${GROUPS * (PER_GROUP - 5)} candidate AMIs, EC2 rate limits on, 1 run per Map concurrency, ` +
      `the ${CONCURRENCIES.length + RETAINED_CONCURRENCIES.length} runs at once (rates from the approval to the end; steady = 2nd half of the calls; ` +
      `physical limit ${PHYSICAL_LIMIT}/s each; AMI ceiling = ${PHYSICAL_LIMIT}/s / snapshots per AMI)`,
    results.map((result) => result.row),
  );
  return results.map((result) => result.summary);
}
