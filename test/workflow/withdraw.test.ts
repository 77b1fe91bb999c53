import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localLockKey } from '../../cli/local-runner/run-workflow.ts';
import { answerApprovalLink } from '../../cli/local-runner/scripted-approver.ts';
import { FINAL_ITEM_STATUSES } from '../../functions/core/workflow.ts';
import { startWorkflowHarness, type WorkflowHarness } from './harness.ts';

/** Ctrl-C during `amicleaner run` withdraws the approval this way (cli/local-runner/session.ts). */
describe('withdrawing a pending approval', () => {
  let h: WorkflowHarness;

  beforeEach(async () => {
    h = await startWorkflowHarness();
  });

  afterEach(async () => {
    await h.stop();
  });

  it('ends the run WITHDRAWN (not expired) with nothing deleted, and the link no longer approves', async () => {
    // Prepare
    let withdrawn: boolean | undefined;
    let link = '';

    // Act
    const execution = await h.run({
      decision: 'NONE',
      beforeAnswer: (request) => {
        link = request.link;
        withdrawn = request.withdraw();
      },
    });

    // Assess
    expect(withdrawn).toBe(true);
    expect(execution.result.output).toMatchObject({ status: 'WITHDRAWN', deregistered: 0 });
    expect(await h.runRecord(execution.runId)).toMatchObject({ status: 'WITHDRAWN' });
    expect(h.ec2Mutations()).toEqual([]);
    const items = [...(await h.items(execution.runId)).values()];
    expect(items.some((i) => i.status === 'WITHDRAWN')).toBe(true);
    expect(items.every((i) => ['WITHDRAWN', 'KEPT', 'DEFERRED'].includes(i.status))).toBe(true);
    expect(await h.ledger.getLock(localLockKey(h.stack))).toBeUndefined();
    await expect(answerApprovalLink(link, 'APPROVE', 'late')).rejects.toThrow(/refused|answered 4\d\d/);
    expect(h.ec2Mutations()).toEqual([]);
  });

  it('does nothing once a decision has arrived', async () => {
    // Prepare
    let withdrawAfterDecision: (() => boolean) | undefined;

    // Act
    const execution = await h.run({
      decision: 'APPROVE',
      beforeAnswer: (request) => {
        withdrawAfterDecision = request.withdraw;
      },
    });

    // Assess
    expect(withdrawAfterDecision?.()).toBe(false);
    expect(execution.result.output).toMatchObject({ status: 'COMPLETED' });
  });
});

/** A second Ctrl-C during deletion stops the execution (cli/local-runner/session.ts). */
describe('stopping a run mid-deletion', () => {
  let h: WorkflowHarness;

  beforeEach(async () => {
    h = await startWorkflowHarness();
  });

  afterEach(async () => {
    await h.stop();
  });

  it('leaves no lock held and no item unfinished, and the next run finishes the deregistered AMI', async () => {
    // Prepare: stop while the second AMI is being deregistered (that Lambda call still completes).
    const stop = new AbortController();
    let deregistrations = 0;

    // Act
    const stopped = await h.run({
      deletionMaxConcurrency: 1,
      signal: stop.signal,
      handlers: (real) => ({
        DeregisterImage: async (event: never) => {
          deregistrations += 1;
          if (deregistrations === 2) stop.abort();
          return real.DeregisterImage(event);
        },
      }),
    });
    const items = [...(await h.items(stopped.runId)).values()];
    const lockAfterStop = await h.ledger.getLock(localLockKey(h.stack));
    // AMIs gone whose item is not DONE: what the stopped run left for the next one.
    const stranded = items.filter(
      (i) => i.kind === 'IMAGE' && i.status !== 'DONE' && !h.account.images.has(i.id),
    );
    // The scenario's one snapshot that another AMI also maps is kept, by any run.
    const strandedSnapshots = stranded
      .flatMap((i) => h.snapshotsOf(i.id))
      .filter((id) => id !== h.scenario.snapshots.sharedByTwoImages);
    const next = await h.run({ decision: 'REJECT' });

    // Assess
    expect(stopped.result.status).toBe('ABORTED');
    expect(lockAfterStop).toBeUndefined();
    expect(items.every((i) => FINAL_ITEM_STATUSES.includes(i.status))).toBe(true);
    expect(await h.runRecord(stopped.runId)).toMatchObject({ status: 'FAILED' });
    expect(stranded.length).toBeGreaterThan(0);
    // Rejecting the next plan does not matter: the stranded snapshots were approved by the first.
    expect(next.result.output).toMatchObject({
      status: 'REJECTED',
      earlierRuns: { finished: stranded.length },
    });
    for (const snapshotId of strandedSnapshots) expect(h.account.snapshots.has(snapshotId)).toBe(false);
    const earlier = await h.items(stopped.runId);
    for (const item of stranded) {
      expect(earlier.get(item.id)).toMatchObject({ status: 'DONE', finishedByRunId: next.runId });
    }
  });
});
