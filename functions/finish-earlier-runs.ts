/**
 * FinishEarlierRuns (right after the lock, before planning): finishes what earlier approved runs
 * of this region left half done (invariant 5: no snapshot of a deregistered AMI is left behind
 * for good), whatever `checkOrphans` says and whatever triggered this run.
 *
 * Deregister writes a deregistration intent (AMI, its approved snapshots) before calling
 * DeregisterImage; DeleteSnapshots (or the in-use skip) clears it. An intent still present when
 * a later run starts means that run stopped in between: retries exhausted at DeleteSnapshot, a
 * crash, a lost ledger response, a stopped execution. For each one:
 * - the AMI still exists: it was never deregistered, so nothing is stranded (the next plan sees
 *   the AMI like any other); the intent is dropped;
 * - the earlier item is missing or already DONE / SKIPPED_IN_USE: nothing to do; dropped;
 * - the earlier run's approved deletion set is rebuilt from its ledger items and bound by
 *   content, as LoadApproved binds it: its ids must hash to the plan hash of the run's APPROVED
 *   approval, or nothing of that run is deleted (the intent stays, and the refusal is logged);
 * - otherwise each snapshot the intent names that is also one of that AMI's snapshots in the
 *   verified set is re-checked (no existing AMI maps it) and deleted, under this run's lock, and
 *   the earlier item is recorded DONE with what happened (`finishedByRunId`). A snapshot EC2
 *   still refuses as in use keeps the intent for the next run.
 * A dry run deletes nothing: it only counts them.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import { mapWithConcurrency } from './adapters/concurrency.ts';
import { deleteSnapshot, imageExists, snapshotUsedByOtherImage } from './adapters/image-actions.ts';
import type { DeregistrationIntent, Ledger } from './adapters/ledger/index.ts';
import { RetentionTagError, tagForRecycleBin } from './adapters/recycle-bin.ts';
import { IN_PLAN, PlanTamperedError, type VerifiedSet, verifiedDeletionSet } from './commons/approved-set.ts';
import { lazyHandler, ledgerFromEnv, targetClientsFromEnv } from './commons/deps.ts';
import { recycleBinFromEnv } from './commons/env.ts';
import { classifyFailures } from './commons/errors.ts';
import { requireRecord, requireRun } from './commons/events.ts';
import { assertHoldsLock } from './commons/lock-fence.ts';
import { createLogger, type HandlerLogger, silentLogger } from './commons/logger.ts';
import { type TargetClientsDeps, targetClients } from './commons/target-clients.ts';
import { type RecycleBinRetention, retentionRecord } from './core/recycle-bin.ts';
import { lockKeyOf, type RunPlace, runTarget } from './core/run-target.ts';
import type { ItemStatus } from './core/workflow.ts';

export interface FinishEarlierRunsEvent {
  readonly run: { readonly runId: string; readonly dryRun: boolean };
}

export interface FinishEarlierRunsResult {
  /** Earlier items this call recorded DONE. */
  readonly finished: number;
  readonly snapshotsDeleted: number;
  readonly gibFreed: number;
  /** Intents left for a later run (dry run, over the per-run cap, or a snapshot still in use). */
  readonly unfinished: number;
}

/** `clients`/`region`/`memberClientsFor`: acts in this run's target (commons/target-clients.ts). */
export interface FinishEarlierRunsDeps extends TargetClientsDeps<{ readonly ec2: EC2Client }> {
  readonly ledger: Ledger;
  readonly now: () => Date;
  /** Intents handled per run, so the Lambda stays well inside 15 minutes. @default 200 */
  readonly maxPerRun?: number;
  readonly logger?: HandlerLogger;
  /**
   * Recycle Bin retention on: an intent's snapshots are tagged (one CreateTags, the earlier run's
   * id) before any is deleted; a failed tag leaves the intent for a later run.
   */
  readonly recycleBin?: RecycleBinRetention;
}

/** The earlier run works on another account or region: not this run's to finish. */
const FOREIGN = Symbol('foreign');

function lockKeyOfOrUndefined(run: RunPlace, hub: { readonly region: string }): string | undefined {
  try {
    return lockKeyOf(run, hub);
  } catch {
    return undefined;
  }
}

/** An earlier item in one of these was never finished. */
const UNFINISHED: readonly ItemStatus[] = ['FAILED', 'DEREGISTERED', 'APPROVED'];
/** EC2 deletes refill at 5 a second: as many in flight. */
const CONCURRENCY = 5;

