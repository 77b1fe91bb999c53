/**
 * Backlog: one account's backlog of approved AMIs (default 20,000, the figure) planned and
 * drained under one approval through the real definitions (Rotate's passes, DeleteBatch children),
 * EC2's token buckets on. Prints, per execution of the tree (the run and each child, told apart by
 * the events' `execution` name), the history events AWS would record and the largest state
 * payload; the deregistration rate against the 5/s refill and against the binding bucket (the
 * EC2 bucket whose refill pays for the fewest AMIs a second, given the deletion phase's calls per
 * AMI: the re-check's launch-template pages grow with the account); items FAILED; the worst case
 * derived from the ASL (`functions/core/quotas.ts`), checked against a measured worst-case run.
 *
 * - `BACKLOG_AMIS` (default 20,000): approved candidates, in groups of 20 AMIs that keep their 4
 *   newest and one in use (15 candidates a group), one snapshot each (with more, DeleteSnapshot's
 *   5/s would bind first); the run's cap is the construct's default.
 * - `BACKLOG_TIME_SCALE` (default 3): the buckets refill that many times faster (same capacity),
 *   so 20,000 AMIs drain in ~30 minutes instead of ~90. The ratio is the measured rate divided by
 *   5/s × the scale. At 10× the local runner itself is the limit (~17 items/s with 5 in flight). Everything else (the SDK's backoff, each handler's own work, the
 *   ledger) keeps real time, so a scaled run is the harder one: per-item overhead weighs the scale
 *   times more against the refill.
 * - `BACKLOG_EXTRA_LAUNCH_TEMPLATES` (default 0): launch templates added beside the generator's
 *   one a group, all on a kept AMI: the deletion re-check reads every template's `$Default` and
 *   `$Latest` for each AMI, so this shows that cost apart from the run's size.
 * - `BACKLOG_DELETION_MAX_CONCURRENCY` (default the local runner's, 5): items in flight in each
 *   DeleteBatch child, the construct's `deletionMaxConcurrency`.
 * - `BACKLOG_WORST_GROUPS` (default 16, 240 items, 2 children): the size of the worst-case run
 *   (every deletion step spends every retrier, no buckets), checked against the derived bound.
 */

import { LOCAL_DELETION_MAX_CONCURRENCY } from '../cli/local-runner/run-workflow.ts';
import { type CallRecord, EC2_RATE_LIMITS } from '../cli/simulated-account/account.ts';
import {
  DEFAULT_MAX_DELETIONS_PER_RUN,
  itemsPerBatch,
  worstCaseTreeEvents,
} from '../functions/core/quotas.ts';
import { definitionHistoryBudget } from '../infra/lib/definition.ts';
import {
  clockSuccessfulCalls,
  int,
  jsonBytes,
  kib,
  perSecond,
  printTable,
  type SummaryRow,
  seededAccount,
  type TimedEvent,
  withLocalRig,
} from './harness.ts';
import { awsHistoryEventsOf, worstCaseHandlers } from './payloads.ts';

const PER_GROUP = 20;
const CANDIDATES_PER_GROUP = 15;
const DEREGISTER_REFILL = 5;
/** DeregisterImage's bucket capacity: the first 100 calls are the burst, not the refill. */
const BURST = 100;

/** Calls per second after the burst was spent (the rate a long backlog drains at). */
function pastBurstRate(times: readonly number[]): number {
  const first = times[BURST];
  const last = times.at(-1);
  if (first === undefined || last === undefined || last === first) return Number.NaN;
  return (times.length - 1 - BURST) / ((last - first) / 1000);
}

/**
 * What each EC2 bucket allows, given the successful calls per AMI the deletion phase made: the
 * AMIs a second each bucket's refill pays for. The smallest is the run's physical ceiling, and its
 * command the binding bucket (DeregisterImage's 5/s only when nothing else costs more per AMI).
 */
