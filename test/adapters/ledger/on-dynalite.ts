/** Per-test dynalite for the ledger store tests: a fresh table before each test, stopped after. */
import { afterEach, beforeEach } from 'vitest';
import type { LedgerOptions } from '../../../functions/adapters/ledger/table.ts';
import { type LocalDynamo, startDynalite } from '../../helpers/dynalite.ts';

export interface DynaliteTable {
  readonly dynamo: LocalDynamo;
  /** Options for any store on this test's table, with the clock fixed at `now`. */
  readonly options: LedgerOptions;
}

/** Registers the hooks; `ready` builds the stores a test file wants, before each test. */
export function onDynalite(now: Date, ready: (table: DynaliteTable) => void): void {
  let dynamo: LocalDynamo | undefined;

  beforeEach(async () => {
    dynamo = await startDynalite();
    ready({ dynamo, options: { doc: dynamo.docClient, tableName: dynamo.tableName, now: () => now } });
  });

  afterEach(async () => {
    await dynamo?.stop();
  });
}
