import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { answerApprovalLink } from '../../cli/local-runner/scripted-approver.ts';
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

  it('ends the run EXPIRED with nothing deleted, and the link no longer approves', async () => {
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
    expect(execution.result.output).toMatchObject({ status: 'EXPIRED', deregistered: 0 });
    expect(h.ec2Mutations()).toEqual([]);
    const items = [...(await h.items(execution.runId)).values()];
    expect(items.every((i) => i.status === 'EXPIRED' || i.status === 'KEPT')).toBe(true);
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
