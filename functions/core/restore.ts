/**
 * `amicleaner restore`: what can be brought back from the Recycle Bin for one run, and why the
 * rest cannot. Pure: the run's ledger items and what EC2 reports (bin contents, what exists)
 * in, one decision per item out. The adapter (`adapters/restore.ts`) reads and acts.
 *
 * An AMI is restored only whole: every snapshot it deleted must be in the bin (restored first)
 * or still exist. An AMI restored without its snapshots cannot boot, and EC2 refuses it anyway.
 */
import { deletableSnapshotIds } from './deletion-set.ts';
import type { PlannedSnapshot } from './model.ts';
import type { ItemStatus } from './workflow.ts';

/** What `restore` needs of a ledger item (a subset of the adapter's `LedgerItem`). */
export interface RestorableItem {
  readonly kind: 'IMAGE' | 'SNAPSHOT';
  readonly id: string;
  readonly status: ItemStatus;
  readonly snapshots?: readonly PlannedSnapshot[];
  readonly deregisteredAt?: unknown;
  /** Set by the deletion steps when they tagged the item for the Recycle Bin. */
  readonly retainedUntil?: unknown;
  readonly snapshotsRetainedUntil?: unknown;
}

/** Why an item is not restored. */
export type RestoreRefusal =
  /** `--ami` named an AMI this run has no item for. */
  | 'not-in-run'
  /** The run never deleted it (kept, skipped, rejected, failed before deleting). */
  | 'not-deleted'
  /** Recorded RESTORED, or it exists again (restored some other way). */
  | 'already-restored'
  /** It was retained, but its retention period has ended: it is gone for good. */
  | 'retention-passed'
  /** Deleted without Recycle Bin retention: there is nothing to restore. */
  | 'not-retained'
  /** Retained and within its period, but not in the bin and not in the account. */
  | 'not-found';

export interface BinEntry {
  /** When the Recycle Bin deletes it for good (ISO-8601). */
  readonly exitTime: string;
}

/** What EC2 reports for the ids the run's items name. */
export interface RestoreObservation {
  readonly imagesInBin: ReadonlyMap<string, BinEntry>;
  readonly snapshotsInBin: ReadonlyMap<string, BinEntry>;
  readonly existingImages: ReadonlySet<string>;
  readonly existingSnapshots: ReadonlySet<string>;
  readonly now: Date;
}

export type RestoreDecision =
  | {
      readonly kind: 'IMAGE' | 'SNAPSHOT';
      readonly id: string;
      readonly action: 'restore';
      /** Restored first, in this order. */
      readonly snapshotIds: readonly string[];
      /** IMAGE items whose AMI is in the bin (false: it exists, only snapshots come back). */
      readonly restoreImage: boolean;
    }
  | {
      readonly kind: 'IMAGE' | 'SNAPSHOT';
      readonly id: string;
      readonly action: 'refuse';
      readonly reason: RestoreRefusal;
      readonly detail: string;
    };

/** Statuses whose item may have deleted something in AWS. */
const MAY_HAVE_DELETED: readonly ItemStatus[] = ['APPROVED', 'DEREGISTERED', 'DONE', 'FAILED'];

/** The ids whose bin and existence the adapter must look up. */
export function idsToObserve(items: readonly RestorableItem[]): { images: string[]; snapshots: string[] } {
  const images: string[] = [];
  const snapshots = new Set<string>();
  for (const item of items) {
    if (!MAY_HAVE_DELETED.includes(item.status)) continue;
    if (item.kind === 'SNAPSHOT') snapshots.add(item.id);
    else {
      images.push(item.id);
      for (const id of deletedSnapshotIds(item)) snapshots.add(id);
    }
  }
  return { images, snapshots: [...snapshots] };
}

/** The items to decide on: every AMI and orphan snapshot of the run, or the AMIs `--ami` named. */
export function selectItems(
  items: readonly RestorableItem[],
  imageIds: readonly string[] | undefined,
): { selected: RestorableItem[]; missing: string[] } {
  if (imageIds === undefined || imageIds.length === 0) return { selected: [...items], missing: [] };
  const byId = new Map(items.filter((i) => i.kind === 'IMAGE').map((i) => [i.id, i]));
  const selected: RestorableItem[] = [];
  const missing: string[] = [];
  for (const id of new Set(imageIds)) {
    const item = byId.get(id);
    if (item) selected.push(item);
    else missing.push(id);
  }
  return { selected, missing };
}

