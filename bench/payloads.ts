/**
 * Step Functions limits: the largest state payload of a full local dry run at 100k AMIs (vs
 * 256 KiB), and the history events of an approved run at maxDeletionsPerRun 500 (vs 25,000),
 * extrapolated from two small approved runs: once fault-free, once with every deletion step
 * exhausting every retrier (the worst case the definition's Retry lists allow), compared with
 * the per-item bound functions/core/quotas.ts derives from the ASL.
 */
import type { LocalStack } from '../cli/local-runner/local-stack.ts';
import { itemsPerBatch } from '../functions/core/quotas.ts';
import {
  DELETE_BATCH_DEFINITION_PATH,
  definitionHistoryBudget,
  loadDefinitionTemplate,
} from '../infra/lib/definition.ts';
import {
  int,
  jsonBytes,
  kib,
  ms,
  pct,
  printTable,
  type SummaryRow,
  seededAccount,
  type TimedEvent,
  withLocalRig,
} from './harness.ts';

const PAYLOAD_LIMIT = 256 * 1024;
const HISTORY_LIMIT = 25_000;
const MAX_DELETIONS = 500;
const DRY_RUN_IMAGES = 100_000;

/** The largest input or output seen, and where. */
class PayloadWatch {
  bytes = 0;
  where = '';

  observe(event: TimedEvent): void {
    const { state } = event;
    if (state === undefined) return;
    for (const [side, value] of [
      ['input', state.input],
      ['output', state.output],
    ] as const) {
      if (value === undefined) continue;
      const bytes = jsonBytes(value);
      if (bytes > this.bytes) {
        this.bytes = bytes;
        this.where = `${state.name} ${side}${event.index === undefined ? '' : ' (Map item)'}`;
      }
    }
  }
}

/** The three slowest handler calls, e.g. `RecordPlan 38,000 ms`. */
const slowest = (calls: readonly { handler: string; ms: number }[]): string =>
  [...calls]
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 3)
    .map((call) => `${call.handler} ${ms(call.ms)}`)
    .join(', ');

/**
 * History events AWS would record for the runner's events: a Lambda task state is
 * Entered + Scheduled + Started + Succeeded + Exited (5), a Map state Entered + Started +
 * Succeeded + Exited (4). A failed attempt is the runner's StateFailed (TaskFailed, 1), and a
 * retry adds Scheduled + Started (2). A caught failure has no Succeeded, so StateCaught takes
 * back the one its Exited counted. Every other event is one.
 */
export function awsHistoryEvents(events: readonly TimedEvent[]): number {
  let total = 0;
  for (const event of events) total += awsHistoryEventsOf(event);
  return total;
}

/** `awsHistoryEvents` of one event, for benchmarks that count as the events come. */
export function awsHistoryEventsOf(event: Pick<TimedEvent, 'type' | 'state'>): number {
  const type = event.state?.type;
  if (event.type === 'StateEntered') return type === 'Task' ? 3 : type === 'Map' ? 2 : 1;
  if (event.type === 'StateExited') return type === 'Task' || type === 'Map' ? 2 : 1;
  if (event.type === 'StateRetried') return 2;
  if (event.type === 'StateCaught') return -1;
  return 1;
}

/** Errors as the Lambda service reports them, by the `name` the ASL's Retry matches. */
const failure = (name: string) => Object.assign(new Error(`${name} (injected)`), { name });

/**
 * Handlers that make every AMI's iteration take the longest path the definition allows:
 * Deregister spends its transient retries and its crash retry, then succeeds; DeleteSnapshots
 * spends both and then fails for good; RecordImageFailure spends both and fails too.
 */
