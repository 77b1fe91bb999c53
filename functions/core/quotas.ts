/**
 * Step Functions quotas in the worst case, derived from the definition itself (plain ASL JSON),
 * so a change to a Retry list changes the limit with it.
 *
 * History events (25,000 per execution). AWS records, per state visited:
 * - a Task: Entered + Exited, and per attempt Scheduled + Started + (Succeeded | Failed | TimedOut),
 *   plus Submitted for `.waitForTaskToken` / `.sync` resources;
 * - a Map: Entered + Started + (Succeeded | Failed) + Exited, and per iteration
 *   IterationStarted + (IterationSucceeded | IterationFailed) around the iteration's own states;
 * - every other state: Entered + Exited; the execution itself: Started + (Succeeded | Failed).
 * A Task's attempts are at most 1 + the sum of its retriers' MaxAttempts (default 3 each): one
 * error can only be matched by one retrier, but a run of different errors can use every one.
 *
 * worst case = fixed + perItem × items, where `fixed` is the longest path through the top-level
 * states (each Map counted without its iterations) and `perItem` the longest path through any
 * Map's ItemProcessor plus its 2 iteration events. Both deletion Maps together iterate at most
 * `maxDeletionsPerRun` times (the cap counts AMIs and orphan snapshots together).
 *
 * One loop is allowed: Rotate's passes, back to `ROTATE_PASS_CHOICE` (core/rotate-passes.ts). The
 * longest path counts one pass; `perPass` is the events of one more trip round the loop, at most
 * `rotatePasses(cap) - 1` more (the Rotate Lambda refuses any pass past that bound).
 */

import {
  BATCH_DESCRIPTOR_BYTES,
  DELETE_BATCH_HISTORY_TARGET,
  DELETE_BATCH_MAX_BYTES,
} from './deletion-batches.ts';
import { rotatePasses } from './rotate-passes.ts';

export const HISTORY_EVENT_LIMIT = 25_000;
/**
 * The per-run cap's default (construct `maxDeletionsPerRun`, CLI `--max-deletions`): a backlog of
 * 20,000 AMIs drains under one approval (164 DeleteBatch children, 3 Rotate passes; the parent's
 * worst case is about 3,800 events). Still a blast-radius limit: lower it to approve less at once.
 */
export const DEFAULT_MAX_DELETIONS_PER_RUN = 20_000;
/** Step Functions' limit on a state's input or output, and on the execution input. */
export const PAYLOAD_LIMIT_BYTES = 256 * 1024;

interface AslRetrier {
  readonly MaxAttempts?: number;
}
interface AslState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Next?: string;
  readonly Default?: string;
  readonly Choices?: readonly { readonly Next?: string }[];
  readonly Catch?: readonly { readonly Next?: string }[];
  readonly Retry?: readonly AslRetrier[];
  readonly ItemProcessor?: AslStates & { readonly ProcessorConfig?: { readonly Mode?: string } };
  readonly Iterator?: AslStates;
}
export interface AslStates {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
}

export interface HistoryBudget {
  /** Events of the longest path outside the Map iterations, execution events included. */
  readonly fixed: number;
  /** Events of the longest path through one Map iteration, iteration events included. */
  readonly perItem: number;
  /** Events of one more trip round Rotate's pass loop (0 or absent: the definition has none). */
  readonly perPass?: number;
}

/** The Choice Rotate's pass loop returns to: the one back edge a definition may have. */
export const ROTATE_PASS_CHOICE = 'RotateDone?';

/** The definition cannot be bounded (a loop, a nested Map, an unknown state). */
export class UnboundedDefinitionError extends Error {
  override readonly name = 'UnboundedDefinitionError';
}

const DEFAULT_MAX_ATTEMPTS = 3;

/** Most attempts a Task can make: the first one plus every retrier's MaxAttempts. */
export function maxAttempts(state: Pick<AslState, 'Retry'>): number {
  return 1 + (state.Retry ?? []).reduce((sum, r) => sum + (r.MaxAttempts ?? DEFAULT_MAX_ATTEMPTS), 0);
}

function taskEvents(state: AslState): number {
  const perAttempt = /\.(waitForTaskToken|sync(:2)?)$/.test(state.Resource ?? '') ? 4 : 3;
  return 2 + perAttempt * maxAttempts(state);
}

export function historyBudget(definition: AslStates): HistoryBudget {
  let perItem = 0;
  const loops = { perPass: 0 };
  const fixed =
    2 +
    longestPath(
      definition,
      (state) => {
        const inner = state.ItemProcessor ?? state.Iterator;
        if (!inner) return undefined;
        perItem = Math.max(
          perItem,
          2 +
            longestPath(inner, (nested) => {
              if (nested.ItemProcessor ?? nested.Iterator)
                throw new UnboundedDefinitionError('nested Map states are not budgeted');
              return undefined;
            }),
        );
        return 4;
      },
      loops,
    );
  return loops.perPass > 0 ? { fixed, perItem, perPass: loops.perPass } : { fixed, perItem };
}

