import { inspect } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ledger, LedgerWriteError, PlanConflictError, TaskToken } from '../../functions/adapters/ledger.ts';
import { type LocalDynamo, startDynalite } from '../helpers/dynalite.ts';
import { runContext, smallPlan } from '../helpers/ledger-fixtures.ts';

const T0 = new Date('2026-05-01T10:00:00.000Z');

describe('Ledger on dynalite', () => {
  let dynamo: LocalDynamo;
  let ledger: Ledger;

  beforeEach(async () => {
    dynamo = await startDynalite();
    ledger = new Ledger({ doc: dynamo.docClient, tableName: dynamo.tableName, now: () => T0 });
  });

  afterEach(async () => {
    await dynamo.stop();
  });

  describe('lock', () => {
    it('refuses a second run while the first holds an unexpired lease', async () => {
      // Prepare
      await ledger.acquireLock('eu-west-1', 'run-a', 600, T0);

      // Act
      const second = await ledger.acquireLock('eu-west-1', 'run-b', 600, new Date(T0.getTime() + 599_000));

      // Assess
      expect(second).toBe(false);
      expect(await ledger.getLock('eu-west-1')).toEqual({
        owner: 'run-a',
        expiresAt: T0.getTime() / 1000 + 600,
      });
    });

    it('is idempotent for the run that holds it and independent per region', async () => {
      // Prepare
      await ledger.acquireLock('eu-west-1', 'run-a', 600, T0);

      // Act
      const again = await ledger.acquireLock('eu-west-1', 'run-a', 600, T0);
      const otherRegion = await ledger.acquireLock('us-east-1', 'run-b', 600, T0);

      // Assess
      expect(again).toBe(true);
      expect(otherRegion).toBe(true);
    });

    it('lets another run take over once the lease has expired', async () => {
      // Prepare
      await ledger.acquireLock('eu-west-1', 'run-a', 600, T0);

      // Act
      const taken = await ledger.acquireLock('eu-west-1', 'run-b', 600, new Date(T0.getTime() + 601_000));

      // Assess
      expect(taken).toBe(true);
      expect((await ledger.getLock('eu-west-1'))?.owner).toBe('run-b');
    });

    it('refuses release by a non-owner and tolerates a repeated release by the owner', async () => {
      // Prepare
      await ledger.acquireLock('eu-west-1', 'run-a', 600, T0);

      // Act
      const byOther = await ledger.releaseLock('eu-west-1', 'run-b');
      const stillHeld = await ledger.getLock('eu-west-1');
      const byOwner = await ledger.releaseLock('eu-west-1', 'run-a');
      const again = await ledger.releaseLock('eu-west-1', 'run-a');

      // Assess
      expect(byOther).toBe(false);
      expect(stillHeld?.owner).toBe('run-a');
      expect(byOwner).toBe(true);
      expect(again).toBe(true);
      expect(await ledger.getLock('eu-west-1')).toBeUndefined();
      expect(await ledger.acquireLock('eu-west-1', 'run-b', 600, T0)).toBe(true);
    });
  });

  describe('runs', () => {
    it('stores the run context and lists runs newest first through the GSI', async () => {
      // Prepare
      await ledger.putRun(runContext({ runId: 'r-old', startedAt: '2026-05-01T08:00:00.000Z' }));
      await ledger.putRun(runContext({ runId: 'r-new', startedAt: '2026-05-01T12:00:00.000Z' }));
      await ledger.putRun(runContext({ runId: 'r-mid', startedAt: '2026-05-01T10:00:00.000Z' }));

      // Act
      const all = await ledger.listRuns({ limit: 10 });
      const two = await ledger.listRuns({ limit: 2 });

      // Assess
      expect(all.map((r) => r.runId)).toEqual(['r-new', 'r-mid', 'r-old']);
      expect(two.map((r) => r.runId)).toEqual(['r-new', 'r-mid']);
      expect(all[0]).toMatchObject({ status: 'RUNNING', trigger: 'manual', maxDeletionsPerRun: 100 });
      expect(all[0]).not.toHaveProperty('pk');
    });

    it('updates a run only from the given statuses and never creates one', async () => {
      // Prepare
      await ledger.putRun(runContext());

      // Act
      const wrongFrom = await ledger.updateRun(
        'run-1',
        { status: 'DELETING' },
        { from: ['AWAITING_APPROVAL'] },
      );
      const rightFrom = await ledger.updateRun(
        'run-1',
        { status: 'AWAITING_APPROVAL' },
        { from: ['RUNNING'] },
      );
      const unknown = await ledger.updateRun('nope', { status: 'FAILED' });

      // Assess
      expect(wrongFrom).toBe(false);
      expect(rightFrom).toBe(true);
      expect(unknown).toBe(false);
      expect((await ledger.getRun('run-1'))?.status).toBe('AWAITING_APPROVAL');
      expect(await ledger.getRun('nope')).toBeUndefined();
    });
  });

  describe('recordPlan', () => {
    it('writes PLANNED, KEPT and orphan items and binds the run to the plan hash', async () => {
      // Prepare
      const run = runContext();
      await ledger.putRun(run);

      // Act
      const result = await ledger.recordPlan(run, smallPlan());

      // Assess
      expect(result).toEqual({ planHash: 'a'.repeat(64), toDelete: 4, deferred: 0, kept: 2, written: true });
      const items = await ledger.listItems('run-1');
      expect(items).toHaveLength(6);
      const byId = Object.fromEntries(items.map((i) => [i.id, i]));
      expect(byId['ami-0000000000000001']).toMatchObject({
        kind: 'IMAGE',
        status: 'PLANNED',
        attempts: 0,
        group: 'front.prod',
        sizeGiB: 10,
        planHash: 'a'.repeat(64),
        executionArn: run.executionArn,
      });
      expect(items.every((i) => i.executionArn === run.executionArn)).toBe(true);
      expect(byId['ami-0000000000000008']).toMatchObject({
        status: 'KEPT',
        reason: 'IN_USE',
        detail: 'instance i-0123 (stopped)',
      });
      expect(byId['snap-00000000000000ff']).toMatchObject({
        kind: 'SNAPSHOT',
        status: 'PLANNED',
        sourceImageId: 'ami-00000000000000ee',
        sizeGiB: 30,
      });
      expect(byId['snap-00000000000000ff']).not.toHaveProperty('imageId');
      expect((await ledger.getRun('run-1'))?.planHash).toBe('a'.repeat(64));
    });

    it('defers candidates beyond the cap, AMIs oldest first, then orphan snapshots', async () => {
      // Prepare
      const run = runContext({ maxDeletionsPerRun: 2 });
      await ledger.putRun(run);

      // Act
      const result = await ledger.recordPlan(run, smallPlan());

      // Assess
      expect(result).toMatchObject({ toDelete: 2, deferred: 2, kept: 2 });
      const status = Object.fromEntries((await ledger.listItems('run-1')).map((i) => [i.id, i.status]));
      expect(status).toEqual({
        'ami-0000000000000001': 'PLANNED',
        'ami-0000000000000002': 'PLANNED',
        'ami-0000000000000003': 'DEFERRED',
        'snap-00000000000000ff': 'DEFERRED',
        'ami-0000000000000008': 'KEPT',
        'ami-0000000000000009': 'KEPT',
      });
      expect(await ledger.getItem('run-1', 'IMAGE', 'ami-0000000000000003')).toMatchObject({
        reason: 'MAX_DELETIONS_PER_RUN',
      });
    });

    it('counts orphan snapshots against an explicit cap once the AMIs fit', async () => {
      // Prepare
      const run = runContext();
      await ledger.putRun(run);

      // Act
      const result = await ledger.recordPlan(run, smallPlan(), { maxDeletionsPerRun: 3 });

      // Assess
      expect(result).toMatchObject({ toDelete: 3, deferred: 1 });
      expect((await ledger.getItem('run-1', 'SNAPSHOT', 'snap-00000000000000ff'))?.status).toBe('DEFERRED');
    });

    it('records an AMI the plan kept as MAX_DELETIONS_PER_RUN as DEFERRED, not KEPT', async () => {
      // Prepare: Rotate left one AMI for a later run (its launch permissions were not read)
      const run = runContext();
      await ledger.putRun(run);
      const base = smallPlan();
      const deferredByRotate = {
        imageId: 'ami-0000000000000007',
        name: 'front.prod-7',
        creationDate: '2026-03-07T00:00:00.000Z',
        group: 'front.prod',
        reason: 'MAX_DELETIONS_PER_RUN' as const,
        detail: "over this run's limit of 100; planned again next run",
      };
      const plan = {
        ...base,
        groups: base.groups.map((g) =>
          g.name === 'front.prod' ? { ...g, kept: [...g.kept, deferredByRotate] } : g,
        ),
      };

      // Act
      const result = await ledger.recordPlan(run, plan);

      // Assess
      expect(result).toMatchObject({ toDelete: 4, deferred: 1, kept: 2 });
      expect(await ledger.getItem('run-1', 'IMAGE', 'ami-0000000000000007')).toMatchObject({
        status: 'DEFERRED',
        reason: 'MAX_DELETIONS_PER_RUN',
        detail: "over this run's limit of 100; planned again next run",
        sizeGiB: 0,
      });
    });

    it('is harmless to repeat, and does not undo progress made after approval', async () => {
      // Prepare
      const run = runContext();
      await ledger.putRun(run);
      await ledger.recordPlan(run, smallPlan());
      const again = await ledger.recordPlan(run, smallPlan());
      await ledger.markAllApproved('run-1', 'a'.repeat(64));

      // Act
      const late = await ledger.recordPlan(run, smallPlan());

      // Assess
      expect(again.written).toBe(true);
      expect(late).toMatchObject({ written: false, toDelete: 4 });
      const items = await ledger.listItems('run-1');
      expect(items).toHaveLength(6);
      expect(items.filter((i) => i.status === 'APPROVED')).toHaveLength(4);
    });

    it('refuses a different plan for the same run', async () => {
      // Prepare
      const run = runContext();
      await ledger.putRun(run);
      await ledger.recordPlan(run, smallPlan());

      // Act
      const attempt = ledger.recordPlan(run, smallPlan({ planHash: 'b'.repeat(64) }));

      // Assess
      await expect(attempt).rejects.toThrow(PlanConflictError);
      expect((await ledger.getRun('run-1'))?.planHash).toBe('a'.repeat(64));
      expect((await ledger.listItems('run-1')).every((i) => i.planHash === 'a'.repeat(64))).toBe(true);
    });

    it('refuses to record a plan for a run that was never started', async () => {
      // Act
      const attempt = ledger.recordPlan(runContext(), smallPlan());

      // Assess
      await expect(attempt).rejects.toThrow(PlanConflictError);
      expect(await ledger.listItems('run-1')).toEqual([]);
    });

    it('writes more than one batch of 25 and reads them all back', async () => {
      // Prepare
      const run = runContext({ maxDeletionsPerRun: 40 });
      await ledger.putRun(run);
      const candidates = Array.from({ length: 60 }, (_, i) => ({
        imageId: `ami-${String(i).padStart(17, '0')}`,
        name: `n${i}`,
        creationDate: `2026-01-01T00:00:${String(i).padStart(2, '0')}.000Z`,
        group: 'g',
        snapshots: [],
      }));

      // Act
      const result = await ledger.recordPlan(
        run,
        smallPlan({ groups: [{ name: 'g', candidates, kept: [] }] }),
      );

      // Assess
      expect(result).toMatchObject({ toDelete: 40, deferred: 21 });
      const items = await ledger.listItems('run-1');
      expect(items).toHaveLength(61);
      // Oldest first: the 20 newest AMIs are the deferred ones.
      expect(items.find((i) => i.id === 'ami-00000000000000039')?.status).toBe('PLANNED');
      expect(items.find((i) => i.id === 'ami-00000000000000040')?.status).toBe('DEFERRED');
    });
  });

  describe('transitions', () => {
    beforeEach(async () => {
      const run = runContext();
      await ledger.putRun(run);
      await ledger.recordPlan(run, smallPlan());
    });

    it('moves an item once; a second attempt is refused and changes nothing', async () => {
      // Prepare
      await ledger.markAllApproved('run-1', 'a'.repeat(64));
      const options = {
        from: ['APPROVED' as const],
        to: 'DEREGISTERED' as const,
        planHash: 'a'.repeat(64),
        countAttempt: true,
        set: { deregisteredAt: '2026-05-01T11:00:00.000Z' },
      };

      // Act
      const first = await ledger.transition('run-1', 'IMAGE', 'ami-0000000000000001', options);
      const second = await ledger.transition('run-1', 'IMAGE', 'ami-0000000000000001', options);

      // Assess
      expect(first).toBe(true);
      expect(second).toBe(false);
      expect(await ledger.getItem('run-1', 'IMAGE', 'ami-0000000000000001')).toMatchObject({
        status: 'DEREGISTERED',
        attempts: 1,
        deregisteredAt: '2026-05-01T11:00:00.000Z',
      });
    });

    it('refuses a wrong from-status, a wrong plan hash and an unknown item', async () => {
      // Act
      const wrongFrom = await ledger.transition('run-1', 'IMAGE', 'ami-0000000000000001', {
        from: ['APPROVED'],
        to: 'DEREGISTERED',
      });
      const wrongHash = await ledger.transition('run-1', 'IMAGE', 'ami-0000000000000001', {
        from: ['PLANNED'],
        to: 'APPROVED',
        planHash: 'b'.repeat(64),
      });
      const unknown = await ledger.transition('run-1', 'IMAGE', 'ami-0000000000000777', {
        from: ['PLANNED'],
        to: 'APPROVED',
      });

      // Assess
      expect([wrongFrom, wrongHash, unknown]).toEqual([false, false, false]);
      expect((await ledger.getItem('run-1', 'IMAGE', 'ami-0000000000000001'))?.status).toBe('PLANNED');
      expect(await ledger.getItem('run-1', 'IMAGE', 'ami-0000000000000777')).toBeUndefined();
    });

    it('records lastError and counts attempts', async () => {
      // Act
      await ledger.transition('run-1', 'SNAPSHOT', 'snap-00000000000000ff', {
        from: ['PLANNED'],
        to: 'FAILED',
        error: 'InvalidSnapshot.InUse',
        countAttempt: true,
      });

      // Assess
      expect(await ledger.getItem('run-1', 'SNAPSHOT', 'snap-00000000000000ff')).toMatchObject({
        status: 'FAILED',
        lastError: 'InvalidSnapshot.InUse',
        attempts: 1,
      });
    });

    it('refuses to overwrite key or status attributes through set', async () => {
      // Act
      const attempt = ledger.transition('run-1', 'IMAGE', 'ami-0000000000000001', {
        from: ['PLANNED'],
        to: 'APPROVED',
        set: { planHash: 'b'.repeat(64) },
      });

      // Assess
      await expect(attempt).rejects.toThrow(RangeError);
      expect((await ledger.getItem('run-1', 'IMAGE', 'ami-0000000000000001'))?.planHash).toBe('a'.repeat(64));
    });

    it('approves only PLANNED items of the approved plan', async () => {
      // Act
      const moved = await ledger.markAllApproved('run-1', 'a'.repeat(64));
      const wrongPlan = await ledger.markAllApproved('run-1', 'b'.repeat(64));

      // Assess
      expect(moved).toBe(4);
      expect(wrongPlan).toBe(0);
      const statuses = (await ledger.listItems('run-1')).map((i) => i.status).sort();
      expect(statuses).toEqual(['APPROVED', 'APPROVED', 'APPROVED', 'APPROVED', 'KEPT', 'KEPT']);
    });

    it('finalizes every non-final item and leaves final ones alone', async () => {
      // Prepare
      await ledger.markAllApproved('run-1', 'a'.repeat(64));
      await ledger.transition('run-1', 'IMAGE', 'ami-0000000000000001', {
        from: ['APPROVED'],
        to: 'DEREGISTERED',
      });
      await ledger.transition('run-1', 'IMAGE', 'ami-0000000000000002', {
        from: ['APPROVED'],
        to: 'DEREGISTERED',
      });
      await ledger.transition('run-1', 'IMAGE', 'ami-0000000000000002', {
        from: ['DEREGISTERED'],
        to: 'DONE',
      });

      // Act
      const result = await ledger.finalizeItems('run-1', 'COMPLETED');
      const again = await ledger.finalizeItems('run-1', 'COMPLETED');

      // Assess
      expect(result.moved).toBe(3);
      expect(result.byStatus).toEqual({ DONE: 1, FAILED: 3, KEPT: 2 });
      expect(again).toEqual({ moved: 0, byStatus: { DONE: 1, FAILED: 3, KEPT: 2 } });
      expect((await ledger.getItem('run-1', 'IMAGE', 'ami-0000000000000001'))?.lastError).toMatch(
        /snapshots/,
      );
    });

    it.each([
      ['REJECTED', 'REJECTED'],
      ['EXPIRED', 'EXPIRED'],
      ['DRY_RUN', 'DRY_RUN'],
      ['FAILED', 'FAILED'],
    ] as const)('finalizes PLANNED items of a %s run as %s', async (outcome, expected) => {
      // Act
      const result = await ledger.finalizeItems('run-1', outcome);

      // Assess
      expect(result.byStatus).toEqual({ [expected]: 4, KEPT: 2 });
    });
  });

  describe('GSI by-image', () => {
    it('finds every run that recorded an AMI, oldest first, and not orphan snapshots', async () => {
      // Prepare
      const first = runContext({ runId: 'run-1' });
      const later = runContext({ runId: 'run-2', startedAt: '2026-05-02T10:00:00.000Z' });
      await ledger.putRun(first);
      await ledger.putRun(later);
      await ledger.recordPlan(first, smallPlan());
      const laterLedger = new Ledger({
        doc: dynamo.docClient,
        tableName: dynamo.tableName,
        now: () => new Date('2026-05-02T10:00:00.000Z'),
      });
      await laterLedger.recordPlan(later, smallPlan({ planHash: 'c'.repeat(64) }));

      // Act
      const history = await ledger.itemsByImage('ami-0000000000000001');
      const orphanSource = await ledger.itemsByImage('ami-00000000000000ee');

      // Assess
      expect(history.map((i) => [i.runId, i.planHash[0]])).toEqual([
        ['run-1', 'a'],
        ['run-2', 'c'],
      ]);
      expect(orphanSource).toEqual([]);
    });
  });

  describe('approvals', () => {
    const approval = {
      approvalId: '11111111-2222-4333-8444-555555555555',
      runId: 'run-1',
      planHash: 'a'.repeat(64),
      planKey: 'runs/run-1/plan.json',
      taskToken: 'SECRET-TASK-TOKEN',
      expiresAt: new Date(T0.getTime() + 3600_000),
    };

    it('keeps the task token out of getApproval', async () => {
      // Prepare
      await ledger.putApproval(approval);

      // Act
      const record = await ledger.getApproval(approval.approvalId);

      // Assess
      expect(record).toMatchObject({
        status: 'PENDING',
        runId: 'run-1',
        expiresAt: approval.expiresAt.toISOString(),
      });
      expect(JSON.stringify(record)).not.toContain('SECRET-TASK-TOKEN');
    });

    it('refuses to overwrite an existing approval', async () => {
      // Prepare
      await ledger.putApproval(approval);

      // Act
      const attempt = ledger.putApproval({ ...approval, taskToken: 'OTHER' });

      // Assess
      await expect(attempt).rejects.toThrow(PlanConflictError);
    });

    it('is used once: the first use gets the token, the second gets nothing', async () => {
      // Prepare
      await ledger.putApproval(approval);
      const use = { decision: 'APPROVED' as const, approver: 'Ada', planHash: 'a'.repeat(64) };

      // Act
      const first = await ledger.useApproval(approval.approvalId, use, T0);
      const second = await ledger.useApproval(approval.approvalId, { ...use, decision: 'REJECTED' }, T0);

      // Assess
      expect(first.used).toBe(true);
      expect(first.used && first.taskToken.reveal()).toBe('SECRET-TASK-TOKEN');
      expect(second).toEqual({ used: false });
      expect(await ledger.getApproval(approval.approvalId)).toMatchObject({
        status: 'APPROVED',
        decision: 'APPROVED',
        approver: 'Ada',
      });
    });

    it('is not used with another plan hash, after expiry, or when unknown', async () => {
      // Prepare
      await ledger.putApproval(approval);
      const use = { decision: 'APPROVED' as const, approver: 'Ada', planHash: 'a'.repeat(64) };

      // Act
      const wrongHash = await ledger.useApproval(
        approval.approvalId,
        { ...use, planHash: 'b'.repeat(64) },
        T0,
      );
      const late = await ledger.useApproval(approval.approvalId, use, new Date(T0.getTime() + 3601_000));
      const unknown = await ledger.useApproval('unknown-id', use, T0);

      // Assess
      expect([wrongHash, late, unknown]).toEqual([{ used: false }, { used: false }, { used: false }]);
      expect((await ledger.getApproval(approval.approvalId))?.status).toBe('PENDING');
    });

    it('can be reopened after an undelivered decision, and expired', async () => {
      // Prepare
      await ledger.putApproval(approval);
      await ledger.useApproval(
        approval.approvalId,
        { decision: 'REJECTED', approver: 'Ada', planHash: 'a'.repeat(64) },
        T0,
      );

      // Act
      const reopened = await ledger.reopenApproval(approval.approvalId, 'REJECTED');
      const reopenedState = await ledger.getApproval(approval.approvalId);
      await ledger.expireApproval(approval.approvalId);

      // Assess
      expect(reopened).toBe(true);
      expect(reopenedState?.status).toBe('PENDING');
      expect(reopenedState).not.toHaveProperty('approver');
      expect((await ledger.getApproval(approval.approvalId))?.status).toBe('EXPIRED');
    });
  });
});

