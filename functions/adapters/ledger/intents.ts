/**
 * Deregistration intents (`INTENT#<region>` / `IMAGE#<imageId>#RUN#<runId>`): written by
 * Deregister right before DeregisterImage, cleared once the AMI's snapshots are handled (or the
 * AMI was kept as in use). One still present when a later run of the region starts marks an AMI
 * whose snapshots its run did not finish; FinishEarlierRuns finishes them. One partition per
 * region, so that run reads them all with one Query, however many runs ago they were left.
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

export const intentPk = (region: string): string => `INTENT#${region}`;
const intentSk = (runId: string, imageId: string): string => `IMAGE#${imageId}#RUN#${runId}`;

export class IntentStore {
  readonly #table: LedgerTable;

  constructor(options: LedgerOptions) {
    this.#table = ledgerTable(options);
  }

  /** Idempotent: a second write of the same intent rewrites it. */
  async recordDeregistrationIntent(
    region: string,
    intent: Omit<DeregistrationIntent, 'recordedAt'>,
  ): Promise<void> {
    await this.#table.doc.send(
      new PutCommand({
        TableName: this.#table.tableName,
        Item: {
          pk: intentPk(region),
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
  async clearDeregistrationIntent(region: string, runId: string, imageId: string): Promise<void> {
    await this.#table.doc.send(
      new DeleteCommand({
        TableName: this.#table.tableName,
        Key: { pk: intentPk(region), sk: intentSk(runId, imageId) },
      }),
    );
  }

  /** Every intent of the region, oldest run's AMIs in key order (all pages). */
  async listDeregistrationIntents(region: string): Promise<DeregistrationIntent[]> {
    const items = await queryAll(this.#table, {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': intentPk(region) },
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
