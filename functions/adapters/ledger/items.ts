/**
 * Items: one per AMI (`IMAGE#<imageId>`) and per orphan snapshot (`SNAPSHOT#<snapshotId>`) in the
 * run's partition. Every status change is a conditional update from the statuses it may come
 * from, so a second attempt of any step is harmless.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { KeepReason, Plan, PlannedSnapshot } from '../../core/model.ts';
import {
  FINAL_ITEM_STATUSES,
  type ItemStatus,
  RESTORABLE_ITEM_STATUSES,
  type RunContext,
} from '../../core/workflow.ts';
import { mapWithConcurrency } from '../concurrency.ts';
import { batchPut, conditionalWrite, WRITE_CONCURRENCY } from './conditional-write.ts';
import { LedgerFinalizeError, PlanConflictError } from './errors.ts';
import { plain, setExpression, statusIn } from './expressions.ts';
import { planItems } from './plan-items.ts';
import { queryAll } from './query-pages.ts';
import { RunStore } from './runs.ts';
import {
  BY_IMAGE_INDEX,
  type DocItem,
  type ItemKind,
  itemSk,
  type LedgerOptions,
  type LedgerTable,
  ledgerTable,
  RUN_SK,
  runPk,
} from './table.ts';

export type { ItemKind } from './table.ts';

/** Why an item is not deleted: a keep reason; MAX_DELETIONS_PER_RUN (the per-run cap) is DEFERRED. */
export type ItemReason = KeepReason;

export interface LedgerItem {
  readonly runId: string;
  readonly executionArn: string;
  readonly kind: ItemKind;
  /** The AMI id (IMAGE) or the snapshot id (SNAPSHOT). */
  readonly id: string;
  readonly status: ItemStatus;
  readonly planHash: string;
  readonly region: string;
  readonly attempts: number;
  /** When recordPlan wrote it; the `by-image` index's sort key. */
  readonly recordedAt: string;
  readonly updatedAt: string;
  /** Set on IMAGE items only, so the `by-image` index lists AMIs, not orphan snapshots. */
  readonly imageId?: string;
  readonly snapshotId?: string;
  /** SNAPSHOT items: the vanished AMI the snapshot's description names. */
  readonly sourceImageId?: string;
  readonly name?: string;
  readonly creationDate?: string;
  readonly group?: string;
  readonly reason?: ItemReason;
  readonly detail?: string;
  readonly snapshots?: readonly PlannedSnapshot[];
  /** IMAGE: sum of its snapshots; SNAPSHOT: the snapshot's size. */
  readonly sizeGiB: number;
  readonly lastError?: string;
  /** Attributes later steps added through `transition({ set })`. */
  readonly [attribute: string]: unknown;
}

export interface RecordPlanResult {
  readonly planHash: string;
  /** Candidates (AMIs + orphan snapshots) recorded PLANNED. */
  readonly toDelete: number;
  /** Items recorded DEFERRED: candidates beyond the cap, and AMIs whose sharing Rotate left unread. */
  readonly deferred: number;
  readonly kept: number;
  /** False when the items had already been recorded and had moved on, so nothing was written. */
  readonly written: boolean;
}

export interface TransitionOptions {
  readonly from: readonly ItemStatus[];
  readonly to: ItemStatus;
  /** Only transition an item recorded under this plan hash (binds deletions to the approved plan). */
  readonly planHash?: string;
  /** Extra attributes to set; the key, status, attempts and timestamps are refused. */
  readonly set?: Readonly<Record<string, unknown>>;
  /** Stored as `lastError`. */
  readonly error?: string;
  /** Add one to `attempts` (for steps that touch AWS). */
  readonly countAttempt?: boolean;
}

/** How a run ended, as far as its non-final items are concerned. */
export type FinalizeOutcome = 'COMPLETED' | 'REJECTED' | 'EXPIRED' | 'WITHDRAWN' | 'DRY_RUN' | 'FAILED';

export interface FinalizeResult {
  /** Items this call moved to a final status. */
  readonly moved: number;
  /** Every item of the run, by (final) status, after the call. */
  readonly byStatus: Readonly<Partial<Record<ItemStatus, number>>>;
}

const RESERVED_ITEM_ATTRIBUTES = new Set([
  'pk',
  'sk',
  'runId',
  'kind',
  'status',
  'attempts',
  'updatedAt',
  'recordedAt',
  'planHash',
  'imageId',
  'snapshotId',
  'lastError',
]);
/** Statuses recordPlan writes; items still in one of these have not been touched by a later step. */
const INITIAL_ITEM_STATUSES: readonly ItemStatus[] = ['PLANNED', 'KEPT', 'DEFERRED'];

