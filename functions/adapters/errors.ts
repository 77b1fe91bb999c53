/**
 * Named errors of the AWS adapters. `name` is what the state machine's Retry and Catch match on,
 * so it is set explicitly (minifiers and subclassing must not change it).
 */
// `@smithy/core` ships the SDK's own classifier (the one its retry strategy uses), replacing the
// standalone `@smithy/service-error-classification` package in current SDK releases.
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';

type SdkErrorLike = Parameters<typeof isThrottlingError>[0];

/** The AWS error code (`InvalidAMIID.NotFound`, `RequestLimitExceeded`, ...) or a stand-in. */
export function errorCode(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const { Code, code, name } = err as { Code?: unknown; code?: unknown; name?: unknown };
    // EC2 puts the precise code in `Code`; SDK v3 copies it to `name`. Node network errors use `code`.
    for (const candidate of [Code, name, code]) {
      if (typeof candidate === 'string' && candidate !== '' && candidate !== 'Error') return candidate;
    }
  }
  return 'UnknownError';
}

const MAX_MESSAGE_LENGTH = 500;

/**
 * A message safe to log and to put in the ledger: AWS messages never carry secrets, but an
 * endpoint or network error can echo request parts, so access key ids and signatures are masked.
 */
export function safeErrorMessage(err: unknown): string {
  const raw = err instanceof Error ? err.message : typeof err === 'string' ? err : String(err);
  const masked = raw
    .replace(/\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,}\b/g, '[redacted]')
    .replace(/(Signature|Credential|X-Amz-Security-Token|X-Amz-Signature)=[^\s,&;]+/gi, '$1=[redacted]');
  return masked.length > MAX_MESSAGE_LENGTH ? `${masked.slice(0, MAX_MESSAGE_LENGTH)}…` : masked;
}

/** True for errors worth retrying later: throttling, timeouts, network and 5xx errors. */
export function isRetryableAwsError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const sdkError = err as SdkErrorLike;
  return isThrottlingError(sdkError) || isTransientError(sdkError) || isServerError(sdkError);
}

/**
 * A read of one inventory source failed or could not be completed (error, repeated page token,
 * page limit, malformed response). The whole inventory is void: no plan may be built from it.
 */
export class InventoryReadError extends Error {
  override readonly name = 'InventoryReadError';
  /** The API (or source) whose read failed, e.g. `DescribeImages`. */
  readonly source: string;
  /** The AWS error code, or a short code of our own for gaps we detect. */
  readonly code: string;
  /** True when the cause was throttling or transient: the whole read may be retried later. */
  readonly retryable: boolean;

  constructor(source: string, cause: unknown, code: string = errorCode(cause)) {
    super(`inventory incomplete: ${source} failed: ${code}: ${safeErrorMessage(cause)}`, { cause });
    this.source = source;
    this.code = code;
    this.retryable = isRetryableAwsError(cause);
  }
}

/** A throttling or transient AWS error after the SDK's own retries: the caller retries later. */
export class TransientAwsError extends Error {
  override readonly name = 'TransientAwsError';
  readonly operation: string;
  readonly code: string;

  constructor(operation: string, cause: unknown) {
    const code = errorCode(cause);
    super(`${operation} failed transiently: ${code}: ${safeErrorMessage(cause)}`, { cause });
    this.operation = operation;
    this.code = code;
  }
}

/** Rethrows `err`, as a `TransientAwsError` when it is worth retrying. */
export function rethrowClassified(operation: string, err: unknown): never {
  if (err instanceof TransientAwsError) throw err;
  if (isRetryableAwsError(err)) throw new TransientAwsError(operation, err);
  throw err;
}