/** History events of an execution that deletes `items` items, every step failing as often as its retries allow. */
export function worstCaseHistoryEvents(budget: HistoryBudget, items: number): number {
  return budget.fixed + budget.perItem * items;
}

/** The largest `maxDeletionsPerRun` whose worst case stays within the history limit. */
export function maxItemsWithinHistory(budget: HistoryBudget, limit: number = HISTORY_EVENT_LIMIT): number {
  return Math.max(0, Math.floor((limit - budget.fixed) / budget.perItem));
}

/** Null when `items` fits; otherwise a message saying why and what would fit. */
export function historyBudgetProblem(budget: HistoryBudget, items: number): string | null {
  const worst = worstCaseHistoryEvents(budget, items);
  if (worst <= HISTORY_EVENT_LIMIT) return null;
  return (
    `maxDeletionsPerRun ${items} could take ${worst.toLocaleString('en-US')} history events in the worst case ` +
    `(${budget.fixed} + ${budget.perItem} per item, from the definition's Retry MaxAttempts), past Step Functions' ` +
    `${HISTORY_EVENT_LIMIT.toLocaleString('en-US')}; at most ${maxItemsWithinHistory(budget)} fit`
  );
}

/**
 * Events of the longest path from StartAt. A back edge to `ROTATE_PASS_CHOICE` (when `loops` is
 * given, i.e. at the top level) adds nothing to the path; the events round that cycle are kept in
 * `loops.perPass`. Any other loop cannot be bounded.
 */
function longestPath(
  states: AslStates,
  mapCost: (state: AslState) => number | undefined,
  loops?: { perPass: number },
): number {
  const memo = new Map<string, number>();
  // The current path with each state's own events, to price a cycle when a back edge closes it.
  const path: { readonly name: string; readonly own: number }[] = [];
  const walk = (name: string): number => {
    const known = memo.get(name);
    if (known !== undefined) return known;
    const state = states.States[name];
    if (!state) throw new UnboundedDefinitionError(`state "${name}" is not defined`);
    const onPath = path.findIndex((p) => p.name === name);
    if (onPath >= 0) {
      if (loops === undefined || name !== ROTATE_PASS_CHOICE)
        throw new UnboundedDefinitionError(`state "${name}" is part of a loop`);
      const cycle = path.slice(onPath).reduce((sum, p) => sum + p.own, 0);
      loops.perPass = Math.max(loops.perPass, cycle);
      return 0;
    }
    let own: number;
    if (state.Type === 'Task') own = taskEvents(state);
    else if (state.Type === 'Map') own = mapCost(state) ?? 4;
    else if (state.Type === 'Parallel')
      throw new UnboundedDefinitionError('Parallel states are not budgeted');
    else own = 2;
    path.push({ name, own });
    const next = [
      state.Next,
      state.Default,
      ...(state.Choices ?? []).map((c) => c.Next),
      ...(state.Catch ?? []).map((c) => c.Next),
    ].filter((n): n is string => typeof n === 'string');
    const rest = next.reduce((most, n) => Math.max(most, walk(n)), 0);
    path.pop();
    // A state of the loop is priced without its back edge: right, since the loop is entered only
    // through its Choice (RotateNextPass has no other way in).
    memo.set(name, own + rest);
    return own + rest;
  };
  return walk(states.StartAt);
}

// ---------------------------------------------------------------------------------------------
// Payloads
// ---------------------------------------------------------------------------------------------

/**
 * What a state can hold besides `$.run`, at most (see docs/DESIGN.md, "Payload budget"):
 * - two Step Functions errors (`$.error` and `$.cleanupError`), each Error ≤ 256 and
 *   Cause ≤ 32,768 characters; 40 KiB each leaves a quarter for the escaping of the JSON a
 *   Lambda failure's Cause carries;
 * - the small results (keys, counts, hashes, the approval with its approver, the summary);
 * - `$.work`: one descriptor per DeleteBatch child (the batches themselves are in the workspace).
 * A DeleteBatch child holds at most `DELETE_BATCH_MAX_BYTES` of ids: `WORK_ENTRY_BYTES` is the
 * budget of one deletion's entry there, which sizes the batches in the worst case.
 */
export const STATE_ERROR_BYTES = 2 * 40 * 1024;
export const STATE_SMALL_RESULTS_BYTES = 8 * 1024;
export const WORK_ENTRY_BYTES = 200;

export interface PayloadEstimate {
  readonly runBytes: number;
  readonly batches: number;
  readonly worstCaseBytes: number;
}

/** The parent's largest state: the run, errors, results and one descriptor per DeleteBatch child. */
export function worstCaseStateBytes(runBytes: number, batches: number): PayloadEstimate {
  return {
    runBytes,
    batches,
    worstCaseBytes:
      runBytes + STATE_ERROR_BYTES + STATE_SMALL_RESULTS_BYTES + BATCH_DESCRIPTOR_BYTES * batches,
  };
}