export function worstCaseHandlers(real: LocalStack['handlers']): Partial<LocalStack['handlers']> {
  const attempts = new Map<string, number>();
  const failFirst = (state: string, transient: number, crash: number, thenFail: boolean) => {
    const handler = real[state as keyof typeof real] as (event: never) => Promise<unknown>;
    return async (event: never) => {
      const key = `${state} ${JSON.stringify(event)}`;
      const attempt = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, attempt);
      if (attempt <= transient) throw failure('TransientAwsError');
      if (attempt <= transient + crash) throw failure('Runtime.ExitError');
      if (thenFail) throw failure('PermanentInjectedError');
      return handler(event);
    };
  };
  // The attempts each retrier allows, read from the definition (so the bench follows its changes).
  type State = { Retry?: { MaxAttempts: number }[]; ItemProcessor?: { States: Record<string, State> } };
  // The deletion Maps live in the DeleteBatch child.
  const definition = JSON.parse(loadDefinitionTemplate(DELETE_BATCH_DEFINITION_PATH)) as {
    States: Record<string, State>;
  };
  const processor = definition.States.DeleteImages?.ItemProcessor?.States ?? {};
  const retries = (state: string) => (processor[state]?.Retry ?? []).map((r) => r.MaxAttempts);
  const [dt = 0, dc = 0] = retries('Deregister');
  const [st = 0, sc = 0] = retries('DeleteSnapshots');
  const [rt = 0, rc = 0] = retries('RecordImageFailure');
  return {
    DeregisterImage: failFirst('DeregisterImage', dt, dc, false),
    DeleteImageSnapshots: failFirst('DeleteImageSnapshots', st, sc, true),
    RecordFailure: failFirst('RecordFailure', rt, rc, true),
  } as Partial<LocalStack['handlers']>;
}

