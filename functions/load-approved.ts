/**
 * LoadApproved: after an APPROVED decision, checks once more (defence in depth; the ASL's Choice
 * checks too) that the decision is bound to the exact plan recorded for this run, recomputes the
 * plan hash from the ledger's items of the plan (refusing the whole run if it differs), marks
 * those items APPROVED and writes their verified ids (each AMI with its snapshot ids) to the run's
 * workspace in batches (`core/deletion-batches.ts`), returning one small descriptor per batch,
 * with the hash of its ids, for the DeleteBatch children: the deletion steps act on those ids
 * only, never on ids read from the ledger.
 *
 * A plan can be a day old when it is approved. So every reference source (instances, launch
 * templates, launch configurations, Auto Scaling groups, SSM parameters, Image Builder recipes) is
 * read again here, every page, failing closed, EC2's DescribeImageReferences is asked too, and
 * AMIs either one reports referenced are set aside as SKIPPED_IN_USE with both answers. Each
 * deregistration then re-checks instances and launch templates once more, right before it (the
 * sources that can change within minutes).
 */
import { mapWithConcurrency } from './adapters/concurrency.ts';
import type { InventoryClients } from './adapters/inventory.ts';
import type { Ledger, LedgerItem } from './adapters/ledger/index.ts';
import { referencesNow } from './adapters/reference-checks.ts';
import { type RunWorkspace, runKey } from './adapters/workspace.ts';
import { IN_PLAN, verifiedDeletionSet } from './commons/approved-set.ts';
import { lazyHandler, ledgerFromEnv, targetClientsFromEnv, workspaceFromEnv } from './commons/deps.ts';
import { getHistoryBudgetFromEnv } from './commons/env.ts';
import { classifyFailures } from './commons/errors.ts';
import { PLAN_HASH, requireRecord, requireRun, requireString } from './commons/events.ts';
import { createLogger, type HandlerLogger, silentLogger } from './commons/logger.ts';
import { ApprovalMismatchError, verifyRunApproval } from './commons/run-approval.ts';
import { type TargetClients, type TargetClientsDeps, targetClients } from './commons/target-clients.ts';
import {
  type BatchDescriptor,
  batchDocumentName,
  batchExecutionName,
  DELETE_BATCH_MAX_BYTES,
  hashDeletionBatch,
  packDeletionBatches,
} from './core/deletion-batches.ts';
import { type DeletionTreeBudget, itemsPerBatch } from './core/quotas.ts';
import { describeAnswers } from './core/second-opinion.ts';
import type { ApprovalResult, RunContext } from './core/workflow.ts';

export interface LoadApprovedEvent {
  readonly run: RunContext;
  /** `$.plan.planHash`: the hash Rotate computed (a target run: its own, not the parent's). */
  readonly planHash: string;
  /** What the approval page sent through SendTaskSuccess (a target run: the parent's, of the parent's plan). */
  readonly approval: ApprovalResult;
}

export interface LoadApprovedResult {
  /**
   * The verified deletion set in batches (AMIs oldest first, then orphan snapshots), each stored
   * in the workspace under `runs/<runId>/delete-batch-<index>.json`: one DeleteBatch child each.
   */
  readonly batches: readonly BatchDescriptor[];
}

/** `clients`/`region`: for the approval-time re-read of every reference source, in the run's target. */
export interface LoadApprovedDeps extends TargetClientsDeps<InventoryClients> {
  readonly ledger: Ledger;
  readonly workspace: RunWorkspace;
  /** Sizes the batches (HISTORY_BUDGET): each child's worst-case history stays within its target. */
  readonly historyBudget: DeletionTreeBudget;
  readonly now: () => Date;
  readonly logger?: HandlerLogger;
}

export { ApprovalMismatchError };

/** Approved items a deletion step still has to process (DEREGISTERED: a retried Map resumes them). */
const TO_PROCESS = new Set(['APPROVED', 'DEREGISTERED']);
/** Conditional updates in flight at once while marking the verified items APPROVED. */
const MARK_CONCURRENCY = 8;

