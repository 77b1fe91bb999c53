/**
 * The audit ledger: one DynamoDB table holding runs, one item per AMI / orphan snapshot per run,
 * approvals and the per-region lock (key design in docs/DESIGN.md, "Ledger").
 *
 * Every status change is a conditional update from the statuses it may come from, so a second
 * attempt of any step is harmless. Only single-item conditional writes and BatchWriteItem are
 * used: no transactions, no PartiQL, so the same code runs against DynamoDB and dynalite.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { KeepReason, Plan, PlannedSnapshot } from '../core/model.ts';
import { compareOldestFirst } from '../core/rotation.ts';
import {
  type ApprovalDecision,
  FINAL_ITEM_STATUSES,
  type ItemStatus,
  type RunContext,
  type RunStatus,
  type RunSummary,
} from '../core/workflow.ts';
import { mapWithConcurrency } from './concurrency.ts';

export const RUNS_BY_START_INDEX = 'runs-by-start';
export const BY_IMAGE_INDEX = 'by-image';
/** Attribute the table's TTL must be enabled on (infra); CreateTable cannot set it. */
export const LEDGER_TTL_ATTRIBUTE = 'ttl';
/** Approvals stay readable this long after they expire, then DynamoDB TTL removes them. */
export const APPROVAL_RETENTION_SECONDS = 30 * 24 * 3600;

