/**
 * Hostile execution inputs of a target run (`target`, `parentRunId`, `phase`) to the real
 * AcquireLock, and hostile status events of a target run's child to close-abandoned-run. Each is
 * refused with a named error before anything is read: no run recorded, no lock taken or freed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloseAbandonedRunHandler } from '../../functions/close-abandoned-run.ts';
import { targetPhaseExecutionName, targetRunId } from '../../functions/core/organization-run.ts';
import { target } from '../../functions/core/target.ts';
import { type Harness, HUB_ACCOUNT, LOCK_KEY, NOW, REGION, startHarness } from '../functions/harness.ts';
import { hostile } from './count.ts';

const MEMBER = '333333333333';
const OTHER = '444444444444';
const PARENT = 'org-run-1';
const MEMBER_KEY = `${MEMBER}-${REGION}`;
const memberTarget = { accountId: MEMBER, region: REGION };
const childName = (accountId = MEMBER, parent = PARENT) =>
  targetPhaseExecutionName(target(accountId, REGION), parent, 'plan');

/** A plan child's AcquireLock event; `input` replaces the genuine input's keys. */
function childEvent(input: Record<string, unknown>, name = childName(), id?: string) {
  return {
    input: { target: memberTarget, parentRunId: PARENT, phase: 'plan', ...input },
    execution: {
      id: id ?? `arn:aws:states:${REGION}:${HUB_ACCOUNT}:execution:ami-cleaner:${name}`,
      name,
      startTime: NOW.toISOString(),
    },
  };
}

const inputs: readonly [string, () => unknown, string, RegExp][] = [
  [
    'a target without parentRunId',
    () => childEvent({ parentRunId: undefined }),
    'InvalidRunInputError',
    /both/,
  ],
  ['a parentRunId without target', () => childEvent({ target: undefined }), 'InvalidRunInputError', /both/],
  [
    'a target given as a key string',
    () => childEvent({ target: MEMBER_KEY }),
    'InvalidRunInputError',
    /object/,
  ],
  ['a target that is a list', () => childEvent({ target: [memberTarget] }), 'InvalidRunInputError', /object/],
  [
    'an 11-digit target account',
    () => childEvent({ target: { accountId: '33333333333', region: REGION } }),
    'InvalidRunInputError',
    /account id/,
  ],
  [
    'a target account of full-width digits',
    () => childEvent({ target: { accountId: '３３３３３３３３３３３３', region: REGION } }),
    'InvalidRunInputError',
    /account id/,
  ],
  [
    'a target region with a path',
    () => childEvent({ target: { accountId: MEMBER, region: `../${REGION}` } }),
    'InvalidRunInputError',
    /region/,
  ],
  [
    'a target region with a key separator',
    () => childEvent({ target: { accountId: MEMBER, region: `${REGION}#LOCK` } }),
    'InvalidRunInputError',
    /region/,
  ],
  [
    'a target with a role ARN smuggled in',
    () => childEvent({ target: { ...memberTarget, roleArn: `arn:aws:iam::${OTHER}:role/Admin` } }),
    'InvalidRunInputError',
    /other than/,
  ],
  [
    'a target whose key names another account',
    () => childEvent({ target: { ...memberTarget, key: `${OTHER}-${REGION}` } }),
    'InvalidRunInputError',
    /key/,
  ],
  [
    'a parentRunId with a key separator',
    () => childEvent({ parentRunId: `${PARENT}#RUN` }, childName(MEMBER, `${PARENT}#RUN`)),
    'InvalidRunInputError',
    /parentRunId/,
  ],
  [
    'a parentRunId of 200 characters',
    () => childEvent({ parentRunId: 'p'.repeat(200) }),
    'InvalidRunInputError',
    /parentRunId/,
  ],
  [
    'a parentRunId that is a number',
    () => childEvent({ parentRunId: 42 }),
    'InvalidRunInputError',
    /parentRunId/,
  ],
  [
    'a forged target: the execution is named for another account',
    () => childEvent({}, childName(OTHER)),
    'InvalidRunInputError',
    /must run as the execution its parent names/,
  ],
  [
    "a child named for another parent's run",
    () => childEvent({}, childName(MEMBER, 'org-run-2')),
    'InvalidRunInputError',
    /must run as the execution its parent names/,
  ],
  [
    'a child named as its run id, not its plan execution',
    () => childEvent({}, targetRunId(target(MEMBER, REGION), PARENT)),
    'InvalidRunInputError',
    /must run as the execution its parent names/,
  ],
  ['phase delete at AcquireLock', () => childEvent({ phase: 'delete' }), 'InvalidRunInputError', /phase/],
  ['phase in upper case', () => childEvent({ phase: 'PLAN' }), 'InvalidRunInputError', /phase/],
  [
    'an execution ARN without an account',
    () => childEvent({}, childName(), 'arn:aws:states:eu-west-1::execution:ami-cleaner:x'),
    'InvalidEventError',
    /execution ARN/,
  ],
];

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h.stop();
});

