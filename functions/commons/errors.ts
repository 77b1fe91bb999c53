/**
 * Errors shared by the handlers, and the one place that decides which failures the state machine
 * may retry. `name` is what the ASL's Retry and Catch match on, so it is set explicitly.
 */
import {
  InventoryReadError,
  rethrowClassified,
  safeErrorMessage,
  TransientAwsError,
} from '../adapters/errors.ts';
import { redactOpaqueText } from './logger.ts';

/** The event does not have the shape the handler's contract promises. Nothing was changed. */
export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';
}

/**
 * A deletion step was asked to act on an item that is not APPROVED under this plan hash
 * (invariant 1: nothing is deleted unless that exact plan was approved). Nothing was changed.
 */
export class NotApprovedError extends Error {
  override readonly name = 'NotApprovedError';
}

/** A conditional ledger update lost to a concurrent change of the same item. Nothing was deleted by it. */
export class ItemStateChangedError extends Error {
  override readonly name = 'ItemStateChangedError';
}

/**
 * Runs a handler body and surfaces every retryable AWS failure (EC2, DynamoDB, S3, a retryable
 * inventory read) as `TransientAwsError`, the only application error the ASL retries. Anything
 * else propagates unchanged, for the state's Catch.
 */
export function classifyFailures<E, R>(
  operation: string,
  body: (event: E) => Promise<R>,
): (event: E) => Promise<R> {
  return async (event) => {
    try {
      return await body(event);
    } catch (error) {
      if (error instanceof InventoryReadError && error.retryable) {
        throw new TransientAwsError(error.source, error.cause);
      }
      return rethrowClassified(operation, error);
    }
  };
}

const MAX_FAILURE_MESSAGE = 300;

/** The `{ Error, Cause }` a Step Functions Catch puts in the state's input. */
export interface StateError {
  readonly Error?: string;
  readonly Cause?: string;
}

/**
 * A short message safe for the ledger and logs, from a Catch's `{ Error, Cause }`. A Lambda
 * failure's Cause is JSON (`errorType`, `errorMessage`, `trace`); only type and message are kept,
 * credentials and long opaque strings (tokens) are masked.
 */
export function failureMessage(error: StateError | undefined): string {
  const name = typeof error?.Error === 'string' && error.Error !== '' ? error.Error : 'UnknownError';
  let detail = typeof error?.Cause === 'string' ? error.Cause : '';
  try {
    const parsed = JSON.parse(detail) as { errorMessage?: unknown };
    if (typeof parsed === 'object' && parsed !== null && typeof parsed.errorMessage === 'string') {
      detail = parsed.errorMessage;
    }
  } catch {
    // Not JSON: a states error (States.Timeout, ...) carries plain text.
  }
  const text = redactOpaqueText(safeErrorMessage(detail === '' ? name : `${name}: ${detail}`));
  return text.length > MAX_FAILURE_MESSAGE ? `${text.slice(0, MAX_FAILURE_MESSAGE - 1)}…` : text;
}
