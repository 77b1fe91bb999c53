import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { LedgerWriteError, PlanConflictError } from '../../../functions/adapters/ledger/errors.ts';
import { ItemStore } from '../../../functions/adapters/ledger/items.ts';
import { RunStore } from '../../../functions/adapters/ledger/runs.ts';
import type { LocalDynamo } from '../../helpers/dynalite.ts';
import { runContext, smallPlan } from '../../helpers/ledger-fixtures.ts';
import { onDynalite } from './on-dynalite.ts';

const T0 = new Date('2026-05-01T10:00:00.000Z');

describe('ItemStore on dynalite', () => {
  let dynamo: LocalDynamo;
  let runs: RunStore;
  let itemStore: ItemStore;

  onDynalite(T0, (table) => {
    dynamo = table.dynamo;
    const { options } = table;
    runs = new RunStore(options);
    itemStore = new ItemStore(options);
  });

  describe('recordPlan', () => {
    it('writes PLANNED, KEPT and orphan items and binds the run to the plan hash', async () => {
      // Prepare
      const run = runContext();
      await runs.putRun(run);

      // Act
      const result = await itemStore.recordPlan(run, smallPlan());

      // Assess
      expect(result).toEqual({ planHash: 'a'.repeat(64), toDelete: 4, deferred: 0, kept: 2, written: true });
      const items = await itemStore.listItems('run-1');
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
      expect((await runs.getRun('run-1'))?.planHash).toBe('a'.repeat(64));
    });

    it('defers candidates beyond the cap, AMIs oldest first, then orphan snapshots', async () => {
      // Prepare
      const run = runContext({ maxDeletionsPerRun: 2 });
      await runs.putRun(run);

      // Act
      const result = await itemStore.recordPlan(run, smallPlan());

      // Assess
      expect(result).toMatchObject({ toDelete: 2, deferred: 2, kept: 2 });
      const status = Object.fromEntries((await itemStore.listItems('run-1')).map((i) => [i.id, i.status]));
      expect(status).toEqual({
        'ami-0000000000000001': 'PLANNED',
        'ami-0000000000000002': 'PLANNED',
        'ami-0000000000000003': 'DEFERRED',
        'snap-00000000000000ff': 'DEFERRED',
        'ami-0000000000000008': 'KEPT',
        'ami-0000000000000009': 'KEPT',
      });
      expect(await itemStore.getItem('run-1', 'IMAGE', 'ami-0000000000000003')).toMatchObject({
        reason: 'MAX_DELETIONS_PER_RUN',
      });
    });

    it('counts orphan snapshots against an explicit cap once the AMIs fit', async () => {
      // Prepare
      const run = runContext();
      await runs.putRun(run);

      // Act
      const result = await itemStore.recordPlan(run, smallPlan(), { maxDeletionsPerRun: 3 });

      // Assess
      expect(result).toMatchObject({ toDelete: 3, deferred: 1 });
      expect((await itemStore.getItem('run-1', 'SNAPSHOT', 'snap-00000000000000ff'))?.status).toBe(
        'DEFERRED',
      );
    });

    it('records an AMI the plan kept as MAX_DELETIONS_PER_RUN as DEFERRED, not KEPT', async () => {
      // Prepare: Rotate left one AMI for a later run (its launch permissions were not read)
      const run = runContext();
      await runs.putRun(run);
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
      const result = await itemStore.recordPlan(run, plan);

      // Assess
      expect(result).toMatchObject({ toDelete: 4, deferred: 1, kept: 2 });
      expect(await itemStore.getItem('run-1', 'IMAGE', 'ami-0000000000000007')).toMatchObject({
        status: 'DEFERRED',
        reason: 'MAX_DELETIONS_PER_RUN',
        detail: "over this run's limit of 100; planned again next run",
        sizeGiB: 0,
      });
    });

    it('is harmless to repeat, and does not undo progress made after approval', async () => {
      // Prepare
      const run = runContext();
      await runs.putRun(run);
      await itemStore.recordPlan(run, smallPlan());
      const again = await itemStore.recordPlan(run, smallPlan());
      await itemStore.markAllApproved('run-1', 'a'.repeat(64));

      // Act
      const late = await itemStore.recordPlan(run, smallPlan());

      // Assess
      expect(again.written).toBe(true);
      expect(late).toMatchObject({ written: false, toDelete: 4 });
      const items = await itemStore.listItems('run-1');
      expect(items).toHaveLength(6);
      expect(items.filter((i) => i.status === 'APPROVED')).toHaveLength(4);
    });

    it('refuses a different plan for the same run', async () => {
      // Prepare
      const run = runContext();
      await runs.putRun(run);
      await itemStore.recordPlan(run, smallPlan());

      // Act
      const attempt = itemStore.recordPlan(run, smallPlan({ planHash: 'b'.repeat(64) }));

      // Assess
      await expect(attempt).rejects.toThrow(PlanConflictError);
      expect((await runs.getRun('run-1'))?.planHash).toBe('a'.repeat(64));
      expect((await itemStore.listItems('run-1')).every((i) => i.planHash === 'a'.repeat(64))).toBe(true);
    });

    it('refuses to record a plan for a run that was never started', async () => {
      // Act
      const attempt = itemStore.recordPlan(runContext(), smallPlan());

      // Assess
      await expect(attempt).rejects.toThrow(PlanConflictError);
      expect(await itemStore.listItems('run-1')).toEqual([]);
    });

    it('writes more than one batch of 25 and reads them all back', async () => {
      // Prepare
      const run = runContext({ maxDeletionsPerRun: 40 });
      await runs.putRun(run);
      const candidates = Array.from({ length: 60 }, (_, i) => ({
        imageId: `ami-${String(i).padStart(17, '0')}`,
        name: `n${i}`,
        creationDate: `2026-01-01T00:00:${String(i).padStart(2, '0')}.000Z`,
        group: 'g',
        snapshots: [],
      }));

      // Act
      const result = await itemStore.recordPlan(
        run,
        smallPlan({ groups: [{ name: 'g', candidates, kept: [] }] }),
      );

      // Assess
      expect(result).toMatchObject({ toDelete: 40, deferred: 21 });
      const items = await itemStore.listItems('run-1');
      expect(items).toHaveLength(61);
      // Oldest first: the 20 newest AMIs are the deferred ones.
      expect(items.find((i) => i.id === 'ami-00000000000000039')?.status).toBe('PLANNED');
      expect(items.find((i) => i.id === 'ami-00000000000000040')?.status).toBe('DEFERRED');
    });
  });

  describe('GSI by-image', () => {
    it('finds every run that recorded an AMI, oldest first, and not orphan snapshots', async () => {
      // Prepare
      const first = runContext({ runId: 'run-1' });
      const later = runContext({ runId: 'run-2', startedAt: '2026-05-02T10:00:00.000Z' });
      await runs.putRun(first);
      await runs.putRun(later);
      await itemStore.recordPlan(first, smallPlan());
      const laterItemStore = new ItemStore({
        doc: dynamo.docClient,
        tableName: dynamo.tableName,
        now: () => new Date('2026-05-02T10:00:00.000Z'),
      });
      await laterItemStore.recordPlan(later, smallPlan({ planHash: 'c'.repeat(64) }));

      // Act
      const history = await itemStore.itemsByImage('ami-0000000000000001');
      const orphanSource = await itemStore.itemsByImage('ami-00000000000000ee');

      // Assess
      expect(history.map((i) => [i.runId, i.planHash[0]])).toEqual([
        ['run-1', 'a'],
        ['run-2', 'c'],
      ]);
      expect(orphanSource).toEqual([]);
    });
  });
});

