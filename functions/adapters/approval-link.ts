/**
 * Signed approval links and form tokens (HMAC-SHA256, node:crypto).
 *
 * The link `<baseUrl>?a=<approvalId>&e=<expiry epoch s>&s=<sig>` only lets its holder *see* the
 * plan: opening it (a person or a mail scanner) changes nothing. Deciding takes a POST carrying a
 * form token that is bound to the approval id and the plan hash the page showed. Neither the link
 * nor the page ever carries the Step Functions task token; that stays in the ledger.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { isApproverAddress } from '../core/approvers.ts';

/** Approval ids are UUIDs; anything outside this shape is refused before any lookup. */
const APPROVAL_ID = /^[A-Za-z0-9-]{8,64}$/;
const EPOCH_SECONDS = /^[0-9]{1,12}$/;
/** 32 bytes of HMAC-SHA256 in base64url, no padding. */
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;
const PLAN_HASH = /^[A-Za-z0-9_-]{1,128}$/;

export type LinkFailure = 'bad-signature' | 'expired' | 'malformed';

export type LinkVerification =
  | {
      readonly ok: true;
      readonly approvalId: string;
      readonly expiresAt: Date;
      /** The address this link was sent to (a personal link), or undefined (the shared topic's link). */
      readonly approver?: string;
    }
  | { readonly ok: false; readonly reason: LinkFailure };

export interface SignApprovalLinkInput {
  readonly baseUrl: string;
  readonly approvalId: string;
  readonly expiresAt: Date;
  readonly key: string;
  /** Binds the link to the one address it is sent to (`r`, inside the signature). */
  readonly approver?: string;
}

/** The link's query parameters, from the query string or from the form's hidden fields. */
export interface LinkParams {
  readonly a?: string | null | undefined;
  readonly e?: string | null | undefined;
  readonly s?: string | null | undefined;
  readonly r?: string | null | undefined;
}

export function signApprovalLink(input: SignApprovalLinkInput): string {
  if (!APPROVAL_ID.test(input.approvalId))
    throw new RangeError('approval id must be 8-64 letters, digits or dashes');
  if (input.approver !== undefined && !isApproverAddress(input.approver))
    throw new RangeError('approver must be a lower-case email address');
  const e = String(Math.floor(input.expiresAt.getTime() / 1000));
  const url = new URL(input.baseUrl);
  url.searchParams.set('a', input.approvalId);
  url.searchParams.set('e', e);
  if (input.approver !== undefined) url.searchParams.set('r', input.approver);
  url.searchParams.set('s', linkSignature(input.key, input.approvalId, e, input.approver));
  return url.toString();
}

/**
 * Checks shape, then signature, then expiry, in that order: a tampered expiry is reported as a
 * bad signature, not as "expired", and nothing is looked up for a link that was not ours.
 */
export function verifyApprovalLink(params: LinkParams, key: string, now: Date): LinkVerification {
  const { a, e, s, r } = params;
  if (!a || !e || !s || !APPROVAL_ID.test(a) || !EPOCH_SECONDS.test(e) || !SIGNATURE.test(s)) {
    return { ok: false, reason: 'malformed' };
  }
  // An empty `r` is no approver (the shared link); anything else must be an address.
  const approver = r ? r : undefined;
  if (approver !== undefined && !isApproverAddress(approver)) return { ok: false, reason: 'malformed' };
  if (!safeEqual(s, linkSignature(key, a, e, approver))) return { ok: false, reason: 'bad-signature' };
  const expiresAt = new Date(Number(e) * 1000);
  if (now.getTime() >= expiresAt.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, approvalId: a, expiresAt, ...(approver === undefined ? {} : { approver }) };
}

/**
 * Bound to the approval, the exact plan the page rendered and (for a personal link) the approver
 * it was rendered for; proves the POST came from that page.
 */
export function formToken(key: string, approvalId: string, planHash: string, approver?: string): string {
  return hmac(
    key,
    approver === undefined ? `form:${approvalId}:${planHash}` : `vote:${approvalId}:${planHash}:${approver}`,
  );
}

export function verifyFormToken(
  key: string,
  approvalId: string,
  planHash: string,
  token: string | null | undefined,
  approver?: string,
): boolean {
  if (!token || !SIGNATURE.test(token) || !APPROVAL_ID.test(approvalId) || !PLAN_HASH.test(planHash))
    return false;
  return safeEqual(token, formToken(key, approvalId, planHash, approver));
}