export function planRestore(
  items: readonly RestorableItem[],
  imageIds: readonly string[] | undefined,
  seen: RestoreObservation,
): RestoreDecision[] {
  const { selected, missing } = selectItems(items, imageIds);
  const decisions = selected
    .filter((item) => imageIds !== undefined || MAY_HAVE_DELETED.includes(item.status) || isRestored(item))
    .map((item) => decide(item, seen));
  for (const id of missing) {
    decisions.push(refuse('IMAGE', id, 'not-in-run', 'this run has no record of this AMI'));
  }
  return decisions;
}

function decide(item: RestorableItem, seen: RestoreObservation): RestoreDecision {
  if (isRestored(item)) return refuse(item.kind, item.id, 'already-restored', 'recorded RESTORED');
  if (!MAY_HAVE_DELETED.includes(item.status)) {
    return refuse(item.kind, item.id, 'not-deleted', `the run recorded it ${item.status}`);
  }
  return item.kind === 'SNAPSHOT' ? decideSnapshot(item, seen) : decideImage(item, seen);
}

function decideSnapshot(item: RestorableItem, seen: RestoreObservation): RestoreDecision {
  if (seen.snapshotsInBin.has(item.id)) {
    return { kind: 'SNAPSHOT', id: item.id, action: 'restore', snapshotIds: [item.id], restoreImage: false };
  }
  if (seen.existingSnapshots.has(item.id)) {
    return item.status === 'DONE'
      ? refuse('SNAPSHOT', item.id, 'already-restored', 'the snapshot exists again')
      : refuse('SNAPSHOT', item.id, 'not-deleted', `the snapshot still exists (item ${item.status})`);
  }
  return gone('SNAPSHOT', item.id, item.retainedUntil, seen.now, 'the snapshot');
}

function decideImage(item: RestorableItem, seen: RestoreObservation): RestoreDecision {
  const imageInBin = seen.imagesInBin.has(item.id);
  const imageExists = seen.existingImages.has(item.id);
  const snapshots = deletedSnapshotIds(item);
  const inBin = snapshots.filter((id) => seen.snapshotsInBin.has(id));
  const lost = snapshots.filter((id) => !seen.snapshotsInBin.has(id) && !seen.existingSnapshots.has(id));

  if (!imageInBin && !imageExists) return gone('IMAGE', item.id, item.retainedUntil, seen.now, 'the AMI');
  if (lost.length > 0) {
    const refusal = gone(
      'IMAGE',
      item.id,
      item.snapshotsRetainedUntil,
      seen.now,
      `snapshot ${lost.join(', ')}`,
    );
    if (refusal.action === 'refuse') {
      return { ...refusal, detail: `${refusal.detail}; the AMI is left in the Recycle Bin (no snapshots)` };
    }
  }
  if (imageExists && inBin.length === 0) {
    return typeof item.deregisteredAt === 'string'
      ? refuse('IMAGE', item.id, 'already-restored', 'the AMI exists again')
      : refuse('IMAGE', item.id, 'not-deleted', `the AMI was never deregistered (item ${item.status})`);
  }
  return { kind: 'IMAGE', id: item.id, action: 'restore', snapshotIds: inBin, restoreImage: imageInBin };
}

/** Neither in the bin nor in the account: retention passed, never retained, or simply not found. */
function gone(
  kind: 'IMAGE' | 'SNAPSHOT',
  id: string,
  retainedUntil: unknown,
  now: Date,
  what: string,
): RestoreDecision {
  if (typeof retainedUntil !== 'string') {
    return refuse(kind, id, 'not-retained', `${what} was deleted without Recycle Bin retention`);
  }
  if (Date.parse(retainedUntil) <= now.getTime()) {
    return refuse(kind, id, 'retention-passed', `${what}: retention ended ${retainedUntil}`);
  }
  return refuse(kind, id, 'not-found', `${what} is neither in the Recycle Bin nor in the account`);
}

function refuse(
  kind: 'IMAGE' | 'SNAPSHOT',
  id: string,
  reason: RestoreRefusal,
  detail: string,
): RestoreDecision {
  return { kind, id, action: 'refuse', reason, detail };
}

const isRestored = (item: RestorableItem): boolean => item.status === 'RESTORED';

/** The snapshots the deletion step may have deleted: the item's, minus those kept as shared. */
const deletedSnapshotIds = (item: RestorableItem): string[] => deletableSnapshotIds(item.snapshots ?? []);
