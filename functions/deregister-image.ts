/**
 * Deregister (one Map iteration): deregisters one approved AMI, after checking right now that
 * nothing references it (invariant 3: our instance read, our launch-template read or one started
 * at most 5 s ago, and EC2's DescribeImageReferences, commons/current-references.ts; for an AMI
 * shared right now, the same three in every consumer account too), and only if the ledger still
 * lists the snapshots LoadApproved verified for it (invariant 1). Safe to repeat: an AMI already
 * handled is a no-op, and one already gone counts as deregistered.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import { deregisterImage } from './adapters/image-actions.ts';
import { readLaunchPermissions } from './adapters/inventory.ts';
import type { Ledger } from './adapters/ledger/index.ts';
import { tagForRecycleBin } from './adapters/recycle-bin.ts';
import type { RunWorkspace } from './adapters/workspace.ts';
import { type ConsumerPlace, consumerAnswers, currentAnswers } from './commons/current-references.ts';
import { lazyHandler, ledgerFromEnv, targetClientsFromEnv, workspaceFromEnv } from './commons/deps.ts';
import { recycleBinFromEnv } from './commons/env.ts';
import {
  classifyFailures,
  InvalidEventError,
  ItemStateChangedError,
  NotApprovedError,
} from './commons/errors.ts';
import { ACCOUNT_ID, requireIdList, requireImageItem } from './commons/events.ts';
import { loadItem } from './commons/items.ts';
import { assertHoldsLock } from './commons/lock-fence.ts';
import { createLogger, type HandlerLogger, silentLogger } from './commons/logger.ts';
import { recordedRun } from './commons/recorded-run.ts';
import { type TargetClientsDeps, targetClients } from './commons/target-clients.ts';
import { consumerAccountsOf } from './commons/target-consumers.ts';
import { deletableSnapshotIds } from './core/deletion-set.ts';
import { type RecycleBinRetention, retentionRecord } from './core/recycle-bin.ts';
import { describeAnswers } from './core/second-opinion.ts';

export interface DeregisterImageEvent {
  readonly runId: string;
  readonly planHash: string;
  readonly imageId: string;
  /** The snapshot ids LoadApproved verified for this AMI (through the state, not the ledger). */
  readonly snapshotIds: readonly string[];
  /**
   * Multi-target runs: the other targets' accounts of this region (from the run's targets, not the
   * ledger). When given and the AMI is shared right now, each is re-checked too.
   */
  readonly consumerAccountIds?: readonly string[];
}

export type DeregisterImageOutcome =
  | 'deregistered'
  /** DeregisterImage said the AMI no longer exists: the goal is reached all the same. */
  | 'already-gone'
  /** Referenced right now: kept, recorded SKIPPED_IN_USE with the references. */
  | 'skipped-in-use'
  /** A previous attempt already handled it (DEREGISTERED, DONE or SKIPPED_IN_USE). */
  | 'already-done';

export interface DeregisterImageResult {
  readonly imageId: string;
  readonly outcome: DeregisterImageOutcome;
}

/**
 * `clients`/`region`/`memberClientsFor`: the run's target is acted in (its run record says which,
 * commons/target-clients.ts), and so is each consumer account re-checked (multi-target runs).
 */
export interface DeregisterImageDeps extends TargetClientsDeps<{ readonly ec2: EC2Client }> {
  readonly ledger: Ledger;
  readonly now: () => Date;
  readonly logger?: HandlerLogger;
  /**
   * Recycle Bin retention on: the AMI and its snapshots are tagged (one CreateTags) right before
   * DeregisterImage, so the construct's rules retain them; a failed tag deregisters nothing.
   */
  readonly recycleBin?: RecycleBinRetention;
  /** Target runs of an organization run: where the run's reference targets are (its consumers). */
  readonly workspace?: RunWorkspace;
}

