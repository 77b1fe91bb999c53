/**
 * The last full read of an account and region's launch templates (`LTREAD#<lockKey>` / `LATEST`,
 * the lock key being `<account>-<region>`): which AMIs their `$Default` and `$Latest` versions
 * name, and when that read started. Deregister reuses a read a few seconds old rather than read
 * every template again for every AMI (functions/commons/launch-template-read.ts says how fresh is
 * fresh enough). Written only by a newer read, so a slow writer never replaces a fresher answer.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { conditionalWrite } from './conditional-write.ts';
import { epochSeconds } from './expressions.ts';
import { LEDGER_TTL_ATTRIBUTE, type LedgerOptions, type LedgerTable, ledgerTable } from './table.ts';

export interface LaunchTemplateRead {
  /** When the read's first page was asked for (ISO 8601). */
  readonly startedAt: string;
  /** The templates' sources by AMI id, for the AMIs some template names only. */
  readonly references: Readonly<Record<string, readonly string[]>>;
}

export const launchTemplateReadPk = (lockKey: string): string => `LTREAD#${lockKey}`;
const LATEST_SK = 'LATEST';
/** Kept an hour: only the last few seconds are ever used, the rest is for an audit's curiosity. */
const KEEP_SECONDS = 3600;

export class LaunchTemplateReadStore {
  readonly #table: LedgerTable;

  constructor(options: LedgerOptions) {
    this.#table = ledgerTable(options);
  }

  /** The latest read, or undefined when there is none or it is not in the shape written here. */
  async getLaunchTemplateRead(lockKey: string): Promise<LaunchTemplateRead | undefined> {
    const out = await this.#table.doc.send(
      new GetCommand({
        TableName: this.#table.tableName,
        Key: { pk: launchTemplateReadPk(lockKey), sk: LATEST_SK },
        ConsistentRead: true,
      }),
    );
    return wellFormed(out.Item);
  }

  /** Records `read` unless a read that started later is already there (a slow writer loses). */
  async recordLaunchTemplateRead(lockKey: string, read: LaunchTemplateRead): Promise<void> {
    await conditionalWrite(
      this.#table,
      new PutCommand({
        TableName: this.#table.tableName,
        Item: {
          pk: launchTemplateReadPk(lockKey),
          sk: LATEST_SK,
          startedAt: read.startedAt,
          references: read.references,
          [LEDGER_TTL_ATTRIBUTE]: epochSeconds(new Date(read.startedAt)) + KEEP_SECONDS,
        },
        // A record without a start (not one written here) is replaced; so is one of the same start.
        ConditionExpression:
          'attribute_not_exists(pk) OR attribute_not_exists(startedAt) OR startedAt <= :startedAt',
        ExpressionAttributeValues: { ':startedAt': read.startedAt },
      }),
    );
  }
}

function wellFormed(item: Record<string, unknown> | undefined): LaunchTemplateRead | undefined {
  if (item === undefined || typeof item.startedAt !== 'string') return undefined;
  if (Number.isNaN(Date.parse(item.startedAt))) return undefined;
  const references = item.references;
  if (typeof references !== 'object' || references === null || Array.isArray(references)) return undefined;
  const entries = Object.entries(references);
  if (!entries.every(([, sources]) => Array.isArray(sources) && sources.every((s) => typeof s === 'string')))
    return undefined;
  return { startedAt: item.startedAt, references: references as Record<string, string[]> };
}