type IntentOutcome =
  | { readonly kind: 'finished'; readonly snapshotsDeleted: number; readonly gibFreed: number }
  | { readonly kind: 'dropped' }
  | { readonly kind: 'unfinished' }
  /** A legacy intent of another account's run: that account's runs finish it. */
  | { readonly kind: 'foreign' };

/** Where this run finishes earlier runs' intents: its target, its lock key, its clients. */
interface Place {
  readonly lockKey: string;
  readonly ec2: EC2Client;
}

/** An intent and the partition it was read from (cleared there). */
interface FoundIntent extends DeregistrationIntent {
  readonly partition: string;
}

export function createFinishEarlierRunsHandler(
  deps: FinishEarlierRunsDeps,
): (event: FinishEarlierRunsEvent) => Promise<FinishEarlierRunsResult> {
  const logger = deps.logger ?? silentLogger;
  const maxPerRun = deps.maxPerRun ?? 200;
  return classifyFailures('FinishEarlierRuns', async (event) => {
    const run = requireRun(requireRecord(event, 'event').run);
    const each = runTarget(run, deps);
    // Intents live under the run's lock key; those written before locks were per account live
    // under `INTENT#<region>` and are finished by the run of the account they belong to.
    const intents = (await intentsOf(deps.ledger, [each.key, each.region])).filter(
      (intent) => intent.runId !== run.runId,
    );
    if (run.dryRun || intents.length === 0) {
      return { finished: 0, snapshotsDeleted: 0, gibFreed: 0, unfinished: intents.length };
    }
    const place: Place = { lockKey: each.key, ec2: (await targetClients(deps, run)).clients.ec2 };
    const now = intents.slice(0, maxPerRun);
    const approvedSets = new Map<string, Promise<VerifiedSet | string | typeof FOREIGN>>();
    const approvedSetOf = (runId: string) => {
      const known = approvedSets.get(runId) ?? approvedSetOfRun(deps, place, runId);
      approvedSets.set(runId, known);
      return known;
    };
    const outcomes = await mapWithConcurrency(now, CONCURRENCY, (intent) =>
      finishOne(deps, place, run.runId, intent, approvedSetOf, logger),
    );
    const finished = outcomes.filter((o) => o.kind === 'finished');
    const result: FinishEarlierRunsResult = {
      finished: finished.length,
      snapshotsDeleted: finished.reduce((sum, o) => sum + o.snapshotsDeleted, 0),
      gibFreed: finished.reduce((sum, o) => sum + o.gibFreed, 0),
      unfinished: intents.length - now.length + outcomes.filter((o) => o.kind === 'unfinished').length,
    };
    const foreign = outcomes.filter((o) => o.kind === 'foreign').length;
    if (foreign > 0) logger.info('legacy intents of other accounts left alone', { foreign });
    if (result.finished > 0 || result.unfinished > 0) logger.info('earlier runs finished', { ...result });
    return result;
  });
}

async function intentsOf(ledger: Ledger, partitions: readonly string[]): Promise<FoundIntent[]> {
  const found: FoundIntent[] = [];
  for (const partition of partitions) {
    for (const intent of await ledger.listDeregistrationIntents(partition))
      found.push({ ...intent, partition });
  }
  return found;
}

