import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runKey } from '../../functions/adapters/workspace.ts';
import { batchDocumentName, type DeletionBatch } from '../../functions/core/deletion-batches.ts';
import { createLoadApprovedHandler } from '../../functions/load-approved.ts';
import { BatchTamperedError } from '../../functions/load-batch.ts';
import {
  approve,
  type Harness,
  NOW,
  planRun,
  REGION,
  type Scenario,
  seedScenario,
  startHarness,
} from './harness.ts';

describe('load-approved batches and load-batch', () => {
  let h: Harness;
  let scenario: Scenario;

  beforeEach(async () => {
    h = await startHarness();
    scenario = seedScenario(h.account);
  });

  afterEach(async () => {
    await h.stop();
  });

  const plannedAndApproved = async () => {
    const { run, plan } = await planRun(h);
    const approval = await approve(h, run, plan.planHash, plan.planKey);
    return { run, planHash: plan.planHash, approval };
  };

  it('splits the verified set into batches sized by the child budget, in deletion order', async () => {
    // Prepare: a child budget that allows one item per batch (20,000 events at 19,000 an item).
    const event = await plannedAndApproved();
    const loadApproved = createLoadApprovedHandler({
      ledger: h.ledger,
      workspace: h.workspace,
      historyBudget: { parent: { fixed: 200, perItem: 22 }, child: { fixed: 24, perItem: 19_000 } },
      clients: h.clients,
      region: REGION,
      now: () => NOW,
    });

    // Act
    const { batches } = await loadApproved(event);
    const loaded = [];
    for (const batch of batches)
      loaded.push(await h.handlers.loadBatch({ runId: 'run-1', planHash: event.planHash, batch }));

    // Assess: 3 AMIs then the orphan, one a batch.
    expect(batches.map((b) => [b.index, b.executionName])).toEqual([
      [0, 'run-1-delete-0'],
      [1, 'run-1-delete-1'],
      [2, 'run-1-delete-2'],
      [3, 'run-1-delete-3'],
    ]);
    expect(loaded.map((b) => b.images.length + b.orphanSnapshots.length)).toEqual([1, 1, 1, 1]);
    const imageIds = loaded.flatMap((b) => b.images.map((i) => i.imageId));
    const created = imageIds.map((id) => String(h.account.images.get(id)?.creationDate));
    expect(imageIds).toContain(scenario.backCandidate);
    expect(created).toEqual([...created].sort());
    expect(loaded.at(-1)?.orphanSnapshots).toEqual([{ snapshotId: scenario.orphanSnapshot }]);
  });

  it('refuses a batch widened in the workspace after approval: nothing of it reaches deletion', async () => {
    // Prepare
    const event = await plannedAndApproved();
    const work = await h.handlers.loadApproved(event);
    const [descriptor] = work.batches;
    if (!descriptor) throw new Error('no batch');
    const key = runKey('run-1', batchDocumentName(descriptor.index));
    const stored = await h.workspace.getJson<DeletionBatch>(key);
    const kept = scenario.frontInUse;
    await h.workspace.putJson(key, {
      ...stored,
      images: [...stored.images, { imageId: kept, snapshotIds: [] }],
    });

    // Act
    const attempt = h.handlers.loadBatch({ runId: 'run-1', planHash: event.planHash, batch: descriptor });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(BatchTamperedError);
    await expect(attempt).rejects.toThrow(/nothing of it is deleted/);
  });

  it('refuses ids that are not EC2 ids and a descriptor without a hash, before reading further', async () => {
    // Prepare
    const event = await plannedAndApproved();
    const work = await h.handlers.loadApproved(event);
    const [descriptor] = work.batches;
    if (!descriptor) throw new Error('no batch');
    await h.workspace.putJson(runKey('run-1', batchDocumentName(0)), {
      images: [{ imageId: '../ami-1', snapshotIds: [] }],
      orphanSnapshots: [],
    });

    // Act / Assess
    await expect(
      h.handlers.loadBatch({ runId: 'run-1', planHash: event.planHash, batch: descriptor }),
    ).rejects.toThrow(/carries no EC2 image id/);
    await expect(
      h.handlers.loadBatch({ runId: 'run-1', planHash: event.planHash, batch: { index: 0 } as never }),
    ).rejects.toThrow(/hash/);
  });
});
