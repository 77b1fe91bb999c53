/**
 * The per-target lock (`LOCK#<key>` / `LOCK`, key = `target.key`, `<account>-<region>`, see
 * core/run-target.ts `lockKeyOf`): one run at a time per account and region, with a lease.
 */
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { conditionalWrite } from './conditional-write.ts';
import { epochSeconds } from './expressions.ts';
import { type LedgerOptions, type LedgerTable, LOCK_SK, ledgerTable, lockPk } from './table.ts';

export interface LockHolder {
  readonly owner: string;
  /** Epoch seconds when the lease ends (the item's `ttl`). */
  readonly expiresAt: number;
}

export class LockStore {
  readonly #table: LedgerTable;

  constructor(options: LedgerOptions) {
    this.#table = ledgerTable(options);
  }

  /**
   * Takes the lock `lockKey` for `runId`. Succeeds when nobody holds it, when the holder's lease
   * has expired (TTL deletion lags by hours, so the lease is checked, not trusted to vanish), or
   * when `runId` already holds it (a retried AcquireLock). Returns false when another run holds it.
   */
  async acquireLock(
    lockKey: string,
    runId: string,
    ttlSeconds: number,
    now: Date = this.#table.now(),
  ): Promise<boolean> {
    const nowSeconds = epochSeconds(now);
    return conditionalWrite(
      this.#table,
      new PutCommand({
        TableName: this.#table.tableName,
        Item: {
          pk: lockPk(lockKey),
          sk: LOCK_SK,
          owner: runId,
          acquiredAt: now.toISOString(),
          ttl: nowSeconds + ttlSeconds,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now OR #owner = :runId',
        ExpressionAttributeNames: { '#ttl': 'ttl', '#owner': 'owner' },
        ExpressionAttributeValues: { ':now': nowSeconds, ':runId': runId },
      }),
    );
  }

  /**
   * Releases the lock if `runId` holds it. Returns true when the lock is now free of `runId`
   * (released, or already gone); false when another run holds it, which is left untouched.
   */
  async releaseLock(lockKey: string, runId: string): Promise<boolean> {
    return conditionalWrite(
      this.#table,
      new DeleteCommand({
        TableName: this.#table.tableName,
        Key: { pk: lockPk(lockKey), sk: LOCK_SK },
        ConditionExpression: 'attribute_not_exists(pk) OR #owner = :runId',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':runId': runId },
      }),
    );
  }

  /** Who holds the lock `lockKey`, if anyone (whether or not the lease has expired). */
  async getLock(lockKey: string): Promise<LockHolder | undefined> {
    const out = await this.#table.doc.send(
      new GetCommand({
        TableName: this.#table.tableName,
        Key: { pk: lockPk(lockKey), sk: LOCK_SK },
        ConsistentRead: true,
      }),
    );
    if (!out.Item) return undefined;
    return { owner: String(out.Item.owner), expiresAt: Number(out.Item.ttl) };
  }
}