export function createLoadApprovedHandler(
  deps: LoadApprovedDeps,
): (event: LoadApprovedEvent) => Promise<LoadApprovedResult> {
  const logger = deps.logger ?? silentLogger;
  return classifyFailures('LoadApproved', async (event) => {
    const record = requireRecord(event, 'event');
    const run = requireRun(record.run);
    const planHash = requireString(record, 'planHash', PLAN_HASH);
    const approval = requireRecord(record.approval, 'approval');
    const { runId } = run;

    const approver = await verifyRunApproval(deps, run, planHash, approval);

    // The target's clients first: a role that cannot be assumed fails before anything is marked.
    const place = await targetClients(deps, run);
    const { region } = place;
    // Bind by content: the ids handed to the deletion Maps must hash to the approved plan hash
    // (which came through the state, not the ledger). Checked before anything is marked.
    const inPlan = (await deps.ledger.listItems(runId)).filter(
      (item) => item.planHash === planHash && IN_PLAN.has(item.status),
    );
    const verified = verifiedDeletionSet(runId, region, planHash, inPlan, run.maxDeletionsPerRun);

    const deleting = await deps.ledger.updateRun(
      runId,
      { status: 'DELETING', ...(approver === undefined ? {} : { approver }) },
      { from: ['AWAITING_APPROVAL', 'DELETING'] },
    );
    if (!deleting) throw new ApprovalMismatchError(`run ${runId} is not awaiting approval`);
    // Only the verified items move to APPROVED; anything else the ledger holds stays unapproved.
    const moved = await mapWithConcurrency(
      inPlan.filter((item) => item.status === 'PLANNED'),
      MARK_CONCURRENCY,
      (item) =>
        deps.ledger.transition(runId, item.kind, item.id, { from: ['PLANNED'], to: 'APPROVED', planHash }),
    );

    const approved = (await deps.ledger.listItems(runId)).filter(
      (item) => item.planHash === planHash && TO_PROCESS.has(item.status) && verified.has(item),
    );
    const skipped = await setAsideReferenced(deps, place, run, planHash, approved);
    const images = approved
      .filter((item) => item.kind === 'IMAGE' && !skipped.has(item.id))
      .sort(oldestFirst)
      .map((item) => ({ imageId: item.id, snapshotIds: verified.snapshotIdsOf(item.id) }));
    const orphanSnapshots = approved
      .filter((item) => item.kind === 'SNAPSHOT')
      .map((item) => ({ snapshotId: item.id }));
    const packed = packDeletionBatches(
      { images, orphanSnapshots },
      { maxItems: itemsPerBatch(deps.historyBudget), maxBytes: DELETE_BATCH_MAX_BYTES },
    );
    // Written one by one (a retried LoadApproved rewrites the same content under the same keys).
    const batches: BatchDescriptor[] = [];
    for (const [index, batch] of packed.entries()) {
      // The region travels with the ids (LoadBatch hashes with it), so a child needs no ledger read.
      await deps.workspace.putJson(runKey(runId, batchDocumentName(index)), { ...batch, region });
      batches.push({
        index,
        executionName: batchExecutionName(runId, index),
        hash: hashDeletionBatch(region, batch),
      });
    }
    logger.info('approved plan loaded', {
      runId,
      planHash,
      approver,
      markedApproved: moved.filter(Boolean).length,
      skippedInUse: skipped.size,
      images: images.length,
      orphanSnapshots: orphanSnapshots.length,
      batches: batches.length,
    });
    return { batches };
  });
}

/** Re-reads every reference source and moves newly referenced approved AMIs to SKIPPED_IN_USE. */
async function setAsideReferenced(
  deps: LoadApprovedDeps,
  place: TargetClients<InventoryClients>,
  run: RunContext,
  planHash: string,
  approved: readonly LedgerItem[],
): Promise<Set<string>> {
  // DEREGISTERED items (a resumed run) are past the point where a reference could stop them.
  const open = approved
    .filter((item) => item.kind === 'IMAGE' && item.status === 'APPROVED')
    .map((i) => i.id);
  const { ssmParameterPaths } = run.settings;
  const references = await referencesNow(
    place.clients,
    { region: place.region, ssmParameterPaths, now: deps.now },
    open,
  );
  const skipped = new Set<string>();
  for (const item of approved) {
    const answers = references.get(item.id);
    if (item.kind !== 'IMAGE' || item.status !== 'APPROVED' || answers === undefined) continue;
    const moved = await deps.ledger.transition(run.runId, 'IMAGE', item.id, {
      from: ['APPROVED'],
      to: 'SKIPPED_IN_USE',
      planHash,
      set: {
        detail: `in use when the plan was approved: ${describeAnswers(answers)}`,
        references: answers.inventory,
        awsReferences: answers.aws,
      },
    });
    if (!moved)
      throw new ApprovalMismatchError(`AMI ${item.id} of run ${run.runId} changed while being approved`);
    skipped.add(item.id);
  }
  return skipped;
}

function oldestFirst(a: LedgerItem, b: LedgerItem): number {
  return (a.creationDate ?? '').localeCompare(b.creationDate ?? '') || a.id.localeCompare(b.id);
}

export const handler = lazyHandler(() =>
  createLoadApprovedHandler({
    ledger: ledgerFromEnv(),
    workspace: workspaceFromEnv(),
    historyBudget: getHistoryBudgetFromEnv(),
    ...targetClientsFromEnv(),
    now: () => new Date(),
    logger: createLogger('load-approved'),
  }),
);