export class ItemStore {
  readonly #table: LedgerTable;
  /** recordPlan checks the run and binds it to the plan; the items live in the run's partition. */
  readonly #runs: RunStore;

  constructor(options: LedgerOptions) {
    this.#table = ledgerTable(options);
    this.#runs = new RunStore(options);
  }

  /**
   * Writes one item per candidate AMI, kept AMI and orphan snapshot of the plan (capped by
   * `maxDeletionsPerRun`, default the run's; see `planItems`), and binds the run to the plan hash.
   *
   * Idempotent: re-running with the same plan rewrites identical items while none has moved on,
   * and writes nothing once any has (a late retry must not undo an approval). A different plan
   * for the same run is refused with PlanConflictError.
   */
  async recordPlan(
    run: RunContext,
    plan: Plan,
    options: { maxDeletionsPerRun?: number } = {},
  ): Promise<RecordPlanResult> {
    const cap = options.maxDeletionsPerRun ?? run.maxDeletionsPerRun;
    if (!Number.isInteger(cap) || cap < 0)
      throw new RangeError(`maxDeletionsPerRun must be >= 0, got ${cap}`);

    const current = await this.#runs.getRun(run.runId);
    if (!current) throw new PlanConflictError(`run ${run.runId} is not recorded; cannot record its plan`);
    if (current.planHash !== undefined && current.planHash !== plan.planHash) {
      throw new PlanConflictError(
        `run ${run.runId} already recorded plan ${current.planHash}, not ${plan.planHash}`,
      );
    }
    const existing = await this.listItems(run.runId);
    const foreign = existing.find((item) => item.planHash !== plan.planHash);
    if (foreign) {
      throw new PlanConflictError(`run ${run.runId} already has items of plan ${foreign.planHash}`);
    }

    const now = this.#table.now().toISOString();
    const { items, toDelete, deferred, kept } = planItems(run, plan, cap, now);
    const movedOn = existing.some((item) => !INITIAL_ITEM_STATUSES.includes(item.status));
    if (!movedOn) {
      await batchPut(this.#table, items);
      // Conditional: guards against a concurrent different plan between the read above and here.
      await this.#runs.bindPlan(run.runId, plan.planHash, now);
    }
    return { planHash: plan.planHash, toDelete, deferred, kept, written: !movedOn };
  }

  async getItem(runId: string, kind: ItemKind, id: string): Promise<LedgerItem | undefined> {
    const out = await this.#table.doc.send(
      new GetCommand({
        TableName: this.#table.tableName,
        Key: { pk: runPk(runId), sk: itemSk(kind, id) },
        ConsistentRead: true,
      }),
    );
    return out.Item ? toItem(out.Item) : undefined;
  }

