/**
 * Shared wiring for the benchmarks: a seeded simulated account with real SDK clients, a local
 * stack (dynalite ledger, approval page on loopback) that runs the real state machine, and small
 * helpers to measure and print. Benchmarks print figures; they never assert timings.
 */
import '../cli/local-runner/polyfills.ts';
import { type LocalLedger, startLocalLedger } from '../cli/local-ledger.ts';
import { startApprovalServer } from '../cli/local-runner/approval-server.ts';
import { createLocalStack, type LocalStack } from '../cli/local-runner/local-stack.ts';
import {
  type ExecutionEvent,
  type LocalRunResult,
  runWorkflowLocally,
} from '../cli/local-runner/run-workflow.ts';
import { answerApprovalLink } from '../cli/local-runner/scripted-approver.ts';
import { SimulatedAccount } from '../cli/simulated-account/account.ts';
import { type GeneratedScenario, generatedScenario } from '../cli/simulated-account/seeds.ts';
import type { AwsClients } from '../functions/adapters/clients.ts';
import { createAwsClients } from '../functions/adapters/clients.ts';
import type { LedgerItem } from '../functions/adapters/ledger/index.ts';
import type { RecycleBinRetention } from '../functions/core/recycle-bin.ts';
import { DEFAULT_PLAN_SETTINGS, type PlanSettings } from '../functions/core/settings.ts';

// ---------------------------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------------------------

export type Row = Record<string, string | number>;

/** One line of the final summary table: benchmark, case, and its headline figure. */
export interface SummaryRow {
  readonly bench: string;
  readonly case: string;
  readonly figure: string;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Runs `fn` `reps` times, one after another. */
export async function repeat<T>(reps: number, fn: (rep: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let rep = 0; rep < reps; rep++) results.push(await fn(rep));
  return results;
}

export const ms = (value: number): string => `${Math.round(value).toLocaleString('en-US')} ms`;
export const int = (value: number): string => Math.round(value).toLocaleString('en-US');
export const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;
export const pct = (ratio: number): string => `${(ratio * 100).toFixed(1)}%`;
export const perSecond = (value: number): string => `${value.toFixed(2)}/s`;
export const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value ?? null));

export function countBy<T>(items: Iterable<T>, key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

/** `a=1, b=2` sorted by key. */
export const formatCounts = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, n]) => `${key}=${int(n)}`)
    .join(', ');

export function printTable(title: string, rows: readonly Row[]): void {
  console.log(`\n${title}`);
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0] as Row);
  const cell = (row: Row, column: string) => String(row[column] ?? '');
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((row) => cell(row, c).length)));
  const line = (values: string[]) => `  ${values.map((v, i) => v.padEnd(widths[i] as number)).join('  ')}`;
  console.log(line(columns));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(columns.map((c) => cell(row, c))));
}

// ---------------------------------------------------------------------------------------------
// A seeded account
// ---------------------------------------------------------------------------------------------

export interface BenchAccount {
  readonly account: SimulatedAccount;
  readonly clients: AwsClients;
  readonly scenario: GeneratedScenario;
}

/**
 * A simulated account seeded with `generatedScenario`, real SDK clients attached. Each group keeps
 * its 4 newest AMIs and its in-use middle one, so `groups` of `k` images give `groups * (k - 5)`
 * candidates at the default settings.
 */
export function seededAccount(options: {
  images: number;
  groups: number;
  seed?: string;
  dataVolumeShare?: number;
}): BenchAccount {
  const account = new SimulatedAccount({ seed: options.seed ?? 'bench' });
  const scenario = generatedScenario(account, {
    images: options.images,
    groups: options.groups,
    now: new Date(),
    seed: options.seed ?? 'bench',
    ...(options.dataVolumeShare === undefined ? {} : { dataVolumeShare: options.dataVolumeShare }),
  });
  const clients = createAwsClients({
    region: account.region,
    credentials: { accessKeyId: 'AKIDSIMULATED', secretAccessKey: 'simulated' },
  });
  for (const client of Object.values(clients)) account.attach(client);
  // The simulator sorts its indexes on the first read after seeding; do it now, untimed.
  account.images.page(undefined, 0, () => true);
  account.snapshots.page(undefined, 0, () => true);
  return { account, clients, scenario };
}

/** Successful calls (after the SDK's own retries) of each command, with the time each returned. */
export function clockSuccessfulCalls(clients: AwsClients): Map<string, number[]> {
  const times = new Map<string, number[]>();
  clients.ec2.middlewareStack.add(
    (next, context) => async (args) => {
      const output = await next(args);
      const command = (context.commandName ?? '').replace(/Command$/, '');
      const list = times.get(command) ?? [];
      list.push(performance.now());
      times.set(command, list);
      return output;
    },
    { step: 'initialize', name: 'benchClock' },
  );
  return times;
}

// ---------------------------------------------------------------------------------------------
// The local stack: ledger, approval page and the real state machine
// ---------------------------------------------------------------------------------------------

/** An execution event as the runner emits it, with the time the bench received it. */
export interface TimedEvent extends ExecutionEvent {
  readonly at: number;
  readonly state?: {
    readonly name: string;
    readonly type?: string;
    readonly input?: unknown;
    readonly output?: unknown;
  };
}

