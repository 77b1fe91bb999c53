/**
 * The items RecordPlan writes for a plan: one per candidate AMI, kept AMI and orphan snapshot,
 * with the deletion cap applied. Plain data in, plain data out; `ItemStore.recordPlan` writes them.
 */
import type { Plan, PlannedSnapshot } from '../../core/model.ts';
import { compareOldestFirst } from '../../core/rotation.ts';
import type { ItemStatus, RunContext } from '../../core/workflow.ts';
import { plain } from './expressions.ts';
import { type DocItem, itemSk, runPk } from './table.ts';

export interface PlanItems {
  readonly items: readonly DocItem[];
  readonly toDelete: number;
  readonly deferred: number;
  readonly kept: number;
}

/**
 * The cap counts AMIs and orphan snapshots together: AMIs come first, oldest first (they have
 * waited longest, and the newer ones stay eligible next run), then orphan snapshots in plan
 * order. Candidates beyond it are DEFERRED, and so are AMIs the plan kept as
 * MAX_DELETIONS_PER_RUN (Rotate left them for a later run).
 */
export function planItems(run: RunContext, plan: Plan, cap: number, now: string): PlanItems {
  const base = {
    runId: run.runId,
    // Executions' history is kept 90 days; the ARN lets an auditor find it while it exists.
    executionArn: run.executionArn,
    planHash: plan.planHash,
    region: plan.region,
    attempts: 0,
  };
  const items: DocItem[] = [];
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
    items.push({
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
    items.push({
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
      items.push({
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
        // Both opinions, as LoadApproved records them on an item it sets aside.
        ...(image.referenceAnswers === undefined
          ? {}
          : { references: image.referenceAnswers.inventory, awsReferences: image.referenceAnswers.aws }),
        sizeGiB: 0,
        status,
        recordedAt: now,
        updatedAt: now,
      });
    }
  }
  return { items, toDelete, deferred, kept };
}

function sumGiB(snapshots: readonly PlannedSnapshot[]): number {
  return snapshots.reduce((sum, s) => sum + s.sizeGiB, 0);
}
