/**
 * Backlog: one approved run whose deletion set spans several DeleteBatch child executions.
 * Counts, per execution of the tree (the run and each child, told apart by the events' `execution`
 * name), the history events AWS would record and the largest state payload, and compares the
 * worst case of each against the bounds derived from the ASL (`functions/core/quotas.ts`). The
 * deletion rate is measured with EC2's token buckets on (5 deregistrations/s).
 *
 * `BACKLOG_GROUPS` (default 16) groups of 20 AMIs: each keeps its 4 newest and one in use, so
 * 15 candidates a group (16 → 240 candidates, 2 children). The rate is counted past the
 * DeregisterImage bucket's 100-call burst, the rate a long backlog drains at.
 */
import { itemsPerBatch, worstCaseTreeEvents } from '../functions/core/quotas.ts';
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
import { awsHistoryEvents, worstCaseHandlers } from './payloads.ts';

const PER_GROUP = 20;
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

interface ExecutionFigures {
  events: TimedEvent[];
  largestPayload: number;
}

/** Events and the largest state input/output of each execution of the tree, by execution name. */
function byExecution(events: readonly TimedEvent[]): Map<string, ExecutionFigures> {
  const executions = new Map<string, ExecutionFigures>();
  for (const event of events) {
    // Children by batch (`…-delete-<n>`), so two runs' trees line up.
    const name = event.execution?.replace(/^.*-(delete-\d+)$/, '$1') ?? 'run';
    const figures = executions.get(name) ?? { events: [], largestPayload: 0 };
    figures.events.push(event);
    for (const value of [event.state?.input, event.state?.output]) {
      if (value !== undefined) figures.largestPayload = Math.max(figures.largestPayload, jsonBytes(value));
    }
    executions.set(name, figures);
  }
  return executions;
}

export async function runBacklog(): Promise<SummaryRow[]> {
  const groups = Number(process.env.BACKLOG_GROUPS ?? 16);
  const tree = definitionHistoryBudget();
  return withLocalRig(async (rig) => {
    // 1. An approved run with the buckets on: rate and per-execution figures.
    const bench = seededAccount({ images: groups * PER_GROUP, groups, seed: 'backlog' });
    bench.account.useEc2RateLimits();
    const clock = clockSuccessfulCalls(bench.clients);
    const outcome = await rig.run({ bench, approve: true, maxDeletionsPerRun: 10_000 });
    const deregistered = clock.get('DeregisterImage') ?? [];
    const seconds = (outcome.endedAt - (outcome.approvedAt ?? Number.NaN)) / 1000;
    const overall = deregistered.length / seconds;
    const rate = pastBurstRate(deregistered);
    const executions = byExecution(outcome.events);
    const failed = outcome.items.filter((item) => item.status === 'FAILED').length;

    // 2. The worst case: every deletion step of every AMI exhausts its retries (no buckets, no waits).
    const worstBench = seededAccount({ images: groups * PER_GROUP, groups, seed: 'backlog-worst' });
    const worst = await rig.run({
      bench: worstBench,
      approve: true,
      retryIntervalMs: 0,
      handlers: worstCaseHandlers,
      maxDeletionsPerRun: 10_000,
    });
    const worstExecutions = byExecution(worst.events);
    const candidates = worst.items.filter((item) => item.kind === 'IMAGE' && item.status === 'FAILED').length;
    const derived = worstCaseTreeEvents(tree, candidates);
    const at20k = worstCaseTreeEvents(tree, 20_000);

    const rows = [...executions].map(([name, figures]) => ({
      execution: name,
      'history events': int(awsHistoryEvents(figures.events)),
      'worst case (measured)': int(awsHistoryEvents(worstExecutions.get(name)?.events ?? [])),
      'largest payload': kib(figures.largestPayload),
    }));
    printTable(
      `Backlog: ${deregistered.length} AMIs deregistered under one approval in ${executions.size - 1} DeleteBatch children ` +
        `(≤ ${itemsPerBatch(tree)} items each), EC2 buckets on; worst case = every deletion step spends every retrier`,
      rows,
    );
    const largestEvents = Math.max(...[...worstExecutions.values()].map((f) => awsHistoryEvents(f.events)));
    const largestPayload = Math.max(...[...executions.values()].map((f) => f.largestPayload));
    printTable('Backlog: figures', [
      {
        'dereg/s overall (past the burst)': `${perSecond(overall)} (${perSecond(rate)})`,
        'past the burst, of 5/s': (rate / DEREGISTER_REFILL).toFixed(2),
        FAILED: failed,
        'largest worst-case history (measured)': int(largestEvents),
        'derived worst case here (parent / child)': `${int(derived.parent)} / ${int(derived.child)}`,
        'derived at 20,000 (parent / child)': `${int(at20k.parent)} / ${int(at20k.child)} (${at20k.batches} children)`,
        'largest payload': kib(largestPayload),
      },
    ]);
    return [
      {
        bench: 'backlog',
        case: `${deregistered.length} AMIs, ${executions.size - 1} children, buckets on`,
        figure:
          `${perSecond(rate)} past the 100-call burst = ${(rate / DEREGISTER_REFILL).toFixed(2)} of 5/s, ${failed} FAILED; largest worst-case ` +
          `history ${int(largestEvents)} (derived at 20,000: ${int(at20k.parent)} parent, ${int(at20k.child)} child); ` +
          `largest payload ${kib(largestPayload)}`,
      },
    ];
  });
}
