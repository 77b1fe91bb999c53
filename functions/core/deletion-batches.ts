/**
 * Splitting a verified deletion set into batches, one DeleteBatch child execution each, so an
 * approved backlog far larger than one execution's 25,000 history events (or one state's
 * 256 KiB) drains under one approval. Each batch is bounded twice:
 * - by items: the child's worst-case history (its Retry lists, `core/quotas.ts`) stays under
 *   `DELETE_BATCH_HISTORY_TARGET`;
 * - by bytes: the batch's ids, which the child holds in its state, stay under
 *   `DELETE_BATCH_MAX_BYTES`, so no state of the child passes 32 KiB.
 * The parent holds only one small descriptor per batch; the batch itself lives in the run's
 * workspace, and the child refuses it unless its ids hash to the descriptor's hash (invariant 1:
 * the hash comes through the state, which LoadApproved computed from the verified set).
 */
import { createHash } from 'node:crypto';
import { type DeletionImage, hashDeletionSet } from './deletion-set.ts';

/** The worst-case history a DeleteBatch child may reach: a fifth of the quota kept as margin. */
export const DELETE_BATCH_HISTORY_TARGET = 20_000;
/**
 * The most a batch's ids may weigh as JSON. The child's largest state is the batch plus its run
 * id, plan hash and a caught error's name (`$.error` is only ever set inside an iteration), so
 * 24 KiB keeps every state of the child under 32 KiB.
 */
export const DELETE_BATCH_MAX_BYTES = 24 * 1024;
/** What one batch descriptor weighs in the parent's state at most (index, name ≤ 80, hash 64). */
export const BATCH_DESCRIPTOR_BYTES = 200;

export interface OrphanDeletion {
  readonly snapshotId: string;
}

/** What a DeleteBatch child deletes: part of the verified deletion set. */
export interface DeletionBatch {
  readonly images: readonly DeletionImage[];
  readonly orphanSnapshots: readonly OrphanDeletion[];
}

/** What the parent's state carries per batch (the batch itself stays in the workspace). */
export interface BatchDescriptor {
  /** 0, 1, …: the batch's place in the deletion order. */
  readonly index: number;
  /** The child execution's name: says which run and batch, at most 80 characters. */
  readonly executionName: string;
  /** `hashDeletionSet` of the batch's ids: the child deletes nothing unless they match. */
  readonly hash: string;
}

/** The workspace document name of batch `index` (the key is derived, never taken from the state). */
export const batchDocumentName = (index: number): string => `delete-batch-${index}`;

export interface BatchLimits {
  /** Most items (AMIs plus orphan snapshots) in one batch, from the child's history budget. */
  readonly maxItems: number;
  /** Most JSON bytes of one batch's ids. */
  readonly maxBytes: number;
}

const encoder = new TextEncoder();
const bytesOf = (value: unknown): number => encoder.encode(JSON.stringify(value)).length;

/**
 * Packs the set into batches in deletion order (AMIs oldest first, then orphans), each within
 * both limits. An item too large for any batch on its own (thousands of snapshot ids) is refused:
 * the child could not hold it.
 */
export function packDeletionBatches(
  set: { readonly images: readonly DeletionImage[]; readonly orphanSnapshots: readonly OrphanDeletion[] },
  limits: BatchLimits,
): DeletionBatch[] {
  if (!Number.isInteger(limits.maxItems) || limits.maxItems < 1)
    throw new RangeError(`a batch must hold at least one item, got maxItems ${limits.maxItems}`);
  const batches: DeletionBatch[] = [];
  let images: DeletionImage[] = [];
  let orphans: OrphanDeletion[] = [];
  // `{"images":[],"orphanSnapshots":[]}` plus one comma per entry.
  const empty = bytesOf({ images: [], orphanSnapshots: [] });
  let bytes = empty;
  const close = () => {
    if (images.length + orphans.length === 0) return;
    batches.push({ images, orphanSnapshots: orphans });
    images = [];
    orphans = [];
    bytes = empty;
  };
  const add = (size: number, push: () => void, what: string) => {
    if (empty + size > limits.maxBytes)
      throw new RangeError(`${what} alone is ${size} B, past a batch's ${limits.maxBytes} B`);
    if (images.length + orphans.length >= limits.maxItems || bytes + size > limits.maxBytes) close();
    push();
    bytes += size;
  };
  for (const image of set.images) {
    add(bytesOf(image) + 1, () => images.push(image), `AMI ${image.imageId}`);
  }
  for (const orphan of set.orphanSnapshots) {
    add(bytesOf(orphan) + 1, () => orphans.push(orphan), `snapshot ${orphan.snapshotId}`);
  }
  close();
  return batches;
}

/** The hash a batch's ids must have: the deletion-set hash of the batch alone. */
export function hashDeletionBatch(region: string, batch: DeletionBatch): string {
  return hashDeletionSet({ region, images: batch.images, orphanSnapshots: batch.orphanSnapshots });
}

/**
 * A Step Functions execution name (1 to 80 characters of `A-Za-z0-9_-`): `name` with every other
 * character replaced by `-`; past 80 characters it is cut and 8 hex digits of the whole name's
 * hash appended, so two long names that share a prefix stay distinct.
 */
export function boundedExecutionName(name: string, max = 80): string {
  const safe = name.replace(/[^A-Za-z0-9_-]/g, '-');
  if (safe.length <= max) return safe;
  const digest = createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 8);
  return `${safe.slice(0, max - digest.length - 1)}-${digest}`;
}

/** The child execution's name for batch `index` of a run: `<runId>-delete-<index>`, bounded. */
export function batchExecutionName(runId: string, index: number, prefix?: string): string {
  return boundedExecutionName(`${prefix ? `${prefix}-` : ''}${runId}-delete-${index}`);
}
