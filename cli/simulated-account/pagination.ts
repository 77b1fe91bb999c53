import { SimulatedAwsError } from './errors.ts';

/**
 * NextToken handling. A token is the last key of the previous page, so paging never rescans
 * earlier items. It also names the operation, so a token from another API is rejected as AWS does.
 */
export function encodeToken(scope: string, lastKey: string): string {
  return Buffer.from(JSON.stringify({ s: scope, k: lastKey }), 'utf8').toString('base64url');
}

export function decodeToken(token: string | undefined, scope: string, errorCode: string): string | undefined {
  if (token === undefined || token === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      (parsed as { s?: unknown }).s === scope &&
      typeof (parsed as { k?: unknown }).k === 'string'
    ) {
      return (parsed as { k: string }).k;
    }
  } catch {
    // Falls through to the same error as a well-formed token for another API.
  }
  throw new SimulatedAwsError(errorCode, `The token '${token}' is invalid.`);
}

export interface PageSizeRule {
  /** Used when the caller gives no limit. `Infinity` means "everything", as EC2 describes do. */
  readonly fallback: number;
  readonly min: number;
  readonly max: number;
  /** EC2 silently caps some limits at the maximum instead of rejecting them. */
  readonly capAtMax?: boolean;
  readonly errorCode: string;
  readonly parameter: string;
}

export function pageSize(requested: number | undefined, rule: PageSizeRule): number {
  if (requested === undefined) return rule.fallback;
  if (!Number.isInteger(requested) || requested < rule.min || (requested > rule.max && !rule.capAtMax)) {
    throw new SimulatedAwsError(
      rule.errorCode,
      `Value ( ${requested} ) for parameter ${rule.parameter} is invalid. Expecting a value between ${rule.min} and ${rule.max}.`,
    );
  }
  return Math.min(requested, rule.max);
}
