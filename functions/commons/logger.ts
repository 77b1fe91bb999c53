/**
 * Structured logging for the workflow handlers (Powertools Logger, JSON to CloudWatch).
 *
 * Handlers log ids and outcomes only. As a second line of defence, attributes whose key names a
 * credential, and long opaque strings (task tokens are hundreds of base64 characters), are
 * replaced before they reach the log, so a careless attribute cannot leak a task token.
 */
import { Logger } from '@aws-lambda-powertools/logger';

export type LogValue = string | number | boolean | undefined;
export type LogAttributes = Readonly<Record<string, LogValue>>;

/** What handlers log through: Powertools' Logger in Lambda, a recorder in tests. */
export interface HandlerLogger {
  info(message: string, attributes?: LogAttributes): void;
  warn(message: string, attributes?: LogAttributes): void;
  error(message: string, attributes?: LogAttributes): void;
}

export const REDACTED = '[redacted]';

const SENSITIVE_KEY = /token|secret|password|credential|signature|authorization|cookie/i;
// Longer than any id, ARN segment or plan hash (64 hex) we log; task tokens are far longer.
const OPAQUE_VALUE = /[A-Za-z0-9+/=_-]{100,}/g;

export function redactAttributes(attributes: LogAttributes = {}): Record<string, LogValue> {
  const safe: Record<string, LogValue> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    if (SENSITIVE_KEY.test(key)) safe[key] = REDACTED;
    else safe[key] = typeof value === 'string' ? redactOpaqueText(value) : value;
  }
  return safe;
}

/** Replaces long opaque runs (tokens, signatures) inside free text. */
export function redactOpaqueText(text: string): string {
  return text.replace(OPAQUE_VALUE, REDACTED);
}

/** A Powertools Logger for one handler, behind the redacting interface. */
export function createLogger(handlerName: string, logger?: Logger): HandlerLogger {
  const powertools =
    logger ??
    new Logger({
      serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'ami-cleaner',
      persistentKeys: { handler: handlerName },
    });
  return {
    info: (message, attributes) => powertools.info(message, redactAttributes(attributes)),
    warn: (message, attributes) => powertools.warn(message, redactAttributes(attributes)),
    error: (message, attributes) => powertools.error(message, redactAttributes(attributes)),
  };
}

/** Logs nothing; the default when a test does not care. */
export const silentLogger: HandlerLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