function bucketCeilings(calls: readonly CallRecord[], amis: number, timeScale: number) {
  const perCommand = new Map<string, number>();
  for (const call of calls) {
    if (call.error !== undefined) continue;
    perCommand.set(call.command, (perCommand.get(call.command) ?? 0) + 1);
  }
  return [...perCommand]
    .flatMap(([command, n]) => {
      const limit = EC2_RATE_LIMITS[command];
      if (limit === undefined) return [];
      const perAmi = n / Math.max(1, amis);
      return [{ command, perAmi, amisPerSecond: (limit.refillPerSecond * timeScale) / perAmi }];
    })
    .sort((a, b) => a.amisPerSecond - b.amisPerSecond);
}

interface ExecutionFigures {
  events: number;
  largestPayload: number;
}

/** Counts history events and the largest state input/output per execution as the events come. */
function executionCounter() {
  const executions = new Map<string, ExecutionFigures>();
  let rotatePasses = 0;
  const onEvent = (event: TimedEvent) => {
    // Children by batch (`…-delete-<n>`), so two runs' trees line up.
    const name = event.execution?.replace(/^.*-(delete-\d+)$/, '$1') ?? 'run';
    const figures = executions.get(name) ?? { events: 0, largestPayload: 0 };
    figures.events += awsHistoryEventsOf(event);
    for (const value of [event.state?.input, event.state?.output]) {
      if (value !== undefined) figures.largestPayload = Math.max(figures.largestPayload, jsonBytes(value));
    }
    if (event.type === 'StateEntered' && /^Rotate(NextPass)?$/.test(event.state?.name ?? '')) rotatePasses++;
    executions.set(name, figures);
  };
  const largest = (key: keyof ExecutionFigures) => Math.max(...[...executions.values()].map((f) => f[key]));
  return { executions, onEvent, largest, passes: () => rotatePasses };
}