/** Nothing recorded, no lock of the member or the hub taken. */
async function untouched() {
  return {
    runs: (await h.ledger.listRuns()).map((run) => run.runId),
    memberLock: await h.ledger.getLock(MEMBER_KEY),
    hubLock: await h.ledger.getLock(LOCK_KEY),
  };
}

describe('hostile execution inputs of a target run', () => {
  it.each(inputs)(hostile('execution input (target run)', '%s'), async (_what, event, name, reason) => {
    // Prepare
    const calls = h.account.calls.length;

    // Act
    const attempt = h.handlers.acquireLock(event() as never);

    // Assess
    await expect(attempt).rejects.toMatchObject({ name, message: reason });
    expect(await untouched()).toEqual({ runs: [], memberLock: undefined, hubLock: undefined });
    expect(h.account.calls.slice(calls)).toEqual([]);
  });
});

describe('hostile status events of a target run', () => {
  const statusChange = (name: string, input: unknown) => ({
    source: 'aws.states',
    'detail-type': 'Step Functions Execution Status Change',
    detail: {
      executionArn: `arn:aws:states:${REGION}:${HUB_ACCOUNT}:execution:ami-cleaner:${name}`,
      name,
      status: 'FAILED',
      input: JSON.stringify(input),
    },
  });
  const events: readonly [string, () => unknown][] = [
    [
      "an execution named for another account than its input's target",
      () => statusChange(childName(OTHER), { target: memberTarget, parentRunId: PARENT }),
    ],
    [
      'an input whose target region has a path',
      () =>
        statusChange(childName(), {
          target: { accountId: MEMBER, region: `../${REGION}` },
          parentRunId: PARENT,
        }),
    ],
    [
      'an input whose parentRunId has a key separator',
      () => statusChange(childName(), { target: memberTarget, parentRunId: `${PARENT}#X` }),
    ],
  ];

  it('closes the genuine target run of the longest parent run id, its id cut to leave room for the phase', async () => {
    // Prepare: an 80-character parent run id, so the target run id is cut and hashed (73 characters).
    const parent = `org-${'x'.repeat(76)}`;
    const { run } = await h.handlers.acquireLock(
      childEvent({ parentRunId: parent }, childName(MEMBER, parent)) as never,
    );
    const close = createCloseAbandonedRunHandler({
      ledger: h.ledger,
      region: REGION,
      pricePerGibMonth: 0.05,
      now: () => NOW,
    });

    // Act
    const result = await close(
      statusChange(childName(MEMBER, parent), { target: memberTarget, parentRunId: parent }) as never,
    );

    // Assess
    expect(run.runId).toBe(targetRunId(target(MEMBER, REGION), parent));
    expect(run.runId.length).toBe(80 - '-delete'.length);
    expect(result).toEqual({ runId: run.runId, outcome: 'closed' });
    expect((await h.ledger.getRun(run.runId))?.status).toBe('FAILED');
    expect(await h.ledger.getLock(MEMBER_KEY)).toBeUndefined();
  });

  it('closes the target runs of a stopped parent with the longest run id, each found by its cut id', async () => {
    // Prepare: the parent (an 80-character run id) recorded its target; the target's run holds its lock.
    const parent = `org-${'y'.repeat(76)}`;
    const { run } = await h.handlers.acquireLock(
      childEvent({ parentRunId: parent }, childName(MEMBER, parent)) as never,
    );
    const { target: _target, parentRunId: _parent, ...own } = run;
    await h.ledger.putRun({ ...own, runId: parent }, { status: 'RUNNING' });
    await h.ledger.updateRun(parent, { targetKeys: [MEMBER_KEY] });
    const close = createCloseAbandonedRunHandler({
      ledger: h.ledger,
      region: REGION,
      pricePerGibMonth: 0.05,
      now: () => NOW,
    });

    // Act: the parent's own execution was stopped.
    const result = await close(statusChange(parent, {}) as never);

    // Assess
    expect(result).toEqual({ runId: parent, outcome: 'closed' });
    expect((await h.ledger.getRun(run.runId))?.status).toBe('FAILED');
    expect(await h.ledger.getLock(MEMBER_KEY)).toBeUndefined();
  });

  it.each(events)(hostile('EventBridge status change (target run)', '%s'), async (_what, event) => {
    // Prepare: the member's genuine run holds its lock.
    const { run } = await h.handlers.acquireLock(childEvent({}) as never);
    const close = createCloseAbandonedRunHandler({
      ledger: h.ledger,
      region: REGION,
      pricePerGibMonth: 0.05,
      now: () => NOW,
    });

    // Act
    const attempt = close(event() as never);

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'InvalidEventError' });
    expect((await h.ledger.getLock(MEMBER_KEY))?.owner).toBe(run.runId);
    expect((await h.ledger.getRun(run.runId))?.status).toBe('RUNNING');
    await h.handlers.releaseLock({ run });
    await h.ledger.updateRun(run.runId, { status: 'FAILED' });
  });
});
