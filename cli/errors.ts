/**
 * One line per failure, and an exit code a script can act on:
 * 2 for bad input and for an account that cannot be read (fail closed: nothing was deleted),
 * 1 for a run that ended without deleting (rejected, expired) or an unexpected fault.
 */
import { CommanderError } from 'commander';
import { InvalidSettingsError } from '../functions/core/settings.ts';
import { visible } from '../functions/core/visible-text.ts';

/** A run that ended without the deletion the user asked for; the message says why. */
export class RunNotCompletedError extends Error {
  override readonly name = 'RunNotCompletedError';
}

/** The person stopped a run with a second Ctrl-C; the run was closed. Exit code 130, as for SIGINT. */
export class RunInterruptedError extends Error {
  override readonly name = 'RunInterruptedError';
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

/** The first line of the error, with control and bidi characters (an echoed flag value's) shown as `\u….`. */
export function describeError(error: unknown): string {
  return visible(firstLine(error));
}

function firstLine(error: unknown): string {
  if (error instanceof CommanderError)
    return error.message.replace(/^error: /, '').split('\n')[0] ?? error.message;
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.name;
  return String(error).split('\n')[0] ?? '';
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof RunInterruptedError) return 130;
  if (error instanceof CommanderError || error instanceof InvalidSettingsError) return 2;
  if (error instanceof AccountUnreachableError) return 2;
  if (error instanceof LedgerUnavailableError || error instanceof UnknownRunError) return 2;
  if (error instanceof Error && error.name === 'InventoryReadError') return 2;
  // --from-ids naming an AMI the account does not own is bad input, not a failed run.
  if (error instanceof Error && error.name === 'UnknownImageError') return 2;
  return 1;
}

/** The one line main() prints: plain text, or under `--json` one JSON object a script can parse. */
export function formatError(error: unknown, asJson: boolean): string {
  const message = describeError(error);
  if (!asJson) return `amicleaner: ${message}\n`;
  const name = error instanceof CommanderError ? 'UsageError' : error instanceof Error ? error.name : 'Error';
  return `${JSON.stringify({ error: { name, message, exitCode: exitCodeFor(error) } })}\n`;
}

/**
 * Turns a failed ledger read or write into one line naming the ledger, with exit code 2.
 * Callers wrap only their ledger calls, so bugs elsewhere keep their own errors.
 */
export function ledgerUnavailable(error: unknown, where: string): LedgerUnavailableError {
  if (error instanceof LedgerUnavailableError) return error;
  return new LedgerUnavailableError(`cannot use the ledger in ${where}: ${explainAwsError(error)}`, {
    cause: error,
  });
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** One line for the usual causes: endpoint unreachable, table or index missing, no credentials. */
export function explainAwsError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  const firstLine = error.message.split('\n')[0]?.trim() ?? '';
  if (code !== undefined && NETWORK_CODES.has(code)) {
    // Node's AggregateError (IPv4 and IPv6 both refused) has an empty message.
    return `endpoint unreachable (${firstLine || code})`;
  }
  if (error.name === 'TimeoutError') return `endpoint did not answer in time (${firstLine || error.name})`;
  if (error.name === 'ResourceNotFoundException') return 'table not found';
  if (error.name === 'ValidationException' && /index/i.test(firstLine)) {
    return `not an ami-cleaner ledger table (${firstLine})`;
  }
  if (error.name === 'CredentialsProviderError') return `no AWS credentials (${firstLine})`;
  return firstLine ? `${error.name}: ${firstLine}` : error.name;
}
