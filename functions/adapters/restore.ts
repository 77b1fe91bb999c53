/**
 * Restores what one run deleted from the EC2 Recycle Bin: reads the run's ledger items and what
 * EC2 reports for their ids, decides with the pure `planRestore`, then per AMI restores its
 * snapshots first, then the AMI, and records RESTORED. Used by `amicleaner restore`.
 *
 * - The run must be over (its items final): a run still deleting could delete again what is
 *   restored. The region's lock is held while restoring, so no run (and no FinishEarlierRuns,
 *   which would re-delete the snapshots of an AMI whose restore is half done) works meanwhile.
 * - Every read fails closed: a failed read restores nothing and says so.
 * - One AMI's failure does not stop the others; it is reported and recorded (`restoreError`).
 */

import { randomUUID } from 'node:crypto';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { idsToObserve, planRestore, type RestoreDecision, type RestoreRefusal } from '../core/restore.ts';
import { runTarget } from '../core/run-target.ts';
import type { ItemStatus as RunItemStatus, RunStatus } from '../core/workflow.ts';
import { errorCode, safeErrorMessage } from './errors.ts';
import type { Ledger, LedgerItem } from './ledger/index.ts';
import {
  existingImages,
  existingSnapshots,
  imagesInRecycleBin,
  restoreImageFromRecycleBin,
  restoreSnapshotFromRecycleBin,
  snapshotsInRecycleBin,
} from './recycle-bin.ts';

export interface RestoreDeps {
  readonly ledger: Ledger;
  readonly ec2: EC2Client;
  /** The region the EC2 client works on; the run must have worked on it too. */
  readonly region: string;
  /**
   * The account the EC2 client works in, when the caller knows it: a run of another account is
   * then refused up front. Unknown (the CLI's default): the lock is still the run's own account's
   * (`lockKeyOf` of its record), and another account's bin simply holds none of its ids.
   */
  readonly accountId?: string;
  readonly now: () => Date;
}

export interface RestoreRequest {
  readonly runId: string;
  /** Only these AMIs; default every AMI and orphan snapshot the run deleted. */
  readonly imageIds?: readonly string[];
  /** List what would be restored; change nothing (no lock, no restore, no ledger write). */
  readonly dryRun: boolean;
}

export type RestoreOutcome = 'restored' | 'would-restore' | 'refused' | 'failed';

export interface RestoreItemResult {
  readonly kind: 'IMAGE' | 'SNAPSHOT';
  readonly id: string;
  readonly outcome: RestoreOutcome;
  /** Why not restored (refused), or `error` (failed). */
  readonly reason?: RestoreRefusal | 'error';
  readonly detail?: string;
  /** Restored (or, in a dry run, to be restored) from the bin, in order. */
  readonly snapshotIds: readonly string[];
  readonly image: boolean;
}

export interface RestoreReport {
  readonly runId: string;
  readonly region: string;
  readonly dryRun: boolean;
  readonly results: readonly RestoreItemResult[];
}

/** The restore cannot start: unknown run, run still in progress, another region, lock held, bad `--ami`. */
export class RestoreRefusedError extends Error {
  override readonly name = 'RestoreRefusedError';
  constructor(
    message: string,
    /** Bad input (exit 2) rather than a state that may change (exit 1). */
    readonly badInput: boolean,
  ) {
    super(message);
  }
}

const IN_PROGRESS: readonly RunStatus[] = ['RUNNING', 'AWAITING_APPROVAL', 'DELETING'];
/** Long enough for hundreds of AMIs at the restore APIs' rates; released at the end anyway. */
const LOCK_SECONDS = 3600;

