/**
 * Every ledger Query reads all its pages through the SDK paginator, and fails closed: a page
 * that errors rejects the whole read, so no caller acts on part of a run's items.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ItemStore } from '../../../functions/adapters/ledger/items.ts';
import { RunStore } from '../../../functions/adapters/ledger/runs.ts';
import type { LocalDynamo } from '../../helpers/dynalite.ts';
import { runContext, smallPlan } from '../../helpers/ledger-fixtures.ts';
import { onDynalite } from './on-dynalite.ts';

const T0 = new Date('2026-05-01T10:00:00.000Z');

describe('ledger queries span pages (dynalite, 2 items a page)', () => {
  let dynamo: LocalDynamo;
  let runs: RunStore;
  let itemStore: ItemStore;
  /** Whether each Query sent carried a start key (every page but the first must). */
  let queries: boolean[];

  onDynalite(T0, (table) => {
    dynamo = table.dynamo;
    const options = { ...table.options, queryPageSize: 2 };
    runs = new RunStore(options);
    itemStore = new ItemStore(options);
    queries = [];
    dynamo.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'QueryCommand') {
          queries.push((args.input as { ExclusiveStartKey?: unknown }).ExclusiveStartKey !== undefined);
        }
        return next(args);
      },
      { step: 'initialize', name: 'countQueries' },
    );
  });

  it('lists every item of a run across pages', async () => {
    // Prepare: 6 items and the run item share the partition, so 4 pages of 2
    const run = runContext();
    await runs.putRun(run);
    await itemStore.recordPlan(run, smallPlan());
    queries = [];

    // Act
    const items = await itemStore.listItems('run-1');

    // Assess
    expect(items.map((i) => i.id).sort()).toEqual([
      'ami-0000000000000001',
      'ami-0000000000000002',
      'ami-0000000000000003',
      'ami-0000000000000008',
      'ami-0000000000000009',
      'snap-00000000000000ff',
    ]);
    expect(queries).toEqual([false, true, true, true]);
  });

  it('lists an AMI across runs through several pages of the by-image index, oldest first', async () => {
    // Prepare: three runs record the same AMI
    for (const [i, day] of ['01', '02', '03'].entries()) {
      const at = `2026-05-${day}T10:00:00.000Z`;
      const run = runContext({ runId: `run-${i + 1}`, startedAt: at });
      const store = new ItemStore({
        doc: dynamo.docClient,
        tableName: dynamo.tableName,
        now: () => new Date(at),
      });
      await runs.putRun(run);
      await store.recordPlan(run, smallPlan());
    }
    queries = [];

    // Act
    const history = await itemStore.itemsByImage('ami-0000000000000001');

    // Assess
    expect(history.map((i) => i.runId)).toEqual(['run-1', 'run-2', 'run-3']);
    expect(queries.length).toBeGreaterThanOrEqual(2);
    expect(queries.slice(1).every(Boolean)).toBe(true);
  });

  it('lists the newest runs up to the limit across pages, and all of them under a larger limit', async () => {
    // Prepare
    for (const hour of ['08', '09', '10', '11', '12']) {
      await runs.putRun(runContext({ runId: `r-${hour}`, startedAt: `2026-05-01T${hour}:00:00.000Z` }));
    }
    queries = [];

    // Act
    const three = await runs.listRuns({ limit: 3 });
    const pagesForThree = queries.length;
    const all = await runs.listRuns({ limit: 10 });

    // Assess
    expect(three.map((r) => r.runId)).toEqual(['r-12', 'r-11', 'r-10']);
    expect(pagesForThree).toBe(2);
    expect(all.map((r) => r.runId)).toEqual(['r-12', 'r-11', 'r-10', 'r-09', 'r-08']);
  });
});

describe('ledger queries fail closed (mocked document client)', () => {
  // Mock one instance only: mocking the class would also capture the dynalite tests' client.
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const docMock = mockClient(doc);
  const options = { doc, tableName: 't', batchRetries: { attempts: 3, baseDelayMs: 1 } };
  const firstPage = {
    Items: [{ pk: 'RUN#run-1', sk: 'IMAGE#ami-0000000000000001', runId: 'run-1', imageId: 'ami-1' }],
    LastEvaluatedKey: { pk: 'RUN#run-1', sk: 'IMAGE#ami-0000000000000001' },
  };
  const throttled = Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
    name: 'ProvisionedThroughputExceededException',
  });

  afterEach(() => {
    docMock.reset();
  });

  it.each([
    ['listItems', () => new ItemStore(options).listItems('run-1')],
    ['itemsByImage', () => new ItemStore(options).itemsByImage('ami-1')],
    ['listRuns', () => new RunStore(options).listRuns({ limit: 10 })],
  ] as const)(
    '%s throws when a later page fails, instead of returning the first page',
    async (_name, read) => {
      // Prepare
      docMock.on(QueryCommand).resolvesOnce(firstPage).rejectsOnce(throttled);

      // Act
      const attempt = read();

      // Assess
      await expect(attempt).rejects.toThrow(throttled);
      expect(docMock).toHaveReceivedCommandTimes(QueryCommand, 2);
      expect(docMock.commandCalls(QueryCommand)[1]?.args[0].input.ExclusiveStartKey).toEqual(
        firstPage.LastEvaluatedKey,
      );
    },
  );

  it('records nothing when reading the existing items fails on a later page', async () => {
    // Prepare
    docMock
      .on(GetCommand)
      .resolves({ Item: { pk: 'RUN#run-1', sk: 'RUN', runId: 'run-1', status: 'RUNNING' } });
    docMock.on(QueryCommand).resolvesOnce(firstPage).rejectsOnce(throttled);

    // Act
    const attempt = new ItemStore(options).recordPlan(runContext(), smallPlan());

    // Assess
    await expect(attempt).rejects.toThrow(throttled);
    expect(docMock).toHaveReceivedCommandTimes(BatchWriteCommand, 0);
  });

  it('asks for at most the limit and stops reading once it has that many runs', async () => {
    // Prepare: every page says there is more
    const page = (n: number) => ({
      Items: [{ runId: `r-${n}a` }, { runId: `r-${n}b` }],
      LastEvaluatedKey: { pk: `RUN#r-${n}b`, sk: 'RUN' },
    });
    docMock.on(QueryCommand).resolvesOnce(page(1)).resolvesOnce(page(2)).resolves(page(3));

    // Act
    const listed = await new RunStore(options).listRuns({ limit: 3 });

    // Assess
    expect(listed.map((r) => r.runId)).toEqual(['r-1a', 'r-1b', 'r-2a']);
    expect(docMock).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(docMock.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      Limit: 3,
      ScanIndexForward: false,
    });
  });
});