function linkSignature(key: string, approvalId: string, e: string, approver?: string): string {
  // `a.e` as in DESIGN.md; a personal link signs `approver:a.e.r`. The prefixes keep a shared link,
  // a personal link and a form token from ever colliding, so `r` can be neither dropped nor swapped.
  return hmac(key, approver === undefined ? `${approvalId}.${e}` : `approver:${approvalId}.${e}.${approver}`);
}

function hmac(key: string, message: string): string {
  if (key.length === 0) throw new RangeError('the signing key must not be empty');
  return createHmac('sha256', key).update(message, 'utf8').digest('base64url');
}

function safeEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Versions of the signing secret a link may be signed with during a rotation. */
export interface VerificationKeys {
  readonly current: string;
  /** AWSPREVIOUS, asked for only when a signature does not verify under the current key. */
  readonly previous?: (() => Promise<string | undefined>) | undefined;
}

/**
 * verifyApprovalLink under the current key, then, for a bad signature only, under the previous
 * one, so that links mailed before a rotation stay valid until they expire.
 */
export async function verifyApprovalLinkWithKeys(
  params: LinkParams,
  keys: VerificationKeys,
  now: Date,
): Promise<LinkVerification> {
  const underCurrent = verifyApprovalLink(params, keys.current, now);
  if (underCurrent.ok || underCurrent.reason !== 'bad-signature') return underCurrent;
  const previous = await keys.previous?.();
  return previous ? verifyApprovalLink(params, previous, now) : underCurrent;
}

/** verifyFormToken under the current key, then the previous (a page rendered before a rotation). */
export async function verifyFormTokenWithKeys(
  keys: VerificationKeys,
  approvalId: string,
  planHash: string,
  token: string | null | undefined,
  approver?: string,
): Promise<boolean> {
  if (verifyFormToken(keys.current, approvalId, planHash, token, approver)) return true;
  const previous = await keys.previous?.();
  return (
    previous !== undefined &&
    previous.length > 0 &&
    verifyFormToken(previous, approvalId, planHash, token, approver)
  );
}

/**
 * How long a container trusts the key it fetched. After a rotation, a container may sign with the
 * old key for this long; the page still accepts it as AWSPREVIOUS.
 */
export const SIGNING_KEY_MAX_AGE_SECONDS = 300;

export interface SigningKeySource {
  /** AWSCURRENT: signs every new link and form token. A failed fetch throws (fail closed). */
  readonly current: () => Promise<string>;
  /** AWSPREVIOUS, or undefined when the secret was never rotated. */
  readonly previous: () => Promise<string | undefined>;
}

/**
 * The signing key's current and previous versions through Powertools Parameters, each cached for
 * maxAge seconds. Two providers, because a provider's cache is keyed by secret name alone, not by
 * version stage: one provider would hand back AWSCURRENT when asked for AWSPREVIOUS.
 */
export function signingKeysFromSecret(
  secrets: SecretsManagerClient,
  secretId: string,
  maxAgeSeconds: number = SIGNING_KEY_MAX_AGE_SECONDS,
): SigningKeySource {
  const currentProvider = new SecretsProvider({ awsSdkV3Client: secrets });
  const previousProvider = new SecretsProvider({ awsSdkV3Client: secrets });
  const stage = async (provider: SecretsProvider, VersionStage: string) => {
    const value = await provider.get(secretId, { maxAge: maxAgeSeconds, sdkOptions: { VersionStage } });
    if (value !== undefined && typeof value !== 'string')
      throw new Error('the approval signing secret has no string value');
    return value;
  };
  return {
    current: async () => {
      const value = await stage(currentProvider, 'AWSCURRENT');
      if (!value) throw new Error('the approval signing secret has no string value');
      return value;
    },
    previous: async () => {
      try {
        return (await stage(previousProvider, 'AWSPREVIOUS')) || undefined;
      } catch (error) {
        // No AWSPREVIOUS version until the first rotation; any other failure fails closed.
        if (notFound(error)) return undefined;
        throw error;
      }
    },
  };
}

function notFound(error: unknown): boolean {
  const cause = error instanceof Error ? error.cause : undefined;
  return cause instanceof Error && cause.name === 'ResourceNotFoundException';
}
