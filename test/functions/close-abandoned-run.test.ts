import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createCloseAbandonedRunHandler,
  type ExecutionStatusChangeEvent,
} from '../../functions/close-abandoned-run.ts';
import { FINAL_ITEM_STATUSES } from '../../functions/core/workflow.ts';
import {
  approvedRun,
  type Harness,
  imageItem,
  LOCK_KEY,
  NOW,
  REGION,
  type Scenario,
  seedScenario,
  startHarness,
} from './harness.ts';

function statusChange(status: string, name = 'run-1'): ExecutionStatusChangeEvent {
  return {
    source: 'aws.states',
    'detail-type': 'Step Functions Execution Status Change',
    detail: {
      executionArn: `arn:aws:states:${REGION}:123456789012:execution:ami-cleaner:${name}`,
      name,
      status,
    },
  };
}

describe('close-abandoned-run', () => {
  let h: Harness;
  let scenario: Scenario;
  let close: ReturnType<typeof createCloseAbandonedRunHandler>;

  beforeEach(async () => {
    h = await startHarness();
    scenario = seedScenario(h.account);
    close = createCloseAbandonedRunHandler({
      ledger: h.ledger,
      region: REGION,
      pricePerGibMonth: 0.05,
      now: () => NOW,
    });
  });

  afterEach(async () => {
    await h.stop();
  });

  it('gives every item of a run stopped mid-deletion a final status, and releases the lock', async () => {
    // Prepare: one AMI deregistered, the others approved, when the execution timed out.
    const { plan, work } = await approvedRun(h);
    const imageId = scenario.frontCandidates[0] as string;
    await h.handlers.deregister(imageItem(plan.planHash, imageId, work));
    expect((await h.ledger.getLock(LOCK_KEY))?.owner).toBe('run-1');

    // Act
    const result = await close(statusChange('TIMED_OUT'));

    // Assess
    expect(result).toEqual({ runId: 'run-1', outcome: 'closed' });
    const items = await h.ledger.listItems('run-1');
    expect(items.every((item) => FINAL_ITEM_STATUSES.includes(item.status))).toBe(true);
    expect(items.find((item) => item.id === imageId)).toMatchObject({ status: 'FAILED' });
    expect(await h.ledger.getRun('run-1')).toMatchObject({ status: 'FAILED' });
    expect((await h.ledger.getRun('run-1'))?.error).toContain('TIMED_OUT');
    expect(await h.ledger.getLock(LOCK_KEY)).toBeUndefined();
  });

  it('leaves a run that already finished as it was', async () => {
    // Prepare
    await approvedRun(h);
    await h.ledger.updateRun('run-1', { status: 'COMPLETED' });
    const before = await h.ledger.listItems('run-1');

    // Act
    const result = await close(statusChange('FAILED'));

    // Assess
    expect(result).toEqual({ runId: 'run-1', outcome: 'already-final' });
    expect(await h.ledger.getRun('run-1')).toMatchObject({ status: 'COMPLETED' });
    expect((await h.ledger.listItems('run-1')).map((i) => i.status)).toEqual(before.map((i) => i.status));
  });

  it('releases the lock of an execution that died before its run was recorded', async () => {
    // Prepare: AcquireLock took the lock, then its Lambda died (no run record).
    await h.ledger.acquireLock(LOCK_KEY, 'never-recorded', 3600, NOW);

    // Act
    const result = await close(statusChange('FAILED', 'never-recorded'));

    // Assess
    expect(result).toEqual({ runId: 'never-recorded', outcome: 'unknown-run' });
    expect(await h.ledger.getLock(LOCK_KEY)).toBeUndefined();
  });

  it("releases the failed execution's lock even when its run already looks final, but never another run's", async () => {
    // Prepare
    await approvedRun(h);
    await h.ledger.updateRun('run-1', { status: 'COMPLETED' });
    const theirs = await close(statusChange('ABORTED', 'run-other'));
    const heldByOther = await h.ledger.getLock(LOCK_KEY);

    // Act
    await close(statusChange('ABORTED'));

    // Assess
    expect(theirs.outcome).toBe('unknown-run');
    expect(heldByOther).toMatchObject({ owner: 'run-1' });
    expect(await h.ledger.getLock(LOCK_KEY)).toBeUndefined();
  });

  it.each(['SUCCEEDED', 'RUNNING'])('rejects a %s status change', async (status) => {
    // Act
    const attempt = close(statusChange(status));

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'InvalidEventError' });
  });
});
