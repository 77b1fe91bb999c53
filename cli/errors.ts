/**
 * One line per failure, and an exit code a script can act on:
 * 2 for bad input and for an account that cannot be read (fail closed: nothing was deleted),
 * 1 for a run that ended without deleting (rejected, expired) or an unexpected fault.
 */
import { CommanderError } from 'commander';
import { InvalidSettingsError } from '../functions/core/settings.ts';

/** A run that ended without the deletion the user asked for; the message says why. */
export class RunNotCompletedError extends Error {
  override readonly name = 'RunNotCompletedError';
}

/** The account could not be read or reached; nothing was planned or deleted. */
export class AccountUnreachableError extends Error {
  override readonly name = 'AccountUnreachableError';
}

/** The ledger (local store or DynamoDB table) could not be opened or read; nothing was changed. */
export class LedgerUnavailableError extends Error {
  override readonly name = 'LedgerUnavailableError';
}

/** `history --run ID` named a run the ledger does not hold. */
export class UnknownRunError extends Error {
  override readonly name = 'UnknownRunError';
}

export function describeError(error: unknown): string {
  if (error instanceof CommanderError)
    return error.message.replace(/^error: /, '').split('\n')[0] ?? error.message;
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.name;
  return String(error);
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError || error instanceof InvalidSettingsError) return 2;
  if (error instanceof AccountUnreachableError) return 2;
  if (error instanceof LedgerUnavailableError || error instanceof UnknownRunError) return 2;
  if (error instanceof Error && error.name === 'InventoryReadError') return 2;
  return 1;
}
