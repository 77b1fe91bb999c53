/**
 * Signed approval links and form tokens (HMAC-SHA256, node:crypto).
 *
 * The link `<baseUrl>?a=<approvalId>&e=<expiry epoch s>&s=<sig>` only lets its holder *see* the
 * plan: opening it (a person or a mail scanner) changes nothing. Deciding takes a POST carrying a
 * form token that is bound to the approval id and the plan hash the page showed. Neither the link
 * nor the page ever carries the Step Functions task token; that stays in the ledger.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** Approval ids are UUIDs; anything outside this shape is refused before any lookup. */
const APPROVAL_ID = /^[A-Za-z0-9-]{8,64}$/;
const EPOCH_SECONDS = /^[0-9]{1,12}$/;
/** 32 bytes of HMAC-SHA256 in base64url, no padding. */
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;
const PLAN_HASH = /^[A-Za-z0-9_-]{1,128}$/;

export type LinkFailure = 'bad-signature' | 'expired' | 'malformed';

export type LinkVerification =
  | { readonly ok: true; readonly approvalId: string; readonly expiresAt: Date }
  | { readonly ok: false; readonly reason: LinkFailure };

export interface SignApprovalLinkInput {
  readonly baseUrl: string;
  readonly approvalId: string;
  readonly expiresAt: Date;
  readonly key: string;
}

/** The link's query parameters, from the query string or from the form's hidden fields. */
export interface LinkParams {
  readonly a?: string | null | undefined;
  readonly e?: string | null | undefined;
  readonly s?: string | null | undefined;
}

export function signApprovalLink(input: SignApprovalLinkInput): string {
  if (!APPROVAL_ID.test(input.approvalId))
    throw new RangeError('approval id must be 8-64 letters, digits or dashes');
  const e = String(Math.floor(input.expiresAt.getTime() / 1000));
  const url = new URL(input.baseUrl);
  url.searchParams.set('a', input.approvalId);
  url.searchParams.set('e', e);
  url.searchParams.set('s', linkSignature(input.key, input.approvalId, e));
  return url.toString();
}

/**
 * Checks shape, then signature, then expiry, in that order: a tampered expiry is reported as a
 * bad signature, not as "expired", and nothing is looked up for a link that was not ours.
 */
export function verifyApprovalLink(params: LinkParams, key: string, now: Date): LinkVerification {
  const { a, e, s } = params;
  if (!a || !e || !s || !APPROVAL_ID.test(a) || !EPOCH_SECONDS.test(e) || !SIGNATURE.test(s)) {
    return { ok: false, reason: 'malformed' };
  }
  if (!safeEqual(s, linkSignature(key, a, e))) return { ok: false, reason: 'bad-signature' };
  const expiresAt = new Date(Number(e) * 1000);
  if (now.getTime() >= expiresAt.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, approvalId: a, expiresAt };
}

/** Bound to the approval and the exact plan the page rendered; proves the POST came from that page. */
export function formToken(key: string, approvalId: string, planHash: string): string {
  return hmac(key, `form:${approvalId}:${planHash}`);
}

export function verifyFormToken(
  key: string,
  approvalId: string,
  planHash: string,
  token: string | null | undefined,
): boolean {
  if (!token || !SIGNATURE.test(token) || !APPROVAL_ID.test(approvalId) || !PLAN_HASH.test(planHash))
    return false;
  return safeEqual(token, formToken(key, approvalId, planHash));
}

function linkSignature(key: string, approvalId: string, e: string): string {
  // `a.e` as in DESIGN.md; the form token's `form:` prefix keeps the two from ever colliding.
  return hmac(key, `${approvalId}.${e}`);
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

/**
 * The signing key from Secrets Manager, fetched on first use and cached for the container's life.
 * A failed fetch is not cached, so the next call tries again.
 */
export function cachedSecretString(secrets: SecretsManagerClient, secretId: string): () => Promise<string> {
  let pending: Promise<string> | undefined;
  return () => {
    pending ??= secrets.send(new GetSecretValueCommand({ SecretId: secretId })).then((out) => {
      if (!out.SecretString) throw new Error('the approval signing secret has no string value');
      return out.SecretString;
    });
    pending.catch(() => {
      pending = undefined;
    });
    return pending;
  };
}