export async function restoreRun(deps: RestoreDeps, request: RestoreRequest): Promise<RestoreReport> {
  const { ledger, region } = deps;
  const run = await ledger.getRun(request.runId);
  if (!run) throw new RestoreRefusedError(`the ledger holds no run ${request.runId}`, true);
  if (IN_PROGRESS.includes(run.status)) {
    throw new RestoreRefusedError(
      `run ${request.runId} is still ${run.status}; restore once it has ended`,
      false,
    );
  }
  // The run's own account and region (its target, else its execution's account): its lock is that one.
  const place = runTarget(run, deps);
  if (place.region !== region || (deps.accountId !== undefined && place.accountId !== deps.accountId)) {
    throw new RestoreRefusedError(
      `run ${request.runId} worked on account ${place.accountId} in ${place.region}, not ${deps.accountId ?? 'this account'} in ${region}; use credentials and --region of that account`,
      true,
    );
  }
  const lockKey = place.key;
  const items = await ledger.listItems(request.runId);
  const other = items.find((item) => item.region !== undefined && item.region !== region);
  if (other) {
    throw new RestoreRefusedError(
      `run ${request.runId} worked on ${other.region}, not ${region}; pass --region ${other.region}`,
      true,
    );
  }
  const known = new Set(items.filter((i) => i.kind === 'IMAGE').map((i) => i.id));
  const unknown = (request.imageIds ?? []).filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new RestoreRefusedError(`run ${request.runId} has no AMI ${unknown.join(', ')}`, true);
  }

  const owner = `restore-${request.runId}-${randomUUID().slice(0, 8)}`;
  if (!request.dryRun && !(await ledger.acquireLock(lockKey, owner, LOCK_SECONDS, deps.now()))) {
    const holder = await ledger.getLock(lockKey);
    throw new RestoreRefusedError(
      `run ${holder?.owner ?? '?'} holds the lock of ${lockKey}; restore once it has ended`,
      false,
    );
  }
  try {
    const decisions = planRestore(items, request.imageIds, await observe(deps.ec2, items, deps.now()));
    const statusOf = new Map(items.map((item) => [`${item.kind}#${item.id}`, item.status]));
    const results: RestoreItemResult[] = [];
    for (const decision of decisions) {
      const status = statusOf.get(`${decision.kind}#${decision.id}`);
      results.push(
        request.dryRun ? preview(decision) : await carryOut(deps, lockKey, request.runId, decision, status),
      );
    }
    return { runId: request.runId, region, dryRun: request.dryRun, results };
  } finally {
    if (!request.dryRun) await ledger.releaseLock(lockKey, owner);
  }
}

async function observe(ec2: EC2Client, items: readonly LedgerItem[], now: Date) {
  const ids = idsToObserve(items);
  const [imagesInBin, snapshotsInBin, images, snapshots] = await Promise.all([
    imagesInRecycleBin(ec2, ids.images),
    snapshotsInRecycleBin(ec2, ids.snapshots),
    existingImages(ec2, ids.images),
    existingSnapshots(ec2, ids.snapshots),
  ]);
  return { imagesInBin, snapshotsInBin, existingImages: images, existingSnapshots: snapshots, now };
}

function preview(decision: RestoreDecision): RestoreItemResult {
  if (decision.action === 'refuse') return refused(decision);
  return {
    kind: decision.kind,
    id: decision.id,
    outcome: 'would-restore',
    snapshotIds: decision.snapshotIds,
    image: decision.restoreImage,
  };
}

function refused(decision: Extract<RestoreDecision, { action: 'refuse' }>): RestoreItemResult {
  return {
    kind: decision.kind,
    id: decision.id,
    outcome: 'refused',
    reason: decision.reason,
    detail: decision.detail,
    snapshotIds: [],
    image: false,
  };
}

async function carryOut(
  deps: RestoreDeps,
  lockKey: string,
  runId: string,
  decision: RestoreDecision,
  status: RunItemStatus | undefined,
): Promise<RestoreItemResult> {
  if (decision.action === 'refuse') return refused(decision);
  const restored: string[] = [];
  let imageRestored = false;
  try {
    // Snapshots first: EC2 restores an AMI only once the snapshots it maps are back.
    for (const snapshotId of decision.snapshotIds) {
      await restoreSnapshotFromRecycleBin(deps.ec2, snapshotId);
      restored.push(snapshotId);
    }
    if (decision.restoreImage) {
      await restoreImageFromRecycleBin(deps.ec2, decision.id);
      imageRestored = true;
    }
  } catch (err) {
    const detail = `${errorCode(err)}: ${safeErrorMessage(err)}`;
    // Recorded for the audit; the item keeps its status, and an intent left by its run stays,
    // so a later run re-deletes (re-retains) snapshots restored for an AMI that did not come back.
    if (status !== undefined) {
      await deps.ledger
        .transition(runId, decision.kind, decision.id, {
          from: [status],
          to: status,
          set: { restoreError: detail, restoreAttemptedAt: deps.now().toISOString() },
        })
        .catch(() => false); // the AWS error is the one to report
    }
    return {
      kind: decision.kind,
      id: decision.id,
      outcome: 'failed',
      reason: 'error',
      detail,
      snapshotIds: restored,
      image: imageRestored,
    };
  }
  await deps.ledger.items.markRestored(runId, decision.kind, decision.id, {
    restoredAt: deps.now().toISOString(),
    snapshotIds: restored,
    image: imageRestored,
  });
  // The AMI exists again: nothing of it is left for FinishEarlierRuns to finish.
  // (Runs from before per-account locks kept their intents under the region alone.)
  if (decision.kind === 'IMAGE') {
    await deps.ledger.clearDeregistrationIntent(lockKey, runId, decision.id);
    await deps.ledger.clearDeregistrationIntent(deps.region, runId, decision.id);
  }
  return {
    kind: decision.kind,
    id: decision.id,
    outcome: 'restored',
    snapshotIds: restored,
    image: imageRestored,
  };
}