export interface RunOptions {
  readonly bench: BenchAccount;
  /** Execution input; default `{}` (a real, approval-gated run). */
  readonly input?: Record<string, unknown>;
  readonly settings?: Partial<PlanSettings>;
  readonly maxDeletionsPerRun?: number;
  readonly deletionMaxConcurrency?: number;
  /** Approve the plan through the emailed link, as a person would. */
  readonly approve?: boolean;
  /** Called for every event as it happens (e.g. to measure payloads without keeping them). */
  readonly onEvent?: (event: TimedEvent) => void;
  /** Keep every event in the outcome (default true); a 20,000-item run counts them in `onEvent` instead. */
  readonly keepEvents?: boolean;
  /** Replaces parts of the stack before the run, e.g. to count the approval page's invocations. */
  readonly wrapStack?: (stack: LocalStack) => LocalStack;
  /** Replaces some step handlers (e.g. to make every deletion exhaust its retries). */
  readonly handlers?: (real: LocalStack['handlers']) => Partial<LocalStack['handlers']>;
  /** Replaces every Retry interval (ms); default the definition's own. */
  readonly retryIntervalMs?: number;
  /** Recycle Bin retention on: the deletion steps tag (CreateTags) right before deleting. */
  readonly recycleBin?: RecycleBinRetention;
}

/**
 * The stack with every handler wrapped: `settled()` waits for handlers still running (the local
 * runner times a task out after 60 s without cancelling its handler), `durations` times each call.
 */
function instrument(stack: LocalStack) {
  const inFlight = new Set<Promise<unknown>>();
  const durations: { readonly handler: string; readonly ms: number }[] = [];
  const handlers = Object.fromEntries(
    Object.entries(stack.handlers).map(([id, handler]) => [
      id,
      (event: never) => {
        const started = performance.now();
        const call = (handler as (event: never) => Promise<unknown>)(event).finally(() => {
          durations.push({ handler: id, ms: performance.now() - started });
          inFlight.delete(call);
        });
        inFlight.add(call);
        return call;
      },
    ]),
  ) as LocalStack['handlers'];
  const settled = async () => {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };
  return { stack: { ...stack, handlers }, durations, settled };
}

export interface RunOutcome {
  readonly result: LocalRunResult;
  readonly events: readonly TimedEvent[];
  readonly startedAt: number;
  /** When the approval POST was answered. */
  readonly approvedAt?: number;
  /** `account.calls.length` at that moment: later calls are the deletion phase's. */
  readonly callsAtApproval?: number;
  readonly endedAt: number;
  readonly items: readonly LedgerItem[];
  /** Every handler call (Lambda invocation) and how long it took. */
  readonly handlerCalls: readonly { readonly handler: string; readonly ms: number }[];
}

export interface LocalRig {
  /** The ledger's DynamoDB client, shared by every run (e.g. to count its requests). */
  readonly ledgerClient: LocalLedger['client'];
  run(options: RunOptions): Promise<RunOutcome>;
  stop(): Promise<void>;
}

/** One dynalite ledger and one approval server, shared by every run (each run has its own id). */
export async function startLocalRig(): Promise<LocalRig> {
  const local = await startLocalLedger();
  let stack: LocalStack | undefined;
  const server = await startApprovalServer(() => (stack as LocalStack).approvalPage);
  return {
    ledgerClient: local.client,
    async run(options) {
      const { bench } = options;
      const instrumented = instrument(
        createLocalStack({
          clients: bench.clients,
          region: bench.account.region,
          ledger: local.ledger,
          simulated: bench.account,
          defaultSettings: { ...DEFAULT_PLAN_SETTINGS, ...options.settings },
          maxDeletionsPerRun: options.maxDeletionsPerRun ?? 500,
          approvalTimeoutSeconds: 600,
          approvalBaseUrl: server.baseUrl,
          ...(options.recycleBin ? { recycleBin: options.recycleBin } : {}),
        }),
      );
      const withHandlers = options.handlers
        ? {
            ...instrumented.stack,
            handlers: { ...instrumented.stack.handlers, ...options.handlers(instrumented.stack.handlers) },
          }
        : instrumented.stack;
      stack = options.wrapStack?.(withHandlers) ?? withHandlers;
      const events: TimedEvent[] = [];
      let approvedAt: number | undefined;
      let callsAtApproval: number | undefined;
      let approval: Promise<void> = Promise.resolve();
      const startedAt = performance.now();
      const result = await runWorkflowLocally(stack, {
        input: options.input ?? {},
        ...(options.retryIntervalMs === undefined ? {} : { retryIntervalMs: options.retryIntervalMs }),
        ...(options.deletionMaxConcurrency === undefined
          ? {}
          : { deletionMaxConcurrency: options.deletionMaxConcurrency }),
        onEvent: (event) => {
          const timed = { ...event, at: performance.now() } as TimedEvent;
          if (options.keepEvents !== false) events.push(timed);
          options.onEvent?.(timed);
        },
        onApprovalRequested: (request) => {
          if (!options.approve) return;
          approval = answerApprovalLink(request.link, 'APPROVE', 'bench').then(() => {
            approvedAt = performance.now();
            callsAtApproval = bench.account.calls.length;
          });
        },
      });
      const endedAt = performance.now();
      await approval;
      await instrumented.settled();
      const items = await local.ledger.listItems(result.executionName);
      return {
        result,
        events,
        startedAt,
        ...(approvedAt === undefined ? {} : { approvedAt, callsAtApproval }),
        endedAt,
        items,
        handlerCalls: instrumented.durations,
      };
    },
    async stop() {
      await server.close();
      await local.stop();
    },
  };
}

/** Starts a rig, hands it to `fn`, and always stops it. */
export async function withLocalRig<T>(fn: (rig: LocalRig) => Promise<T>): Promise<T> {
  const rig = await startLocalRig();
  try {
    return await fn(rig);
  } finally {
    await rig.stop();
  }
}
