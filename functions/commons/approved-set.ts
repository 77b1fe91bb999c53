/**
 * The approved deletion set of a run, rebuilt from the ledger's items of its plan and bound by
 * content: it exists only if those ids hash to the approved plan hash. LoadApproved builds it
 * before anything is deleted; FinishEarlierRuns builds it again for an earlier run, so finishing
 * that run can only delete snapshots that were part of what was approved.
 */
import type { LedgerItem } from '../adapters/ledger/index.ts';
import { deletableSnapshotIds, hashDeletionSet } from '../core/deletion-set.ts';
import { AMI_ID, SNAPSHOT_ID } from './events.ts';

/** The ledger's plan is not the approved one (its ids hash to another plan hash). Nothing was marked approved. */
export class PlanTamperedError extends Error {
  override readonly name = 'PlanTamperedError';
}

/** Statuses of items that are part of an approved plan (a retried or later step finds them moved on). */
export const IN_PLAN: ReadonlySet<string> = new Set([
  'PLANNED',
  'APPROVED',
  'DEREGISTERED',
  'DONE',
  'SKIPPED_IN_USE',
  'FAILED',
]);

/** The ids of the verified deletion set, looked up by item. */
export interface VerifiedSet {
  has(item: LedgerItem): boolean;
  snapshotIdsOf(imageId: string): readonly string[];
}

/**
 * Rebuilds the deletion set from the ledger's items of the plan and refuses the whole run if its
 * hash is not the approved one: an item flipped to PLANNED, a snapshot id added to an AMI, an id
 * that is not an EC2 id or more items than the cap all change it.
 */
export function verifiedDeletionSet(
  runId: string,
  region: string,
  planHash: string,
  items: readonly LedgerItem[],
  cap: number,
): VerifiedSet {
  const refuse = (why: string) =>
    new PlanTamperedError(`run ${runId}: ${why}; nothing was approved for deletion`);
  if (items.length > cap)
    throw refuse(`${items.length} items are in the plan, over maxDeletionsPerRun ${cap}`);
  const images = new Map<string, readonly string[]>();
  const orphans = new Set<string>();
  for (const item of items) {
    if (item.kind === 'IMAGE') {
      const snapshotIds = deletableSnapshotIds(Array.isArray(item.snapshots) ? item.snapshots : []);
      if (!AMI_ID.test(item.id) || !snapshotIds.every((id) => SNAPSHOT_ID.test(id)))
        throw refuse(`AMI item ${JSON.stringify(item.id.slice(0, 40))} carries an id that is not EC2's`);
      images.set(item.id, snapshotIds);
    } else {
      if (!SNAPSHOT_ID.test(item.id))
        throw refuse(`snapshot item ${JSON.stringify(item.id.slice(0, 40))} is not an EC2 snapshot id`);
      orphans.add(item.id);
    }
  }
  const hash = hashDeletionSet({
    region,
    images: [...images].map(([imageId, snapshotIds]) => ({ imageId, snapshotIds })),
    orphanSnapshots: [...orphans].map((snapshotId) => ({ snapshotId })),
  });
  if (hash !== planHash) {
    throw refuse(
      `the ledger's plan (${images.size} AMIs, ${orphans.size} orphan snapshots) hashes to ${hash}, not the approved ${planHash}`,
    );
  }
  return {
    has: (item) => (item.kind === 'IMAGE' ? images.has(item.id) : orphans.has(item.id)),
    snapshotIdsOf: (imageId) => images.get(imageId) ?? [],
  };
}
