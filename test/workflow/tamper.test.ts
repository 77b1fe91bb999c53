/**
 * Invariant 1 against a hostile ledger or workspace writer: the real ASL, the real approval page
 * answered over HTTP, and the plan rewritten between planning and the approver's click. The
 * approval is bound to the hash of the ids handed to deletion, so each run deletes nothing and
 * records why.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { localLockKey } from '../../cli/local-runner/run-workflow.ts';
import type { Ledger } from '../../functions/adapters/ledger/index.ts';
import { runKey } from '../../functions/adapters/workspace.ts';
import { batchDocumentName, type DeletionBatch } from '../../functions/core/deletion-batches.ts';
import type { Plan } from '../../functions/core/model.ts';
import { FINAL_ITEM_STATUSES } from '../../functions/core/workflow.ts';
import {
  type Execution,
  expectNothingDeleted,
  startWorkflowHarness,
  type WorkflowHarness,
} from './harness.ts';

let harness: WorkflowHarness | undefined;
const RUN_ID = 'tampered-run';

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

async function expectEndedClean(h: WorkflowHarness, execution: Execution): Promise<void> {
  const items = [...(await h.items(execution.runId)).values()];
  expect(items.filter((item) => !FINAL_ITEM_STATUSES.includes(item.status))).toEqual([]);
  expect(items.filter((item) => ['DONE', 'DEREGISTERED', 'APPROVED'].includes(item.status))).toEqual([]);
  expect(await h.ledger.getLock(localLockKey(h.stack))).toBeUndefined();
}

/** A writer with ledger access flips KEPT AMIs (one per reason) to PLANNED under the run's own plan hash. */
async function flipKeptToPlanned(ledger: Ledger, runId: string, reasons: readonly string[]) {
  const run = await ledger.getRun(runId);
  const items = await ledger.listItems(runId);
  for (const reason of reasons) {
    const kept = items.find((item) => item.status === 'KEPT' && item.reason === reason);
    const flipped = await ledger.transition(runId, 'IMAGE', kept?.id as string, {
      from: ['KEPT'],
      to: 'PLANNED',
      planHash: run?.planHash as string,
      set: { snapshots: [], sizeGiB: 0 },
    });
    expect(flipped).toBe(true);
  }
}

describe('a plan rewritten after planning deletes nothing', () => {
  it('KEPT AMIs flipped to PLANNED with the right plan hash: the run is refused at LoadApproved', async () => {
    // Prepare
    harness = await startWorkflowHarness();
    const h = harness;

    // Act
    const execution = await h.run({
      executionName: RUN_ID,
      decision: 'APPROVE',
      beforeAnswer: () => flipKeptToPlanned(h.ledger, RUN_ID, ['KEEP_PREVIOUS', 'OPT_OUT_TAG', 'SHARED']),
    });

    // Assess
    expectNothingDeleted(h);
    const run = await h.runRecord(execution.runId);
    expect(run?.status).toBe('FAILED');
    expect(run?.error).toMatch(/^PlanTamperedError: .*hashes to [0-9a-f]{64}, not the approved/);
    await expectEndedClean(h, execution);
  });

  it('a snapshot id appended to a planned AMI: refused, the snapshot and the AMI survive', async () => {
    // Prepare
    harness = await startWorkflowHarness();
    const h = harness;
    const victim = h.scenario.snapshots.sharedByTwoImages;
    const target = h.scenario.candidateImageIds[0] as string;

    // Act
    const execution = await h.run({
      executionName: RUN_ID,
      decision: 'APPROVE',
      beforeAnswer: async () => {
        const runId = RUN_ID;
        const item = await h.ledger.getItem(runId, 'IMAGE', target);
        await h.ledger.transition(runId, 'IMAGE', target, {
          from: ['PLANNED'],
          to: 'PLANNED',
          set: { snapshots: [...(item?.snapshots ?? []), { snapshotId: victim, sizeGiB: 1 }] },
        });
      },
    });

    // Assess
    expectNothingDeleted(h);
    const run = await h.runRecord(execution.runId);
    expect(run?.status).toBe('FAILED');
    expect(run?.error).toMatch(/^PlanTamperedError: /);
    await expectEndedClean(h, execution);
  });

  it('a workspace plan widened after planning: the page refuses it, the approval expires', async () => {
    // Prepare
    harness = await startWorkflowHarness({ approvalTimeoutSeconds: 2 });
    const h = harness;
    const extra = h.scenario.images.optOutTag;
    const shown: string[] = [];

    // Act
    const execution = await h.run({
      executionName: RUN_ID,
      decision: 'NONE',
      beforeAnswer: async (request) => {
        const run = await h.ledger.getRun(RUN_ID);
        const key = run?.planKey as string;
        const plan = await h.stack.workspace.getJson<Plan>(key);
        const [first, ...rest] = plan.groups;
        const widened: Plan = {
          ...plan,
          groups: [
            {
              ...(first as Plan['groups'][number]),
              candidates: [
                ...(first?.candidates ?? []),
                {
                  imageId: extra,
                  name: 'x',
                  creationDate: '2020-01-01T00:00:00.000Z',
                  group: 'x',
                  snapshots: [],
                },
              ],
            },
            ...rest,
          ],
        };
        await h.stack.workspace.putJson(key, widened);
        const page = await fetch(request.link);
        shown.push(`${page.status} ${/<h1>([^<]*)<\/h1>/.exec(await page.text())?.[1]}`);
      },
    });

    // Assess: the page refused to show (so to approve) the widened plan.
    expect(shown).toEqual(['409 Plan changed']);
    expectNothingDeleted(h);
    expect((await h.runRecord(execution.runId))?.status).toBe('EXPIRED');
    await expectEndedClean(h, execution);
  });
});

describe('a deletion batch rewritten after LoadApproved deletes nothing of it', () => {
  it('an in-use AMI added to the workspace batch: the DeleteBatch child is refused, its items end FAILED', async () => {
    // Prepare: a writer with workspace access widens batch 0 right after LoadApproved wrote it.
    harness = await startWorkflowHarness();
    const h = harness;
    const inUse = h.scenario.inUseImageIds[0] as string;
    const key = runKey(RUN_ID, batchDocumentName(0));

    // Act
    const execution = await h.run({
      executionName: RUN_ID,
      decision: 'APPROVE',
      handlers: (real) => ({
        LoadApproved: async (event: never) => {
          const result = await (real.LoadApproved as (e: never) => Promise<unknown>)(event);
          const batch = await h.stack.workspace.getJson<DeletionBatch>(key);
          await h.stack.workspace.putJson(key, {
            ...batch,
            images: [...batch.images, { imageId: inUse, snapshotIds: h.snapshotsOf(inUse) }],
          });
          return result;
        },
      }),
    });

    // Assess: the child failed at LoadBatch, the run went on to Finalize, nothing was deleted.
    expectNothingDeleted(h);
    const childFailure = execution.events.find(
      (event) => event.execution === `${RUN_ID}-delete-0` && event.type === 'StateFailed',
    );
    expect(childFailure?.state?.name).toBe('LoadBatch');
    const run = await h.runRecord(execution.runId);
    expect(run?.status).toBe('COMPLETED_WITH_FAILURES');
    const items = [...(await h.items(execution.runId)).values()];
    expect(items.find((item) => item.id === inUse)?.status).toBe('KEPT');
    expect(items.filter((item) => item.status === 'FAILED').length).toBeGreaterThan(0);
    await expectEndedClean(h, execution);
  });
});