/** The table, as CreateTable wants it; infra and the local runner build the same table from this. */
export function ledgerTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'imageId', AttributeType: 'S' },
      { AttributeName: 'recordedAt', AttributeType: 'S' },
      { AttributeName: 'entity', AttributeType: 'S' },
      { AttributeName: 'startedAt', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: BY_IMAGE_INDEX,
        KeySchema: [
          { AttributeName: 'imageId', KeyType: 'HASH' },
          { AttributeName: 'recordedAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: RUNS_BY_START_INDEX,
        KeySchema: [
          { AttributeName: 'entity', KeyType: 'HASH' },
          { AttributeName: 'startedAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

/** A run as the ledger keeps it: its context, written once, plus what later steps set. */
export interface RunRecord extends RunContext {
  readonly status: RunStatus;
  readonly updatedAt: string;
  readonly planHash?: string;
  readonly planKey?: string;
  readonly approvalId?: string;
  readonly approver?: string;
  readonly summary?: RunSummary;
  readonly error?: string;
  readonly finishedAt?: string;
}

/** Run attributes a step may set. The run context itself is written once by `putRun`. */
export interface RunFields {
  readonly status?: RunStatus;
  readonly planHash?: string;
  readonly planKey?: string;
  readonly approvalId?: string;
  readonly approver?: string;
  readonly summary?: RunSummary;
  readonly error?: string;
  readonly finishedAt?: string;
}

export type ItemKind = 'IMAGE' | 'SNAPSHOT';

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

export type ApprovalStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED';

/** An approval as the ledger returns it. The task token is deliberately not part of it. */
export interface ApprovalRecord {
  readonly approvalId: string;
  readonly runId: string;
  readonly planHash: string;
  readonly planKey: string;
  readonly status: ApprovalStatus;
  /** ISO-8601. */
  readonly expiresAt: string;
  readonly createdAt: string;
  readonly decision?: ApprovalDecision;
  readonly approver?: string;
  readonly decidedAt?: string;
}

export interface NewApproval {
  readonly approvalId: string;
  readonly runId: string;
  readonly planHash: string;
  readonly planKey: string;
  readonly taskToken: string;
  readonly expiresAt: Date;
}

/**
 * A Step Functions task token. Anyone holding it can resume the workflow, so it is wrapped:
 * JSON, string conversion and `util.inspect` (console, loggers) all print a placeholder.
 */
export class TaskToken {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  /** The real token; pass it straight to SendTaskSuccess and nowhere else. */
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return '[task token]';
  }
  toString(): string {
    return '[task token]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[task token]';
  }
}

export type UseApprovalResult =
  | { readonly used: true; readonly taskToken: TaskToken }
  | { readonly used: false };

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
export type FinalizeOutcome = 'COMPLETED' | 'REJECTED' | 'EXPIRED' | 'DRY_RUN' | 'FAILED';

export interface FinalizeResult {
  /** Items this call moved to a final status. */
  readonly moved: number;
  /** Every item of the run, by (final) status, after the call. */
  readonly byStatus: Readonly<Partial<Record<ItemStatus, number>>>;
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/** BatchWriteItem left items unprocessed after every retry; the plan is not fully recorded. */
export class LedgerWriteError extends Error {
  override readonly name = 'LedgerWriteError';
}

/** A different plan was already recorded for this run, or the run is unknown. */
export class PlanConflictError extends Error {
  override readonly name = 'PlanConflictError';
}

/** Finalize could not settle every item (they kept changing under it). */
export class LedgerFinalizeError extends Error {
  override readonly name = 'LedgerFinalizeError';
}

// ---------------------------------------------------------------------------------------------
// Ledger
// ---------------------------------------------------------------------------------------------

const RUN_SK = 'RUN';
const RUN_ENTITY = 'RUN';
const runPk = (runId: string): string => `RUN#${runId}`;
const itemSk = (kind: ItemKind, id: string): string => `${kind}#${id}`;
const approvalPk = (approvalId: string): string => `APPROVAL#${approvalId}`;
const lockPk = (region: string): string => `LOCK#${region}`;

const BATCH_SIZE = 25;
/** Batches in flight at once; on-demand tables take this easily, and unprocessed items are retried. */
const BATCH_CONCURRENCY = 8;
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

export interface LedgerOptions {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Clock for `updatedAt` and friends. */
  readonly now?: () => Date;
  /** Retries of BatchWriteItem's UnprocessedItems (exponential backoff with full jitter). */
  readonly batchRetries?: { readonly attempts: number; readonly baseDelayMs: number };
}

type DocItem = Record<string, unknown>;
type WriteRequest = { PutRequest: { Item: DocItem } };

export class Ledger {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #now: () => Date;
  readonly #batchRetries: { readonly attempts: number; readonly baseDelayMs: number };

  constructor(options: LedgerOptions) {
    this.#doc = options.doc;
    this.#table = options.tableName;
    this.#now = options.now ?? (() => new Date());
    this.#batchRetries = options.batchRetries ?? { attempts: 8, baseDelayMs: 50 };
  }

  // ----- lock ---------------------------------------------------------------------------------

  /**
   * Takes the region's lock for `runId`. Succeeds when nobody holds it, when the holder's lease
   * has expired (TTL deletion lags by hours, so the lease is checked, not trusted to vanish), or
   * when `runId` already holds it (a retried AcquireLock). Returns false when another run holds it.
   */
  async acquireLock(
    region: string,
    runId: string,
    ttlSeconds: number,
    now: Date = this.#now(),
  ): Promise<boolean> {
    const nowSeconds = epochSeconds(now);
    return this.#conditional(
      new PutCommand({
        TableName: this.#table,
        Item: {
          pk: lockPk(region),
          sk: 'LOCK',
          owner: runId,
          acquiredAt: now.toISOString(),
          ttl: nowSeconds + ttlSeconds,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now OR #owner = :runId',
        ExpressionAttributeNames: { '#ttl': 'ttl', '#owner': 'owner' },
        ExpressionAttributeValues: { ':now': nowSeconds, ':runId': runId },
      }),
    );
  }

  /**
   * Releases the lock if `runId` holds it. Returns true when the lock is now free of `runId`
   * (released, or already gone); false when another run holds it, which is left untouched.
   */
  async releaseLock(region: string, runId: string): Promise<boolean> {
    return this.#conditional(
      new DeleteCommand({
        TableName: this.#table,
        Key: { pk: lockPk(region), sk: 'LOCK' },
        ConditionExpression: 'attribute_not_exists(pk) OR #owner = :runId',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':runId': runId },
      }),
    );
  }

  /** Who holds the region's lock, if anyone (whether or not the lease has expired). */
  async getLock(region: string): Promise<{ owner: string; expiresAt: number } | undefined> {
    const out = await this.#doc.send(
      new GetCommand({
        TableName: this.#table,
        Key: { pk: lockPk(region), sk: 'LOCK' },
        ConsistentRead: true,
      }),
    );
    if (!out.Item) return undefined;
    return { owner: String(out.Item.owner), expiresAt: Number(out.Item.ttl) };
  }

  // ----- runs ---------------------------------------------------------------------------------

  /**
   * Records the run context (and any fields). Safe to repeat: the context is the same for the
   * same run, and SET leaves attributes written by later steps alone.
   */
  async putRun(run: RunContext, fields: RunFields = { status: 'RUNNING' }): Promise<void> {
    const values: DocItem = {
      entity: RUN_ENTITY,
      runId: run.runId,
      executionArn: run.executionArn,
      trigger: run.trigger,
      dryRun: run.dryRun,
      settings: plain(run.settings),
      startedAt: run.startedAt,
      maxDeletionsPerRun: run.maxDeletionsPerRun,
      ...(run.triggerImageId === undefined ? {} : { triggerImageId: run.triggerImageId }),
      ...compact(fields),
      updatedAt: this.#now().toISOString(),
    };
    const { expression, names, values: exprValues } = setExpression(values);
    await this.#doc.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { pk: runPk(run.runId), sk: RUN_SK },
        UpdateExpression: expression,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: exprValues,
      }),
    );
  }

  /**
   * Sets fields on an existing run; with `from`, only while its status is one of those.
   * Returns false (and writes nothing) when the run is unknown or the condition fails.
   */
  async updateRun(
    runId: string,
    fields: RunFields,
    options: { from?: readonly RunStatus[] } = {},
  ): Promise<boolean> {
    const { expression, names, values } = setExpression({
      ...compact(fields),
      updatedAt: this.#now().toISOString(),
    });
    let condition = 'attribute_exists(pk)';
    if (options.from && options.from.length > 0) {
      names['#runStatus'] = 'status';
      const placeholders = options.from.map((status, i) => {
        values[`:from${i}`] = status;
        return `:from${i}`;
      });
      condition += ` AND #runStatus IN (${placeholders.join(', ')})`;
    }
    return this.#conditional(
      new UpdateCommand({
        TableName: this.#table,
        Key: { pk: runPk(runId), sk: RUN_SK },
        UpdateExpression: expression,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const out = await this.#doc.send(
      new GetCommand({ TableName: this.#table, Key: { pk: runPk(runId), sk: RUN_SK }, ConsistentRead: true }),
    );
    return out.Item ? toRun(out.Item) : undefined;
  }

  /** The newest runs first (by `startedAt`, through the `runs-by-start` index). */
  async listRuns(options: { limit?: number } = {}): Promise<RunRecord[]> {
    const limit = options.limit ?? 20;
    const runs: RunRecord[] = [];
    let startKey: DocItem | undefined;
    do {
      const out = await this.#doc.send(
        new QueryCommand({
          TableName: this.#table,
          IndexName: RUNS_BY_START_INDEX,
          KeyConditionExpression: 'entity = :entity',
          ExpressionAttributeValues: { ':entity': RUN_ENTITY },
          ScanIndexForward: false,
          Limit: limit - runs.length,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of out.Items ?? []) runs.push(toRun(item));
      startKey = out.LastEvaluatedKey;
    } while (startKey && runs.length < limit);
    return runs;
  }

  // ----- items --------------------------------------------------------------------------------

  /**
   * Writes one item per candidate AMI, kept AMI and orphan snapshot of the plan, and binds the
   * run to the plan hash.
   *
   * The cap (`maxDeletionsPerRun`, default the run's) counts AMIs and orphan snapshots together:
   * AMIs come first, oldest first (they have waited longest, and the newer ones stay eligible
   * next run), then orphan snapshots in plan order. Candidates beyond it are recorded DEFERRED,
   * and so are AMIs the plan kept as MAX_DELETIONS_PER_RUN (Rotate left them for a later run).
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

    const current = await this.getRun(run.runId);
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

    const now = this.#now().toISOString();
    const base = {
      runId: run.runId,
      // Executions' history is kept 90 days; the ARN lets an auditor find it while it exists.
      executionArn: run.executionArn,
      planHash: plan.planHash,
      region: plan.region,
      attempts: 0,
    };
    const requests: DocItem[] = [];
    let toDelete = 0;
    let deferred = 0;
    let kept = 0;
    const admit = (): 'PLANNED' | 'DEFERRED' => {
      if (toDelete < cap) {
        toDelete += 1;
        return 'PLANNED';
      }
      deferred += 1;
      return 'DEFERRED';
    };
    const deferral = (status: ItemStatus) =>
      status === 'DEFERRED'
        ? {
            reason: 'MAX_DELETIONS_PER_RUN',
            detail: `beyond maxDeletionsPerRun (${cap}); left for a later run`,
          }
        : {};

    const candidates = plan.groups
      .flatMap((group) => group.candidates)
      // The order Rotate's sharing check uses: the same AMIs are admitted under the cap.
      .sort(compareOldestFirst);
    for (const candidate of candidates) {
      const status = admit();
      requests.push({
        pk: runPk(run.runId),
        sk: itemSk('IMAGE', candidate.imageId),
        kind: 'IMAGE',
        ...base,
        imageId: candidate.imageId,
        name: candidate.name,
        creationDate: candidate.creationDate,
        group: candidate.group,
        snapshots: plain(candidate.snapshots),
        sizeGiB: sumGiB(candidate.snapshots),
        status,
        ...deferral(status),
        recordedAt: now,
        updatedAt: now,
      });
    }
    for (const orphan of plan.orphanSnapshots) {
      const status = admit();
      requests.push({
        pk: runPk(run.runId),
        sk: itemSk('SNAPSHOT', orphan.snapshotId),
        kind: 'SNAPSHOT',
        ...base,
        snapshotId: orphan.snapshotId,
        sourceImageId: orphan.imageId,
        detail: orphan.description,
        sizeGiB: orphan.sizeGiB,
        status,
        ...deferral(status),
        recordedAt: now,
        updatedAt: now,
      });
    }
    for (const group of plan.groups) {
      for (const image of group.kept) {
        const status: ItemStatus = image.reason === 'MAX_DELETIONS_PER_RUN' ? 'DEFERRED' : 'KEPT';
        if (status === 'DEFERRED') deferred += 1;
        else kept += 1;
        requests.push({
          pk: runPk(run.runId),
          sk: itemSk('IMAGE', image.imageId),
          kind: 'IMAGE',
          ...base,
          imageId: image.imageId,
          name: image.name,
          creationDate: image.creationDate,
          group: image.group,
          reason: image.reason,
          ...(image.detail === undefined ? {} : { detail: image.detail }),
          sizeGiB: 0,
          status,
          recordedAt: now,
          updatedAt: now,
        });
      }
    }

    const movedOn = existing.some((item) => !INITIAL_ITEM_STATUSES.includes(item.status));
    if (!movedOn) {
      await this.#batchPut(requests);
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: runPk(run.runId), sk: RUN_SK },
          UpdateExpression: 'SET planHash = :hash, updatedAt = :now',
          // Guards against a concurrent different plan between the read above and this write.
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(planHash) OR planHash = :hash)',
          ExpressionAttributeValues: { ':hash': plan.planHash, ':now': now },
        }),
      );
    }
    return { planHash: plan.planHash, toDelete, deferred, kept, written: !movedOn };
  }

  async getItem(runId: string, kind: ItemKind, id: string): Promise<LedgerItem | undefined> {
    const out = await this.#doc.send(
      new GetCommand({
        TableName: this.#table,
        Key: { pk: runPk(runId), sk: itemSk(kind, id) },
        ConsistentRead: true,
      }),
    );
    return out.Item ? toItem(out.Item) : undefined;
  }

  /** Every AMI and snapshot item of a run (all pages). */
  async listItems(runId: string): Promise<LedgerItem[]> {
    const items: LedgerItem[] = [];
    let startKey: DocItem | undefined;
    do {
      const out = await this.#doc.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': runPk(runId) },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of out.Items ?? []) {
        // The run item shares the partition; it is not an AMI or snapshot item.
        if (item.sk !== RUN_SK) items.push(toItem(item));
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /** What every run decided about one AMI, oldest record first (through the `by-image` index). */
  async itemsByImage(imageId: string): Promise<LedgerItem[]> {
    const items: LedgerItem[] = [];
    let startKey: DocItem | undefined;
    do {
      const out = await this.#doc.send(
        new QueryCommand({
          TableName: this.#table,
          IndexName: BY_IMAGE_INDEX,
          KeyConditionExpression: 'imageId = :id',
          ExpressionAttributeValues: { ':id': imageId },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of out.Items ?? []) items.push(toItem(item));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /**
   * Moves one item from one of `from` to `to` (conditional update; sets `updatedAt`, optionally
   * `lastError`, extra attributes and `attempts + 1`). Returns false, writing nothing, when the
   * item is missing, is in another status, or belongs to another plan hash: a second attempt of
   * the same step is therefore harmless.
   */
  async transition(runId: string, kind: ItemKind, id: string, options: TransitionOptions): Promise<boolean> {
    if (options.from.length === 0) throw new RangeError('transition needs at least one from-status');
    const fields: DocItem = {};
    for (const [key, value] of Object.entries(options.set ?? {})) {
      if (RESERVED_ITEM_ATTRIBUTES.has(key)) throw new RangeError(`transition cannot set "${key}"`);
      if (value !== undefined) fields[key] = plain(value);
    }
    if (options.error !== undefined) fields.lastError = options.error;
    fields.updatedAt = this.#now().toISOString();
    fields.status = options.to;
    const { expression, names, values } = setExpression(fields);
    names['#itemStatus'] = 'status';
    const placeholders = options.from.map((status, i) => {
      values[`:from${i}`] = status;
      return `:from${i}`;
    });
    let condition = `attribute_exists(pk) AND #itemStatus IN (${placeholders.join(', ')})`;
    if (options.planHash !== undefined) {
      values[':planHash'] = options.planHash;
      condition += ' AND planHash = :planHash';
    }
    let update = expression;
    if (options.countAttempt) {
      values[':one'] = 1;
      update += ' ADD attempts :one';
    }
    return this.#conditional(
      new UpdateCommand({
        TableName: this.#table,
        Key: { pk: runPk(runId), sk: itemSk(kind, id) },
        UpdateExpression: update,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
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
   * Gives every non-final item of the run a final status (FINAL_ITEM_STATUSES):
   * - PLANNED → REJECTED / EXPIRED / DRY_RUN for those outcomes; otherwise FAILED (never approved);
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
      const results = await mapWithConcurrency(open, BATCH_CONCURRENCY, (item) => {
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

  // ----- approvals ----------------------------------------------------------------------------

  /** Stores a new approval (PENDING). The task token is stored here and nowhere else. */
  async putApproval(approval: NewApproval): Promise<void> {
    const created = await this.#conditional(
      new PutCommand({
        TableName: this.#table,
        Item: {
          pk: approvalPk(approval.approvalId),
          sk: 'APPROVAL',
          approvalId: approval.approvalId,
          runId: approval.runId,
          planHash: approval.planHash,
          planKey: approval.planKey,
          taskToken: approval.taskToken,
          status: 'PENDING',
          expiresAt: approval.expiresAt.toISOString(),
          createdAt: this.#now().toISOString(),
          ttl: epochSeconds(approval.expiresAt) + APPROVAL_RETENTION_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    if (!created) throw new PlanConflictError(`approval ${approval.approvalId} already exists`);
  }

  /** The approval without its task token. */
  async getApproval(approvalId: string): Promise<ApprovalRecord | undefined> {
    const out = await this.#doc.send(
      new GetCommand({
        TableName: this.#table,
        Key: { pk: approvalPk(approvalId), sk: 'APPROVAL' },
        ConsistentRead: true,
      }),
    );
    return out.Item ? toApproval(out.Item) : undefined;
  }

  /**
   * Uses an approval once: PENDING → APPROVED / REJECTED, only while the plan hash matches and
   * the approval has not expired. Returns the task token only to the caller that won.
   */
  async useApproval(
    approvalId: string,
    use: { decision: ApprovalDecision; approver: string; planHash: string },
    now: Date = this.#now(),
  ): Promise<UseApprovalResult> {
    try {
      const out = await this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: approvalPk(approvalId), sk: 'APPROVAL' },
          UpdateExpression:
            'SET #status = :decision, decision = :decision, approver = :approver, decidedAt = :now',
          ConditionExpression:
            'attribute_exists(pk) AND #status = :pending AND planHash = :planHash AND expiresAt > :now',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':decision': use.decision,
            ':approver': use.approver,
            ':now': now.toISOString(),
            ':pending': 'PENDING',
            ':planHash': use.planHash,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const token = out.Attributes?.taskToken;
      if (typeof token !== 'string' || token.length === 0) return { used: false };
      return { used: true, taskToken: new TaskToken(token) };
    } catch (error) {
      if (isConditionFailure(error)) return { used: false };
      throw error;
    }
  }

  /**
   * Puts a used approval back to PENDING, for when SendTaskSuccess could not be delivered (the
   * service was unreachable), so the person can press the button again. Step Functions accepts a
   * token once, so a second delivery of a decision that did arrive is refused there.
   */
  async reopenApproval(approvalId: string, decision: ApprovalDecision): Promise<boolean> {
    return this.#conditional(
      new UpdateCommand({
        TableName: this.#table,
        Key: { pk: approvalPk(approvalId), sk: 'APPROVAL' },
        UpdateExpression: 'SET #status = :pending REMOVE decision, approver, decidedAt',
        ConditionExpression: 'attribute_exists(pk) AND #status = :decision',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pending': 'PENDING', ':decision': decision },
      }),
    );
  }

  /** Marks an approval EXPIRED (its task timed out). Already expired counts as success. */
  async expireApproval(approvalId: string): Promise<boolean> {
    return this.#conditional(
      new UpdateCommand({
        TableName: this.#table,
        Key: { pk: approvalPk(approvalId), sk: 'APPROVAL' },
        UpdateExpression: 'SET #status = :expired, expiredAt = :now',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':expired': 'EXPIRED', ':now': this.#now().toISOString() },
      }),
    );
  }

  // ----- internals ----------------------------------------------------------------------------

  /** Sends a conditional write; a failed condition is an answer (false), not an error. */
  async #conditional(command: PutCommand | UpdateCommand | DeleteCommand): Promise<boolean> {
    try {
      // The union of command types does not narrow `send`'s overloads; each is a valid command.
      await this.#doc.send(command as UpdateCommand);
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async #batchPut(items: readonly DocItem[]): Promise<void> {
    const batches: DocItem[][] = [];
    for (let start = 0; start < items.length; start += BATCH_SIZE)
      batches.push(items.slice(start, start + BATCH_SIZE));
    // Batches are independent: a 100,000-item plan is 4,000 of them, too slow one at a time.
    await mapWithConcurrency(batches, BATCH_CONCURRENCY, (batch) => this.#writeBatch(batch));
  }

  async #writeBatch(batch: readonly DocItem[]): Promise<void> {
    let pending: WriteRequest[] = batch.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (attempt > 0) {
        if (attempt > this.#batchRetries.attempts) {
          throw new LedgerWriteError(
            `${pending.length} ledger item(s) still unprocessed after ${this.#batchRetries.attempts} retries`,
          );
        }
        const cap = this.#batchRetries.baseDelayMs * 2 ** (attempt - 1);
        await sleep(Math.random() * cap);
      }
      const out = await this.#doc.send(new BatchWriteCommand({ RequestItems: { [this.#table]: pending } }));
      pending = (out.UnprocessedItems?.[this.#table] ?? []) as WriteRequest[];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function finalStatusFor(status: ItemStatus, outcome: FinalizeOutcome): { to: ItemStatus; error?: string } {
  if (status === 'PLANNED') {
    if (outcome === 'REJECTED' || outcome === 'EXPIRED' || outcome === 'DRY_RUN') return { to: outcome };
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

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

function sumGiB(snapshots: readonly PlannedSnapshot[]): number {
  return snapshots.reduce((sum, s) => sum + s.sizeGiB, 0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Drops undefined fields (the document client refuses them unless told otherwise). */
function compact(fields: object): DocItem {
  return Object.fromEntries(
    Object.entries(fields)
      .filter(([, value]) => value !== undefined)
      .map(([k, v]) => [k, plain(v)]),
  );
}

/** A deep copy without undefined values or class instances, safe to marshall. */
function plain<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** `SET #a0 = :a0, ...` with every name aliased (status, ttl and friends are reserved words). */
function setExpression(fields: DocItem): {
  expression: string;
  names: Record<string, string>;
  values: DocItem;
} {
  const names: Record<string, string> = {};
  const values: DocItem = {};
  const parts = Object.entries(fields).map(([key, value], i) => {
    names[`#a${i}`] = key;
    values[`:a${i}`] = value;
    return `#a${i} = :a${i}`;
  });
  return { expression: `SET ${parts.join(', ')}`, names, values };
}

function toRun(item: DocItem): RunRecord {
  const { pk: _pk, sk: _sk, entity: _entity, ...rest } = item;
  return rest as unknown as RunRecord;
}

function toItem(item: DocItem): LedgerItem {
  const { pk: _pk, sk, ...rest } = item;
  const [kind, ...idParts] = String(sk).split('#');
  return { ...rest, kind: kind as ItemKind, id: idParts.join('#') } as LedgerItem;
}

function toApproval(item: DocItem): ApprovalRecord {
  // The token stays in the table: nothing that reads an approval for display can leak it.
  const { pk: _pk, sk: _sk, ttl: _ttl, taskToken: _taskToken, ...rest } = item;
  return rest as unknown as ApprovalRecord;
}
