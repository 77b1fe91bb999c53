/**
 * The ledger table: one DynamoDB table holding runs, one item per AMI / orphan snapshot per run,
 * approvals and the per-region lock (key design in docs/DESIGN.md, "Ledger"). This file is the
 * table's shape, its keys, and what every entity store is built from.
 *
 * Only single-item conditional writes and BatchWriteItem are used: no transactions, no PartiQL,
 * so the same code runs against DynamoDB and dynalite.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export const RUNS_BY_START_INDEX = 'runs-by-start';
export const BY_IMAGE_INDEX = 'by-image';
/** Attribute the table's TTL must be enabled on (infra); CreateTable cannot set it. */
export const LEDGER_TTL_ATTRIBUTE = 'ttl';
/** Approvals stay readable this long after they expire, then DynamoDB TTL removes them. */
export const APPROVAL_RETENTION_SECONDS = 30 * 24 * 3600;

/** The table, as CreateTable wants it; infra and the local runner build the same table from this. */
export function ledgerTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'imageId', AttributeType: 'S' },
      { AttributeName: 'recordedAt', AttributeType: 'S' },
      { AttributeName: 'entity', AttributeType: 'S' },
      { AttributeName: 'startedAt', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: BY_IMAGE_INDEX,
        KeySchema: [
          { AttributeName: 'imageId', KeyType: 'HASH' },
          { AttributeName: 'recordedAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: RUNS_BY_START_INDEX,
        KeySchema: [
          { AttributeName: 'entity', KeyType: 'HASH' },
          { AttributeName: 'startedAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

// ----- keys -----------------------------------------------------------------------------------

export type ItemKind = 'IMAGE' | 'SNAPSHOT';

export const RUN_SK = 'RUN';
export const RUN_ENTITY = 'RUN';
export const APPROVAL_SK = 'APPROVAL';
export const LOCK_SK = 'LOCK';
/** Runs and their items share the run's partition. */
export const runPk = (runId: string): string => `RUN#${runId}`;
export const itemSk = (kind: ItemKind, id: string): string => `${kind}#${id}`;
export const approvalPk = (approvalId: string): string => `APPROVAL#${approvalId}`;
/** The lock of one account and region: `lockKey` is `target.key` (core/run-target.ts `lockKeyOf`). */
export const lockPk = (lockKey: string): string => `LOCK#${lockKey}`;

// ----- what every store is built from ----------------------------------------------------------

export interface BatchRetries {
  readonly attempts: number;
  readonly baseDelayMs: number;
}

export interface LedgerOptions {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Clock for `updatedAt` and friends. */
  readonly now?: () => Date;
  /** Retries of BatchWriteItem's UnprocessedItems (exponential backoff with full jitter). */
  readonly batchRetries?: BatchRetries;
  /**
   * `Limit` of each Query page; unset, DynamoDB's own 1 MB pages. Every page is still read: this
   * only lets tests make a query span several pages.
   */
  readonly queryPageSize?: number;
}

/** LedgerOptions with the defaults filled in, as the stores keep them. */
export interface LedgerTable {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly now: () => Date;
  readonly batchRetries: BatchRetries;
  readonly queryPageSize: number | undefined;
}

export function ledgerTable(options: LedgerOptions): LedgerTable {
  return {
    doc: options.doc,
    tableName: options.tableName,
    now: options.now ?? (() => new Date()),
    batchRetries: options.batchRetries ?? { attempts: 8, baseDelayMs: 50 },
    queryPageSize: options.queryPageSize,
  };
}

/** An item as the document client reads and writes it. */
export type DocItem = Record<string, unknown>;