  /** Every AMI and snapshot item of a run (all pages). */
  async listItems(runId: string): Promise<LedgerItem[]> {
    const items = await queryAll(this.#table, {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': runPk(runId) },
      ConsistentRead: true,
    });
    // The run item shares the partition; it is not an AMI or snapshot item.
    return items.filter((item) => item.sk !== RUN_SK).map(toItem);
  }

  /** What every run decided about one AMI, oldest record first (through the `by-image` index). */
  async itemsByImage(imageId: string): Promise<LedgerItem[]> {
    const items = await queryAll(this.#table, {
      IndexName: BY_IMAGE_INDEX,
      KeyConditionExpression: 'imageId = :id',
      ExpressionAttributeValues: { ':id': imageId },
    });
    return items.map(toItem);
  }

  /**
   * Moves one item from one of `from` to `to` (conditional update; sets `updatedAt`, optionally
   * `lastError`, extra attributes and `attempts + 1`). Returns false, writing nothing, when the
   * item is missing, is in another status, or belongs to another plan hash: a second attempt of
   * the same step is therefore harmless.
   *
   * An item already in `to` (under the same plan hash) counts as moved: a write whose response was
   * lost is retried by the SDK, finds its own change and fails the condition; that is done, not a
   * conflict. (The extra attributes are then the first write's.)
   */
  async transition(runId: string, kind: ItemKind, id: string, options: TransitionOptions): Promise<boolean> {
    if (options.from.length === 0) throw new RangeError('transition needs at least one from-status');
    const fields: DocItem = {};
    for (const [key, value] of Object.entries(options.set ?? {})) {
      if (RESERVED_ITEM_ATTRIBUTES.has(key)) throw new RangeError(`transition cannot set "${key}"`);
      if (value !== undefined) fields[key] = plain(value);
    }
    if (options.error !== undefined) fields.lastError = options.error;
    fields.updatedAt = this.#table.now().toISOString();
    fields.status = options.to;
    const { expression, names, values } = setExpression(fields);
    let condition = `attribute_exists(pk) AND ${statusIn('#itemStatus', options.from, names, values)}`;
    if (options.planHash !== undefined) {
      values[':planHash'] = options.planHash;
      condition += ' AND planHash = :planHash';
    }
    let update = expression;
    if (options.countAttempt) {
      values[':one'] = 1;
      update += ' ADD attempts :one';
    }
    const moved = await conditionalWrite(
      this.#table,
      new UpdateCommand({
        TableName: this.#table.tableName,
        Key: { pk: runPk(runId), sk: itemSk(kind, id) },
        UpdateExpression: update,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
    if (moved || options.from.includes(options.to)) return moved;
    const current = await this.getItem(runId, kind, id);
    return (
      current?.status === options.to &&
      (options.planHash === undefined || current.planHash === options.planHash)
    );
  }

  /** PLANNED → APPROVED for every item of the run recorded under `planHash`. Returns how many moved. */
  async markAllApproved(runId: string, planHash: string): Promise<number> {
    let moved = 0;
    for (const item of await this.listItems(runId)) {
      if (item.status !== 'PLANNED' || item.planHash !== planHash) continue;
      const ok = await this.transition(runId, item.kind, item.id, {
        from: ['PLANNED'],
        to: 'APPROVED',
        planHash,
      });
      if (ok) moved += 1;
    }
    return moved;
  }

  /**
   * DONE / FAILED → RESTORED, once `amicleaner restore` brought the item back from the Recycle
   * Bin: `restoredAt` and what was restored are recorded. Conditional like every move: an item
   * already RESTORED counts as moved, so a repeated restore records nothing twice.
   */
  async markRestored(
    runId: string,
    kind: ItemKind,
    id: string,
    restored: {
      readonly restoredAt: string;
      readonly snapshotIds: readonly string[];
      readonly image: boolean;
    },
  ): Promise<boolean> {
    return this.transition(runId, kind, id, {
      from: RESTORABLE_ITEM_STATUSES,
      to: 'RESTORED',
      set: {
        restoredAt: restored.restoredAt,
        restoredSnapshots: [...restored.snapshotIds],
        restoredImage: restored.image,
      },
    });
  }

  /**
   * Gives every non-final item of the run a final status (FINAL_ITEM_STATUSES):
   * - PLANNED → REJECTED / EXPIRED / WITHDRAWN / DRY_RUN for those outcomes; otherwise FAILED (never approved);
   * - APPROVED → FAILED (approved but never processed);
   * - DEREGISTERED → FAILED (AMI gone, but its snapshots were not all deleted).
   * Each move is conditional on the status just read; items that change meanwhile are read again.
   */
  async finalizeItems(runId: string, outcome: FinalizeOutcome): Promise<FinalizeResult> {
    let moved = 0;
    for (let pass = 0; pass < 5; pass += 1) {
      const items = await this.listItems(runId);
      const open = items.filter((item) => !FINAL_ITEM_STATUSES.includes(item.status));
      if (open.length === 0) return { moved, byStatus: countByStatus(items) };
      // Independent conditional updates: a dry run of 100,000 AMIs is 100,000 of them.
      const results = await mapWithConcurrency(open, WRITE_CONCURRENCY, (item) => {
        const { to, error } = finalStatusFor(item.status, outcome);
        return this.transition(runId, item.kind, item.id, {
          from: [item.status],
          to,
          ...(error === undefined ? {} : { error }),
        });
      });
      moved += results.filter(Boolean).length;
    }
    throw new LedgerFinalizeError(`run ${runId}: items kept changing; could not finalize them`);
  }
}

function finalStatusFor(status: ItemStatus, outcome: FinalizeOutcome): { to: ItemStatus; error?: string } {
  if (status === 'PLANNED') {
    if (outcome === 'REJECTED' || outcome === 'EXPIRED' || outcome === 'WITHDRAWN' || outcome === 'DRY_RUN')
      return { to: outcome };
    return { to: 'FAILED', error: 'the run ended before this item was approved' };
  }
  if (status === 'DEREGISTERED') {
    return { to: 'FAILED', error: 'the AMI was deregistered but its snapshots were not all deleted' };
  }
  return { to: 'FAILED', error: `the run ended while this item was ${status}` };
}

function countByStatus(items: readonly LedgerItem[]): Partial<Record<ItemStatus, number>> {
  const counts: Partial<Record<ItemStatus, number>> = {};
  for (const item of items) counts[item.status] = (counts[item.status] ?? 0) + 1;
  return counts;
}

function toItem(item: DocItem): LedgerItem {
  const { pk: _pk, sk, ...rest } = item;
  const [kind, ...idParts] = String(sk).split('#');
  return { ...rest, kind: kind as ItemKind, id: idParts.join('#') } as LedgerItem;
}
