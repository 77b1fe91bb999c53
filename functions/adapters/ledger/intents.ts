/**
 * Deregistration intents (`INTENT#<lockKey>` / `IMAGE#<imageId>#RUN#<runId>`, the run's lock key,
 * `<account>-<region>`; before organization runs the partition was `INTENT#<region>`): written by
 * Deregister right before DeregisterImage, cleared once the AMI's snapshots are handled (or the
 * AMI was kept as in use). One still present when a later run of the same account and region starts marks an AMI
 * whose snapshots its run did not finish; FinishEarlierRuns finishes them. One partition per
 * account and region, so that run reads them all with one Query, however many runs ago they were left.
 */
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { queryAll } from './query-pages.ts';
import { type LedgerOptions, type LedgerTable, ledgerTable } from './table.ts';

export interface DeregistrationIntent {
  readonly runId: string;
  readonly imageId: string;
  /** The approved snapshot ids Deregister was given for this AMI. */
  readonly snapshotIds: readonly string[];
  readonly recordedAt: string;
}

export const intentPk = (lockKey: string): string => `INTENT#${lockKey}`;
const intentSk = (runId: string, imageId: string): string => `IMAGE#${imageId}#RUN#${runId}`;

export class IntentStore {
  readonly #table: LedgerTable;

  constructor(options: LedgerOptions) {
    this.#table = ledgerTable(options);
  }

  /** Idempotent: a second write of the same intent rewrites it. */
  async recordDeregistrationIntent(
    lockKey: string,
    intent: Omit<DeregistrationIntent, 'recordedAt'>,
  ): Promise<void> {
    await this.#table.doc.send(
      new PutCommand({
        TableName: this.#table.tableName,
        Item: {
          pk: intentPk(lockKey),
          sk: intentSk(intent.runId, intent.imageId),
          runId: intent.runId,
          imageId: intent.imageId,
          snapshotIds: [...intent.snapshotIds],
          recordedAt: this.#table.now().toISOString(),
        },
      }),
    );
  }

  /** Idempotent: clearing an intent that is gone is a success. */
  async clearDeregistrationIntent(lockKey: string, runId: string, imageId: string): Promise<void> {
    await this.#table.doc.send(
      new DeleteCommand({
        TableName: this.#table.tableName,
        Key: { pk: intentPk(lockKey), sk: intentSk(runId, imageId) },
      }),
    );
  }

  /** Every intent of the partition, oldest run's AMIs in key order (all pages). */
  async listDeregistrationIntents(lockKey: string): Promise<DeregistrationIntent[]> {
    const items = await queryAll(this.#table, {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': intentPk(lockKey) },
      ConsistentRead: true,
    });
    return items.map((item) => ({
      runId: String(item.runId),
      imageId: String(item.imageId),
      snapshotIds: Array.isArray(item.snapshotIds) ? item.snapshotIds.map(String) : [],
      recordedAt: String(item.recordedAt),
    }));
  }
}