describe('ItemStore batch writes (mocked document client)', () => {
  // Mock one instance only: mocking the class would also capture the dynalite tests' client.
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const docMock = mockClient(doc);

  afterEach(() => {
    docMock.reset();
  });

  function mockedItemStore(): ItemStore {
    docMock
      .on(GetCommand)
      .resolves({ Item: { pk: 'RUN#run-1', sk: 'RUN', runId: 'run-1', status: 'RUNNING' } });
    docMock.on(QueryCommand).resolves({ Items: [] });
    return new ItemStore({
      doc,
      tableName: 't',
      batchRetries: { attempts: 3, baseDelayMs: 1 },
    });
  }

  it('retries unprocessed items until they are written', async () => {
    // Prepare
    const itemStore = mockedItemStore();
    docMock
      .on(BatchWriteCommand)
      .resolvesOnce({
        UnprocessedItems: {
          t: [{ PutRequest: { Item: { pk: 'RUN#run-1', sk: 'IMAGE#ami-0000000000000001' } } }],
        },
      })
      .resolves({});

    // Act
    await itemStore.recordPlan(runContext(), smallPlan());

    // Assess
    expect(docMock).toHaveReceivedCommandTimes(BatchWriteCommand, 2);
    const retry = docMock.commandCalls(BatchWriteCommand)[1]?.args[0].input;
    expect(retry?.RequestItems?.t).toEqual([
      { PutRequest: { Item: { pk: 'RUN#run-1', sk: 'IMAGE#ami-0000000000000001' } } },
    ]);
  });

  it('throws when items stay unprocessed, and does not bind the run to the plan', async () => {
    // Prepare
    const itemStore = mockedItemStore();
    docMock
      .on(BatchWriteCommand)
      .resolves({ UnprocessedItems: { t: [{ PutRequest: { Item: { pk: 'x' } } }] } });

    // Act
    const attempt = itemStore.recordPlan(runContext(), smallPlan());

    // Assess
    await expect(attempt).rejects.toThrow(LedgerWriteError);
    expect(docMock).toHaveReceivedCommandTimes(BatchWriteCommand, 4);
  });
});