describe('Ledger batch writes (mocked document client)', () => {
  // Mock one instance only: mocking the class would also capture the dynalite tests' client.
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const docMock = mockClient(doc);

  afterEach(() => {
    docMock.reset();
  });

  function mockedLedger(): Ledger {
    docMock
      .on(GetCommand)
      .resolves({ Item: { pk: 'RUN#run-1', sk: 'RUN', runId: 'run-1', status: 'RUNNING' } });
    docMock.on(QueryCommand).resolves({ Items: [] });
    return new Ledger({
      doc,
      tableName: 't',
      batchRetries: { attempts: 3, baseDelayMs: 1 },
    });
  }

  it('retries unprocessed items until they are written', async () => {
    // Prepare
    const ledger = mockedLedger();
    docMock
      .on(BatchWriteCommand)
      .resolvesOnce({
        UnprocessedItems: {
          t: [{ PutRequest: { Item: { pk: 'RUN#run-1', sk: 'IMAGE#ami-0000000000000001' } } }],
        },
      })
      .resolves({});

    // Act
    await ledger.recordPlan(runContext(), smallPlan());

    // Assess
    expect(docMock).toHaveReceivedCommandTimes(BatchWriteCommand, 2);
    const retry = docMock.commandCalls(BatchWriteCommand)[1]?.args[0].input;
    expect(retry?.RequestItems?.t).toEqual([
      { PutRequest: { Item: { pk: 'RUN#run-1', sk: 'IMAGE#ami-0000000000000001' } } },
    ]);
  });

  it('throws when items stay unprocessed, and does not bind the run to the plan', async () => {
    // Prepare
    const ledger = mockedLedger();
    docMock
      .on(BatchWriteCommand)
      .resolves({ UnprocessedItems: { t: [{ PutRequest: { Item: { pk: 'x' } } }] } });

    // Act
    const attempt = ledger.recordPlan(runContext(), smallPlan());

    // Assess
    await expect(attempt).rejects.toThrow(LedgerWriteError);
    expect(docMock).toHaveReceivedCommandTimes(BatchWriteCommand, 4);
  });
});

describe('TaskToken', () => {
  it('never prints its value', () => {
    // Prepare
    const token = new TaskToken('SECRET');

    // Act
    const printed = [JSON.stringify({ token }), String(token), `${token}`, inspect({ token })].join(' ');

    // Assess
    expect(printed).not.toContain('SECRET');
    expect(token.reveal()).toBe('SECRET');
  });
});
