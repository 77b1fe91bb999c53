/**
 * A real DynamoDB-compatible server (dynalite) in-process, with the ledger table created from the
 * same definition the infra uses. Each call gets its own server, so tests never share state.
 */
import { type LocalLedger, startLocalLedger } from '../../cli/local-ledger.ts';

export type LocalDynamo = LocalLedger;

export function startDynalite(): Promise<LocalDynamo> {
  return startLocalLedger();
}
