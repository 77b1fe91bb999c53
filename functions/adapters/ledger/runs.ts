/** Runs: one item per run (`RUN#<runId>` / `RUN`), listed newest first through `runs-by-start`. */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { RunContext, RunStatus, RunSummary } from '../../core/workflow.ts';
import { conditionalWrite } from './conditional-write.ts';
import { compact, plain, setExpression, statusIn } from './expressions.ts';
import { queryAll } from './query-pages.ts';
import {
  type DocItem,
  type LedgerOptions,
  type LedgerTable,
  ledgerTable,
  RUN_ENTITY,
  RUN_SK,
  RUNS_BY_START_INDEX,
  runPk,
} from './table.ts';

/** Run attributes a step may set. The run context itself is written once by `putRun`. */
export interface RunFields {
  readonly status?: RunStatus;
  readonly planHash?: string;
  readonly planKey?: string;
  readonly approvalId?: string;
  readonly approver?: string;
  readonly summary?: RunSummary;
  readonly error?: string;
  readonly finishedAt?: string;
  /** An organization run: the keys of the targets it plans, so closing it can close their runs. */
  readonly targetKeys?: readonly string[];
}

/** A run as the ledger keeps it: its context, written once, plus what later steps set. */
export interface RunRecord extends RunContext, RunFields {
  readonly status: RunStatus;
  readonly updatedAt: string;
}

export class RunStore {
  readonly #table: LedgerTable;

  constructor(options: LedgerOptions) {
    this.#table = ledgerTable(options);
  }

  /**
   * Records the run context (and any fields). Safe to repeat: the context is the same for the
   * same run, and SET leaves attributes written by later steps alone.
   */
  async putRun(run: RunContext, fields: RunFields = { status: 'RUNNING' }): Promise<void> {
    const values: DocItem = {
      entity: RUN_ENTITY,
      runId: run.runId,
      executionArn: run.executionArn,
      trigger: run.trigger,
      dryRun: run.dryRun,
      settings: plain(run.settings),
      startedAt: run.startedAt,
      maxDeletionsPerRun: run.maxDeletionsPerRun,
      ...(run.triggerImageId === undefined ? {} : { triggerImageId: run.triggerImageId }),
      // An organization run's place: close-abandoned-run and restore find its lock and account from its id alone.
      ...(run.target === undefined
        ? {}
        : { target: { accountId: run.target.accountId, region: run.target.region } }),
      ...(run.parentRunId === undefined ? {} : { parentRunId: run.parentRunId }),
      ...compact(fields),
      updatedAt: this.#table.now().toISOString(),
    };
    const { expression, names, values: exprValues } = setExpression(values);
    await this.#table.doc.send(
      new UpdateCommand({
        TableName: this.#table.tableName,
        Key: { pk: runPk(run.runId), sk: RUN_SK },
        UpdateExpression: expression,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: exprValues,
      }),
    );
  }

  /**
   * Sets fields on an existing run; with `from`, only while its status is one of those.
   * Returns false (and writes nothing) when the run is unknown or the condition fails.
   */
  async updateRun(
    runId: string,
    fields: RunFields,
    options: { from?: readonly RunStatus[] } = {},
  ): Promise<boolean> {
    const { expression, names, values } = setExpression({
      ...compact(fields),
      updatedAt: this.#table.now().toISOString(),
    });
    let condition = 'attribute_exists(pk)';
    if (options.from && options.from.length > 0) {
      condition += ` AND ${statusIn('#runStatus', options.from, names, values)}`;
    }
    return conditionalWrite(
      this.#table,
      new UpdateCommand({
        TableName: this.#table.tableName,
        Key: { pk: runPk(runId), sk: RUN_SK },
        UpdateExpression: expression,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  /**
   * Binds an existing run to `planHash`. Throws (ConditionalCheckFailedException) when the run
   * is unknown or bound to another plan: a concurrent different plan must not pass silently.
   */
  async bindPlan(runId: string, planHash: string, now: string): Promise<void> {
    await this.#table.doc.send(
      new UpdateCommand({
        TableName: this.#table.tableName,
        Key: { pk: runPk(runId), sk: RUN_SK },
        UpdateExpression: 'SET planHash = :hash, updatedAt = :now',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(planHash) OR planHash = :hash)',
        ExpressionAttributeValues: { ':hash': planHash, ':now': now },
      }),
    );
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const out = await this.#table.doc.send(
      new GetCommand({
        TableName: this.#table.tableName,
        Key: { pk: runPk(runId), sk: RUN_SK },
        ConsistentRead: true,
      }),
    );
    return out.Item ? toRun(out.Item) : undefined;
  }

  /** The newest runs first (by `startedAt`, through the `runs-by-start` index). */
  async listRuns(options: { limit?: number } = {}): Promise<RunRecord[]> {
    const items = await queryAll(
      this.#table,
      {
        IndexName: RUNS_BY_START_INDEX,
        KeyConditionExpression: 'entity = :entity',
        ExpressionAttributeValues: { ':entity': RUN_ENTITY },
        ScanIndexForward: false,
      },
      { limit: options.limit ?? 20 },
    );
    return items.map(toRun);
  }
}

function toRun(item: DocItem): RunRecord {
  const { pk: _pk, sk: _sk, entity: _entity, ...rest } = item;
  return rest as unknown as RunRecord;
}