export async function runBacklog(): Promise<SummaryRow[]> {
  const amis = Number(process.env.BACKLOG_AMIS ?? 20_000);
  const timeScale = Number(process.env.BACKLOG_TIME_SCALE ?? 3);
  const worstGroups = Number(process.env.BACKLOG_WORST_GROUPS ?? 16);
  // Items in flight per DeleteBatch child; unset means the construct's default.
  const deletionMaxConcurrency = Number(
    process.env.BACKLOG_DELETION_MAX_CONCURRENCY ?? LOCAL_DELETION_MAX_CONCURRENCY,
  );
  const extraLaunchTemplates = Number(process.env.BACKLOG_EXTRA_LAUNCH_TEMPLATES ?? 0);
  const groups = Math.ceil(amis / CANDIDATES_PER_GROUP);
  const maxDeletionsPerRun = Math.max(amis, DEFAULT_MAX_DELETIONS_PER_RUN);
  const tree = definitionHistoryBudget();
  return withLocalRig(async (rig) => {
    // 1. The backlog, approved, with the buckets on: rate and per-execution figures.
    // One snapshot an AMI, so DeregisterImage is the binding bucket the ratio is about.
    const bench = seededAccount({ images: groups * PER_GROUP, groups, seed: 'backlog', dataVolumeShare: 0 });
    const kept = bench.scenario.inUseImageIds[0] as string;
    for (let i = 0; i < extraLaunchTemplates; i++) {
      bench.account.addLaunchTemplate({
        name: `extra-${i}`,
        createTime: new Date(),
        versions: [{ imageId: kept, instanceType: 't3.micro' }],
      });
    }
    bench.account.useEc2RateLimits(timeScale);
    const clock = clockSuccessfulCalls(bench.clients);
    const counter = executionCounter();
    const outcome = await rig.run({
      bench,
      approve: true,
      maxDeletionsPerRun,
      deletionMaxConcurrency,
      keepEvents: false,
      onEvent: counter.onEvent,
    });
    const deregistered = clock.get('DeregisterImage') ?? [];
    const deletePhase = (outcome.endedAt - (outcome.approvedAt ?? Number.NaN)) / 1000;
    const planning = ((outcome.approvedAt ?? Number.NaN) - outcome.startedAt) / 1000;
    const rate = pastBurstRate(deregistered);
    const refill = DEREGISTER_REFILL * timeScale;
    // Every EC2 call after the approval is the deletion phase's (re-checks, deletions).
    const ceilings = bucketCeilings(
      bench.account.calls.slice(outcome.callsAtApproval ?? 0),
      deregistered.length,
      timeScale,
    );
    const binding = ceilings[0];
    const ceiling = binding?.amisPerSecond ?? refill;
    const failed = outcome.items.filter((item) => item.status === 'FAILED').length;
    const children = counter.executions.size - 1;

    // 2. The worst case at a smaller size: every deletion step of every AMI exhausts its retries.
    const worstBench = seededAccount({
      images: worstGroups * PER_GROUP,
      groups: worstGroups,
      seed: 'backlog-worst',
    });
    const worstCounter = executionCounter();
    const worst = await rig.run({
      bench: worstBench,
      approve: true,
      retryIntervalMs: 0,
      handlers: worstCaseHandlers,
      maxDeletionsPerRun,
      keepEvents: false,
      onEvent: worstCounter.onEvent,
    });
    const worstItems = worst.items.filter((item) => item.kind === 'IMAGE' && item.status === 'FAILED').length;
    const derivedSmall = worstCaseTreeEvents(tree, worstItems);
    const derived = worstCaseTreeEvents(tree, deregistered.length);

    printTable(
      `Backlog: ${int(deregistered.length)} AMIs deregistered under one approval in ${children} DeleteBatch children ` +
        `(≤ ${itemsPerBatch(tree)} items each, ${deletionMaxConcurrency} in flight), ${counter.passes()} Rotate passes, ` +
        `EC2 buckets on at ${timeScale}× speed`,
      [...counter.executions]
        .sort(([, a], [, b]) => b.events - a.events)
        .slice(0, 4)
        .map(([name, figures]) => ({
          'execution (largest 4)': name,
          'history events': int(figures.events),
          'largest payload': kib(figures.largestPayload),
        })),
    );
    printTable('Backlog: figures', [
      {
        'planning (s)': planning.toFixed(0),
        'delete phase (s)': deletePhase.toFixed(0),
        'dereg/s past the burst': perSecond(rate),
        'of 5/s × scale': (rate / refill).toFixed(2),
        'binding bucket': binding ? `${binding.command} (${binding.perAmi.toFixed(2)}/AMI)` : '-',
        'of its ceiling': (rate / ceiling).toFixed(2),
        FAILED: failed,
        'largest history': int(counter.largest('events')),
        'largest payload': kib(counter.largest('largestPayload')),
      },
    ]);
    printTable(
      `Backlog: what each EC2 bucket allows, from the deletion phase's successful calls per AMI ` +
        `(${int(bench.account.launchTemplates.size)} launch templates in the account)`,
      ceilings.slice(0, 5).map((each) => ({
        command: each.command,
        'calls per AMI': each.perAmi.toFixed(2),
        'AMIs/s its refill allows': perSecond(each.amisPerSecond),
        'measured of it': (rate / each.amisPerSecond).toFixed(2),
      })),
    );
    printTable('Backlog: worst case (every deletion step spends every retrier)', [
      {
        size: `${worstItems} items, ${worstCounter.executions.size - 1} children`,
        'measured largest': int(worstCounter.largest('events')),
        'derived (parent / child)': `${int(derivedSmall.parent)} / ${int(derivedSmall.child)}`,
        [`derived at ${int(deregistered.length)}`]: `${int(derived.parent)} / ${int(derived.child)} (${derived.batches} children, ${derived.rotatePasses} Rotate passes)`,
      },
    ]);
    return [
      {
        bench: 'backlog',
        case: `${int(deregistered.length)} AMIs, ${children} children, ${counter.passes()} Rotate passes, ${deletionMaxConcurrency} in flight, buckets at ${timeScale}×`,
        figure:
          `${perSecond(rate)} past the burst = ${(rate / refill).toFixed(2)} of 5/s×${timeScale} ` +
          `(${(rate / ceiling).toFixed(2)} of the binding bucket's ceiling, ${binding?.command ?? '-'} at ${binding?.perAmi.toFixed(2) ?? '-'} calls/AMI), ` +
          `${failed} FAILED; largest history ${int(counter.largest('events'))} (derived worst case ${int(derived.parent)} parent, ` +
          `${int(derived.child)} child); largest payload ${kib(counter.largest('largestPayload'))}`,
      },
    ];
  });
}