export async function runPayloads(): Promise<SummaryRow[]> {
  return withLocalRig(async (rig) => {
    // 1. The largest payload of a dry run at 100k AMIs.
    const largest = new PayloadWatch();
    const started = performance.now();
    const dry = await rig.run({
      bench: seededAccount({ images: DRY_RUN_IMAGES, groups: DRY_RUN_IMAGES / 20 }),
      input: { dryRun: true },
      onEvent: (event) => largest.observe(event),
    });
    const dryMs = performance.now() - started;

    // 2. History events per candidate, from two small approved runs.
    const approved = async (groups: number, perGroup: number) => {
      const sizes = new PayloadWatch();
      const outcome = await rig.run({
        bench: seededAccount({ images: groups * perGroup, groups, seed: `history-${perGroup}` }),
        approve: true,
        onEvent: (event) => sizes.observe(event),
      });
      const candidates = outcome.items.filter((item) => item.status === 'DONE').length;
      return { candidates, runner: outcome.events.length, aws: awsHistoryEvents(outcome.events), sizes };
    };
    const small = await approved(2, 10);
    const large = await approved(2, 25);

    // 3. The worst case: every deletion step of every AMI exhausts its retries.
    const worst = async (groups: number, perGroup: number) => {
      const outcome = await rig.run({
        bench: seededAccount({ images: groups * perGroup, groups, seed: `worst-${perGroup}` }),
        approve: true,
        retryIntervalMs: 0,
        handlers: worstCaseHandlers,
      });
      const candidates = outcome.items.filter(
        (item) => item.kind === 'IMAGE' && item.status === 'FAILED',
      ).length;
      return { candidates, aws: awsHistoryEvents(outcome.events), status: outcome.result.status };
    };
    const worstSmall = await worst(2, 10);
    const worstLarge = await worst(2, 25);
    const worstPer = (worstLarge.aws - worstSmall.aws) / (worstLarge.candidates - worstSmall.candidates);
    const worstAt500 = worstSmall.aws + worstPer * (MAX_DELETIONS - worstSmall.candidates);
    // Deletions run in DeleteBatch children: the per-item bound is the child's, cut at one batch.
    const tree = definitionHistoryBudget();
    const derived = { fixed: tree.parent.fixed + tree.child.fixed, perItem: tree.child.perItem };
    const cap = itemsPerBatch(tree);
    const slope = (a: number, b: number) => (b - a) / (large.candidates - small.candidates);
    const runnerPer = slope(small.runner, large.runner);
    const awsPer = slope(small.aws, large.aws);
    const awsFixed = small.aws - awsPer * small.candidates;
    const awsAt500 = awsFixed + awsPer * MAX_DELETIONS;
    const bytesPer = slope(small.sizes.bytes, large.sizes.bytes);
    const bytesAt500 = small.sizes.bytes + bytesPer * (MAX_DELETIONS - small.candidates);

    printTable(`Payloads: dry run at ${int(DRY_RUN_IMAGES)} AMIs (1 run, ${Math.round(dryMs / 1000)} s)`, [
      {
        status: dry.result.error ? `${dry.result.status}: ${dry.result.error.error}` : dry.result.status,
        'runner events': int(dry.events.length),
        'largest payload': kib(largest.bytes),
        'of 256 KiB': pct(largest.bytes / PAYLOAD_LIMIT),
        state: largest.where,
        'slowest handlers (each task is bounded at 900 s)': slowest(dry.handlerCalls),
      },
    ]);
    printTable('History: approved runs (no rate limits), events counted per run', [
      ...[small, large].map((run) => ({
        'items DONE': run.candidates,
        'runner events': run.runner,
        'AWS-equivalent events': run.aws,
        'largest payload': `${kib(run.sizes.bytes)} (${run.sizes.where})`,
      })),
      {
        'items DONE': `per item`,
        'runner events': runnerPer.toFixed(1),
        'AWS-equivalent events': awsPer.toFixed(1),
        'largest payload': `${int(bytesPer)} B`,
      },
      {
        'items DONE': `at ${MAX_DELETIONS} (est.)`,
        'runner events': int(small.runner + runnerPer * (MAX_DELETIONS - small.candidates)),
        'AWS-equivalent events': `${int(awsAt500)} = ${pct(awsAt500 / HISTORY_LIMIT)} of 25,000`,
        'largest payload': `${kib(bytesAt500)} = ${pct(bytesAt500 / PAYLOAD_LIMIT)} of 256 KiB`,
      },
    ]);
    printTable(
      'History: worst case (every deletion step exhausts every retrier), vs the bound derived from the ASL',
      [
        ...[worstSmall, worstLarge].map((run) => ({
          'items FAILED': run.candidates,
          'AWS-equivalent events': run.aws,
          derived: int(derived.fixed + derived.perItem * run.candidates),
          status: run.status,
        })),
        {
          'items FAILED': 'per item',
          'AWS-equivalent events': worstPer.toFixed(1),
          derived: `${derived.perItem} (fixed ${derived.fixed})`,
          status: '',
        },
        {
          'items FAILED': `at ${MAX_DELETIONS} (est.)`,
          'AWS-equivalent events': `${int(worstAt500)} = ${pct(worstAt500 / HISTORY_LIMIT)} of 25,000`,
          derived: `${int(derived.fixed + derived.perItem * MAX_DELETIONS)}; cap ${cap}`,
          status: '',
        },
      ],
    );
    return [
      {
        bench: 'payloads',
        case: `worst case, ${MAX_DELETIONS} items (est.)`,
        figure: `${int(worstAt500)} history events (${pct(worstAt500 / HISTORY_LIMIT)} of 25,000); derived bound ${derived.fixed} + ${derived.perItem}/item, cap ${cap}`,
      },
      {
        bench: 'payloads',
        case: `dry run ${int(DRY_RUN_IMAGES)} AMIs`,
        figure: `largest ${kib(largest.bytes)} (${pct(largest.bytes / PAYLOAD_LIMIT)} of 256 KiB) at ${largest.where}`,
      },
      {
        bench: 'payloads',
        case: `approved, ${MAX_DELETIONS} items (est.)`,
        figure: `${int(awsAt500)} history events (${pct(awsAt500 / HISTORY_LIMIT)} of 25,000); largest payload ${kib(bytesAt500)}`,
      },
    ];
  });
}
