/**
 * The writes every entity store shares: a conditional write whose failed condition is an answer,
 * not an error (so a second attempt of any step is harmless), and BatchWriteItem with retries of
 * its unprocessed items.
 */
import {
  BatchWriteCommand,
  type DeleteCommand,
  type PutCommand,
  type UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mapWithConcurrency } from '../concurrency.ts';
import { LedgerWriteError } from './errors.ts';
import type { DocItem, LedgerTable } from './table.ts';

const BATCH_SIZE = 25;
/** Writes in flight at once; on-demand tables take this easily, and unprocessed items are retried. */
export const WRITE_CONCURRENCY = 8;

type WriteRequest = { PutRequest: { Item: DocItem } };

export function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** Sends a conditional write; a failed condition is an answer (false), not an error. */
export async function conditionalWrite(
  table: LedgerTable,
  command: PutCommand | UpdateCommand | DeleteCommand,
): Promise<boolean> {
  try {
    // The union of command types does not narrow `send`'s overloads; each is a valid command.
    await table.doc.send(command as UpdateCommand);
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** Puts every item, 25 a batch, batches concurrently; throws LedgerWriteError if any stays unwritten. */
export async function batchPut(table: LedgerTable, items: readonly DocItem[]): Promise<void> {
  const batches: DocItem[][] = [];
  for (let start = 0; start < items.length; start += BATCH_SIZE)
    batches.push(items.slice(start, start + BATCH_SIZE));
  // Batches are independent: a 100,000-item plan is 4,000 of them, too slow one at a time.
  await mapWithConcurrency(batches, WRITE_CONCURRENCY, (batch) => writeBatch(table, batch));
}

async function writeBatch(table: LedgerTable, batch: readonly DocItem[]): Promise<void> {
  const { attempts, baseDelayMs } = table.batchRetries;
  let pending: WriteRequest[] = batch.map((Item) => ({ PutRequest: { Item } }));
  for (let attempt = 0; pending.length > 0; attempt += 1) {
    if (attempt > 0) {
      if (attempt > attempts) {
        throw new LedgerWriteError(
          `${pending.length} ledger item(s) still unprocessed after ${attempts} retries`,
        );
      }
      const cap = baseDelayMs * 2 ** (attempt - 1);
      await sleep(Math.random() * cap);
    }
    const out = await table.doc.send(new BatchWriteCommand({ RequestItems: { [table.tableName]: pending } }));
    pending = (out.UnprocessedItems?.[table.tableName] ?? []) as WriteRequest[];
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
