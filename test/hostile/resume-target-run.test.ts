/**
 * Hostile rows against a real organization run waiting for its one approval: ResumeTargetRun
 * (the first state of a target run's delete and close phases) given a forged input — another
 * target, another parent, a name not its phase's — refuses before any call in any account and
 * changes nothing; an approval of another plan gets through ResumeTargetRun (it rebuilds the run
 * from the ledger, the approval is LoadApproved's to check) and LoadApproved refuses it before
 * any account is read. The run then ends rejected with nothing deleted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalRequest } from '../../cli/local-runner/approval-wait.ts';
import { targetPhaseExecutionName, targetRunId } from '../../functions/core/organization-run.ts';
import { type Target, target } from '../../functions/core/target.ts';
import {
  type OrganizationExecution,
  type OrganizationHarness,
  startOrganizationHarness,
} from '../workflow/organization-harness.ts';
import { hostile } from './count.ts';

const PARENT = 'org-hostile-resume';
let h: OrganizationHarness;
let awaiting: Target[];
let finish: () => void;
let done: Promise<OrganizationExecution>;

beforeAll(async () => {
  h = await startOrganizationHarness();
  let waiting: (request: ApprovalRequest) => void = () => {};
  const asked = new Promise<ApprovalRequest>((resolve) => {
    waiting = resolve;
  });
  const released = new Promise<void>((resolve) => {
    finish = resolve;
  });
  done = h.run({
    executionName: PARENT,
    decision: 'REJECT',
    beforeAnswer: async (request) => {
      waiting(request);
      await released;
    },
  });
  await asked;
  awaiting = [];
  for (const each of h.targets)
    if ((await h.targetRun(PARENT, each))?.status === 'AWAITING_APPROVAL') awaiting.push(each);
}, 120_000);

afterAll(async () => {
  finish?.();
  await done;
  await h?.stop();
});

const input = (each: Target, phase: 'delete' | 'close', parentRunId = PARENT) => ({
  phase,
  target: { accountId: each.accountId, region: each.region },
  parentRunId,
  ...(phase === 'delete'
    ? { approval: { decision: 'APPROVED', planHash: 'a'.repeat(64), approver: 'mallory@example.com' } }
    : { outcome: 'REJECTED' }),
});
const execution = (name: string) => ({
  id: `arn:aws:states:eu-west-1:${'1'.repeat(12)}:execution:ami-cleaner:${name}`,
  name,
  startTime: new Date().toISOString(),
});

/** The target runs' records and locks, and every call made in any account. */
async function state() {
  const runs = await Promise.all(h.targets.map((t) => h.targetRun(PARENT, t)));
  const locks = await Promise.all(h.targets.map((t) => h.ledger.getLock(t.key)));
  return {
    runs: runs.map((r) => `${r?.runId}:${r?.status}:${r?.planHash}`),
    locks: locks.map((l) => l?.owner),
    calls: h.organization.calls.length,
  };
}

describe('ResumeTargetRun against a waiting organization run', () => {
  const cases: [string, () => { input: unknown; execution: ReturnType<typeof execution> }][] = [
    [
      'a delete phase named after one target with another target in its input',
      () => {
        const [a, b] = awaiting as [Target, Target];
        return {
          input: input(b, 'delete'),
          execution: execution(targetPhaseExecutionName(a, PARENT, 'delete')),
        };
      },
    ],
    [
      'a delete phase of another parent run than the one its name belongs to',
      () => {
        const [a] = awaiting as [Target];
        return {
          input: input(a, 'delete', 'org-other-parent'),
          execution: execution(targetPhaseExecutionName(a, PARENT, 'delete')),
        };
      },
    ],
    [
      "a delete phase run under its close phase's name",
      () => {
        const [a] = awaiting as [Target];
        return {
          input: input(a, 'delete'),
          execution: execution(targetPhaseExecutionName(a, PARENT, 'close')),
        };
      },
    ],
    [
      'a close phase named as its own target run (no phase suffix)',
      () => {
        const [a] = awaiting as [Target];
        return { input: input(a, 'close'), execution: execution(targetRunId(a, PARENT)) };
      },
    ],
    [
      'a delete phase of a target no run of this parent planned',
      () => {
        const stranger = target('999999999999', 'eu-west-1');
        return {
          input: input(stranger, 'delete'),
          execution: execution(targetPhaseExecutionName(stranger, PARENT, 'delete')),
        };
      },
    ],
  ];

  it('has at least two targets awaiting the decision', () => {
    expect(awaiting.length).toBeGreaterThanOrEqual(2);
  });

  it.each(cases)(
    hostile('ResumeTargetRun input', '%s: refused, nothing read or changed'),
    async (_, make) => {
      const before = await state();
      await expect(h.stack.handlers.ResumeTargetRun(make() as never)).rejects.toThrow(
        /ResumeRefused|must run as|is not|no target run/,
      );
      expect(await state()).toEqual(before);
    },
  );

  it(
    hostile(
      'ResumeTargetRun input',
      'an approval of another plan: LoadApproved refuses before any account is read',
    ),
    async () => {
      const [a] = awaiting as [Target];
      const name = targetPhaseExecutionName(a, PARENT, 'delete');
      const before = await state();
      const resumed = (await h.stack.handlers.ResumeTargetRun({
        input: input(a, 'delete'),
        execution: execution(name),
      } as never)) as { run: unknown; plan: { planHash: string; planKey: string | null }; approval: unknown };
      await expect(
        h.stack.handlers.LoadApproved({
          run: resumed.run,
          planHash: resumed.plan.planHash,
          planKey: resumed.plan.planKey,
          approval: resumed.approval,
        } as never),
      ).rejects.toThrow(/another plan|no APPROVED approval|ApprovalMismatch/);
      expect(await state()).toEqual(before);
    },
  );
});