/** Null when the state fits in 256 KiB in the worst case; otherwise what to change. */
export function payloadBudgetProblem(estimate: PayloadEstimate): string | null {
  if (estimate.worstCaseBytes <= PAYLOAD_LIMIT_BYTES) return null;
  const kib = (bytes: number) => `${Math.ceil(bytes / 1024)} KiB`;
  return (
    `the run's state could reach ${kib(estimate.worstCaseBytes)} in the worst case, past Step Functions' 256 KiB: ` +
    `run context ${kib(estimate.runBytes)} (settings, fromIds) + ${estimate.batches} deletion batches × ${BATCH_DESCRIPTOR_BYTES} B ` +
    `+ ${kib(STATE_ERROR_BYTES + STATE_SMALL_RESULTS_BYTES)} for errors and results; ` +
    'pass fewer fromIds or a lower maxDeletionsPerRun'
  );
}

// ---------------------------------------------------------------------------------------------
// The deletion tree: the run's execution and its DeleteBatch children
// ---------------------------------------------------------------------------------------------

/**
 * The run's execution (parent: one Map iteration per batch, a `.sync:2` task each) and its
 * DeleteBatch child (one Map iteration per AMI or orphan snapshot), both derived from their ASL.
 */
export interface DeletionTreeBudget {
  readonly parent: HistoryBudget;
  readonly child: HistoryBudget;
}

export interface TreeWorstCase {
  readonly itemsPerBatch: number;
  readonly batches: number;
  /** Rotate's passes at this cap (the planning loop the parent runs). */
  readonly rotatePasses: number;
  /** Worst-case history events of the parent execution, every Rotate pass included. */
  readonly parent: number;
  /** Worst-case history events of the largest DeleteBatch child. */
  readonly child: number;
}

/**
 * Most items one DeleteBatch child takes: its worst-case history within
 * `DELETE_BATCH_HISTORY_TARGET`, and its ids within `DELETE_BATCH_MAX_BYTES` at `WORK_ENTRY_BYTES`
 * each (LoadApproved packs by the real bytes too, so larger entries make smaller batches).
 */
export function itemsPerBatch(tree: DeletionTreeBudget): number {
  return Math.max(
    1,
    Math.min(
      maxItemsWithinHistory(tree.child, DELETE_BATCH_HISTORY_TARGET),
      Math.floor(DELETE_BATCH_MAX_BYTES / WORK_ENTRY_BYTES),
    ),
  );
}

export function worstCaseTreeEvents(tree: DeletionTreeBudget, items: number): TreeWorstCase {
  const perBatch = itemsPerBatch(tree);
  const batches = Math.ceil(items / perBatch);
  const passes = rotatePasses(items);
  return {
    itemsPerBatch: perBatch,
    batches,
    rotatePasses: passes,
    parent: worstCaseHistoryEvents(tree.parent, batches) + (tree.parent.perPass ?? 0) * (passes - 1),
    child: worstCaseHistoryEvents(tree.child, Math.min(items, perBatch)),
  };
}

/** What a run context (settings, no fromIds) is assumed to weigh when the cap is checked at synth. */
export const RUN_CONTEXT_BYTES = 16 * 1024;

/**
 * The largest `maxDeletionsPerRun` whose parent stays within the history limit (its batches and
 * Rotate's passes) and 256 KiB of descriptors.
 */
export function maxItemsWithinTree(tree: DeletionTreeBudget, runBytes = RUN_CONTEXT_BYTES): number {
  const byHistory = maxItemsWithinHistory(tree.parent);
  const byPayload = Math.floor(
    (PAYLOAD_LIMIT_BYTES - runBytes - STATE_ERROR_BYTES - STATE_SMALL_RESULTS_BYTES) / BATCH_DESCRIPTOR_BYTES,
  );
  // Without passes this many fit; more passes only lower it (the parent grows with the cap).
  let fits = 0;
  let over = Math.max(0, Math.min(byHistory, byPayload)) * itemsPerBatch(tree) + 1;
  while (over - fits > 1) {
    const mid = Math.floor((fits + over) / 2);
    if (worstCaseTreeEvents(tree, mid).parent <= HISTORY_EVENT_LIMIT) fits = mid;
    else over = mid;
  }
  return fits;
}

/** Null when `items` fit the whole tree in the worst case; otherwise why and what would fit. */
export function deletionTreeProblem(tree: DeletionTreeBudget, items: number): string | null {
  const worst = worstCaseTreeEvents(tree, items);
  const fits = worst.parent <= HISTORY_EVENT_LIMIT && worst.child <= HISTORY_EVENT_LIMIT;
  if (fits && items <= maxItemsWithinTree(tree)) return null;
  return (
    `maxDeletionsPerRun ${items} needs ${worst.batches} DeleteBatch children of ${worst.itemsPerBatch}; ` +
    `the run's execution could take ${worst.parent.toLocaleString('en-US')} history events in the worst case ` +
    `(${tree.parent.fixed} + ${tree.parent.perItem} per batch + ${tree.parent.perPass ?? 0} per further Rotate pass of ${worst.rotatePasses}, ` +
    `from the definitions' Retry MaxAttempts), ` +
    `each child ${worst.child.toLocaleString('en-US')}; Step Functions allows ` +
    `${HISTORY_EVENT_LIMIT.toLocaleString('en-US')}; at most ${maxItemsWithinTree(tree)} fit`
  );
}