export function createDeregisterImageHandler(
  deps: DeregisterImageDeps,
): (event: DeregisterImageEvent) => Promise<DeregisterImageResult> {
  const logger = deps.logger ?? silentLogger;
  return classifyFailures('DeregisterImage', async (event) => {
    const { record, runId, planHash, imageId, snapshotIds } = requireImageItem(event);
    // The run's account and region (and so its lock), from its record; the role is assumed first.
    const run = await recordedRun(deps.ledger, runId);
    // A target run's consumers are the other target accounts of its region, as planning had them.
    const consumerAccountIds =
      record.consumerAccountIds === undefined
        ? await consumerAccountsOf(deps.workspace, run)
        : requireIdList(record, 'consumerAccountIds', ACCOUNT_ID);
    if (consumerAccountIds.length > 0 && deps.memberClientsFor === undefined)
      throw new InvalidEventError('consumerAccountIds given, but this function cannot read other accounts');
    const place = await targetClients(deps, run);
    const { ec2 } = place.clients;
    const lockKey = place.target.key;

    const check = await loadItem(
      deps.ledger,
      { runId, planHash, kind: 'IMAGE', id: imageId },
      { actOn: ['APPROVED'], done: ['DEREGISTERED', 'DONE', 'SKIPPED_IN_USE'] },
    );
    if (!check.act) {
      logger.info('deregister: already handled', { runId, imageId, status: check.item.status });
      return { imageId, outcome: 'already-done' };
    }
    // The ledger's snapshot list changed since LoadApproved verified it: someone rewrote the plan.
    const recorded = deletableSnapshotIds(check.item.snapshots ?? []);
    if (!sameIds(recorded, snapshotIds)) {
      throw new NotApprovedError(
        `AMI ${imageId} of run ${runId}: the ledger's snapshots no longer match the approved ones; not deregistered`,
      );
    }
    // Counted before touching AWS, so `attempts` also counts tries that failed.
    await countAttempt(deps.ledger, runId, imageId, planHash);

    // Both opinions again, right before the deregistration (invariant 3): instances and launch
    // templates as we read them, and EC2's own DescribeImageReferences. Either one keeps the AMI.
    // The launch-template read may be another deregistration's of a few seconds ago.
    const own = await currentAnswers(deps, { ec2, key: lockKey }, imageId);
    const answers = { inventory: [...own.inventory], aws: [...own.aws] };
    const checked: Record<string, unknown> = { launchTemplatesReadAt: own.launchTemplatesReadAt };
    // A shared AMI is checked the same way where it is shared, in every consumer the run can read,
    // each with its own credentials and its own shared launch-template read.
    if (answers.inventory.length + answers.aws.length === 0 && consumerAccountIds.length > 0) {
      const shared = await readLaunchPermissions(ec2, [imageId]);
      if (shared.has(imageId)) {
        const consumers: ConsumerPlace[] = [];
        for (const accountId of consumerAccountIds) {
          const consumer = { ...run, target: { accountId, region: place.region } };
          const reached = await targetClients(deps, consumer);
          consumers.push({ ec2: reached.clients.ec2, key: reached.target.key, consumerAccountId: accountId });
        }
        const found = await consumerAnswers(deps, consumers, imageId);
        answers.inventory.push(...found.inventory);
        answers.aws.push(...found.aws);
        checked.consumerLaunchTemplatesReadAt = found.launchTemplatesReadAt;
      }
    }
    if (answers.inventory.length + answers.aws.length > 0) {
      await transition(deps.ledger, runId, imageId, planHash, 'SKIPPED_IN_USE', {
        detail: `in use right before deregistering: ${describeAnswers(answers)}`,
        references: answers.inventory,
        awsReferences: answers.aws,
        ...checked,
      });
      logger.warn('deregister: skipped, AMI in use', {
        runId,
        imageId,
        references: describeAnswers(answers),
      });
      return { imageId, outcome: 'skipped-in-use' };
    }

    // Written first: if this run never finishes the snapshots, the region's next run does. It
    // names only the verified ids, so a later finish can never widen what was approved.
    await deps.ledger.recordDeregistrationIntent(lockKey, { runId, imageId, snapshotIds });
    // Fail closed: RetentionTagError (not retried) leaves the AMI and its snapshots untouched.
    if (deps.recycleBin) await tagForRecycleBin(ec2, runId, { imageId, snapshotIds });
    // Fenced: a stopped run whose lock another run now holds must not deregister (LockLostError).
    await assertHoldsLock(deps.ledger, lockKey, runId, deps.now());
    const outcome = await deregisterImage(ec2, imageId);
    const deregisteredAt = deps.now();
    await transition(deps.ledger, runId, imageId, planHash, 'DEREGISTERED', {
      deregisterOutcome: outcome,
      deregisteredAt: deregisteredAt.toISOString(),
      ...checked,
      ...(deps.recycleBin ? retentionRecord(deregisteredAt, deps.recycleBin, 'IMAGE') : {}),
    });
    logger.info('AMI deregistered', { runId, imageId, outcome });
    return { imageId, outcome };
  });
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((id) => set.has(id));
}

async function countAttempt(ledger: Ledger, runId: string, imageId: string, planHash: string): Promise<void> {
  const ok = await ledger.transition(runId, 'IMAGE', imageId, {
    from: ['APPROVED'],
    to: 'APPROVED',
    planHash,
    countAttempt: true,
  });
  if (!ok) throw new ItemStateChangedError(`AMI ${imageId} of run ${runId} changed while being deregistered`);
}

async function transition(
  ledger: Ledger,
  runId: string,
  imageId: string,
  planHash: string,
  to: 'DEREGISTERED' | 'SKIPPED_IN_USE',
  set: Readonly<Record<string, unknown>>,
): Promise<void> {
  const ok = await ledger.transition(runId, 'IMAGE', imageId, { from: ['APPROVED'], to, planHash, set });
  if (!ok) throw new ItemStateChangedError(`AMI ${imageId} of run ${runId} changed while being deregistered`);
}

export const handler = lazyHandler(() =>
  createDeregisterImageHandler({
    ledger: ledgerFromEnv(),
    ...targetClientsFromEnv(),
    workspace: workspaceFromEnv(),
    now: () => new Date(),
    logger: createLogger('deregister-image'),
    ...recycleBinFromEnv(),
  }),
);