async function finishOne(
  deps: FinishEarlierRunsDeps,
  place: Place,
  runId: string,
  intent: FoundIntent,
  approvedSetOf: (runId: string) => Promise<VerifiedSet | string | typeof FOREIGN>,
  logger: HandlerLogger,
): Promise<IntentOutcome> {
  const { ledger } = deps;
  const { ec2 } = place;
  const drop = async (why: string): Promise<IntentOutcome> => {
    await ledger.clearDeregistrationIntent(intent.partition, intent.runId, intent.imageId);
    logger.info('deregistration intent dropped', { runId: intent.runId, imageId: intent.imageId, why });
    return { kind: 'dropped' };
  };

  // Only an earlier run of this very account and region is finished here (a legacy partition
  // held every account's intents of the region).
  if (intent.partition !== place.lockKey && (await approvedSetOf(intent.runId)) === FOREIGN)
    return { kind: 'foreign' };
  const item = await ledger.getItem(intent.runId, 'IMAGE', intent.imageId);
  if (!item || !UNFINISHED.includes(item.status)) return drop(item ? `item is ${item.status}` : 'no item');
  if (await imageExists(ec2, intent.imageId)) return drop('the AMI was never deregistered');

  // Bound by content: only snapshots of this AMI in the earlier run's verified approved set, and
  // named by the intent too. A ledger rewritten since (item or intent) can narrow, never widen.
  const verified = await approvedSetOf(intent.runId);
  if (verified === FOREIGN) return { kind: 'foreign' };
  if (typeof verified === 'string') {
    logger.warn('earlier AMI not finished: its approval cannot be verified', {
      runId: intent.runId,
      imageId: intent.imageId,
      why: verified,
    });
    return { kind: 'unfinished' };
  }
  const inSet = new Set(verified.has(item) ? verified.snapshotIdsOf(intent.imageId) : []);
  const approved = new Map(
    (item.snapshots ?? []).filter((s) => inSet.has(s.snapshotId)).map((s) => [s.snapshotId, s.sizeGiB]),
  );
  const snapshots = intent.snapshotIds.filter((id) => approved.has(id));
  if (deps.recycleBin) {
    try {
      await tagForRecycleBin(ec2, intent.runId, { snapshotIds: snapshots });
    } catch (err) {
      if (!(err instanceof RetentionTagError)) throw err;
      logger.warn('earlier AMI left unfinished: snapshots could not be tagged for the Recycle Bin', {
        runId: intent.runId,
        imageId: intent.imageId,
        error: err.message,
      });
      return { kind: 'unfinished' };
    }
  }
  const results: { snapshotId: string; sizeGiB: number; outcome: string; detail?: string }[] = [];
  for (const snapshotId of snapshots) {
    const sizeGiB = approved.get(snapshotId) ?? 0;
    const users = (await snapshotUsedByOtherImage(ec2, snapshotId)).filter((id) => id !== intent.imageId);
    if (users.length > 0) {
      results.push({ snapshotId, sizeGiB, outcome: 'shared', detail: `shared with ${users.join(', ')}` });
      continue;
    }
    await assertHoldsLock(ledger, place.lockKey, runId, deps.now());
    const outcome = await deleteSnapshot(ec2, snapshotId);
    if (outcome === 'in-use') return { kind: 'unfinished' };
    results.push({ snapshotId, sizeGiB, outcome });
  }
  const deleted = results.filter((r) => r.outcome === 'deleted');
  const gibFreed = deleted.reduce((sum, r) => sum + r.sizeGiB, 0);
  await ledger.transition(intent.runId, 'IMAGE', intent.imageId, {
    from: UNFINISHED,
    to: 'DONE',
    set: {
      snapshotResults: results,
      snapshotsDeleted: deleted.length,
      gibFreed,
      completedAt: deps.now().toISOString(),
      finishedByRunId: runId,
      finishedFrom: item.status,
      ...(deps.recycleBin && deleted.length > 0
        ? { snapshotsRetainedUntil: retentionRecord(deps.now(), deps.recycleBin, 'SNAPSHOT').retainedUntil }
        : {}),
    },
  });
  await ledger.clearDeregistrationIntent(intent.partition, intent.runId, intent.imageId);
  logger.info('earlier AMI finished', {
    runId: intent.runId,
    imageId: intent.imageId,
    finishedByRunId: runId,
    deleted: deleted.map((r) => r.snapshotId).join(','),
  });
  return { kind: 'finished', snapshotsDeleted: deleted.length, gibFreed };
}

/**
 * The earlier run's approved deletion set, or why there is none: its run record and its APPROVED
 * approval must name the same plan hash, and its plan's items must hash to it.
 */
async function approvedSetOfRun(
  deps: FinishEarlierRunsDeps,
  place: Place,
  runId: string,
): Promise<VerifiedSet | string | typeof FOREIGN> {
  const run = await deps.ledger.getRun(runId);
  if (run !== undefined && lockKeyOfOrUndefined(run, deps) !== place.lockKey) return FOREIGN;
  if (run?.planHash === undefined || run.approvalId === undefined) return 'the run records no approved plan';
  const approval = await deps.ledger.getApproval(run.approvalId);
  if (approval?.status !== 'APPROVED' || approval.planHash !== run.planHash || approval.runId !== runId)
    return `no APPROVED approval of plan ${run.planHash}`;
  const items = (await deps.ledger.listItems(runId)).filter(
    (item) => item.planHash === run.planHash && IN_PLAN.has(item.status),
  );
  try {
    return verifiedDeletionSet(
      runId,
      runTarget(run, deps).region,
      run.planHash,
      items,
      run.maxDeletionsPerRun,
    );
  } catch (error) {
    if (error instanceof PlanTamperedError) return error.message;
    throw error;
  }
}

export const handler = lazyHandler(() =>
  createFinishEarlierRunsHandler({
    ledger: ledgerFromEnv(),
    ...targetClientsFromEnv(),
    now: () => new Date(),
    logger: createLogger('finish-earlier-runs'),
    ...recycleBinFromEnv(),
  }),
);
