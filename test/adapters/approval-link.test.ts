import { describe, expect, it } from 'vitest';
import {
  formToken,
  signApprovalLink,
  verifyApprovalLink,
  verifyFormToken,
} from '../../functions/adapters/approval-link.ts';

const KEY = 'k'.repeat(48);
const ID = '11111111-2222-4333-8444-555555555555';
const NOW = new Date('2026-05-01T10:00:00.000Z');
const EXPIRES = new Date('2026-05-02T10:00:00.000Z');

function linkParams(url: string): { a: string | null; e: string | null; s: string | null } {
  const q = new URL(url).searchParams;
  return { a: q.get('a'), e: q.get('e'), s: q.get('s') };
}

function signed() {
  return signApprovalLink({
    baseUrl: 'https://abc.lambda-url.eu-west-1.on.aws/',
    approvalId: ID,
    expiresAt: EXPIRES,
    key: KEY,
  });
}

describe('approval links', () => {
  it('carries the id, the expiry in epoch seconds and a base64url signature, and verifies', () => {
    // Act
    const url = signed();
    const result = verifyApprovalLink(linkParams(url), KEY, NOW);

    // Assess
    expect(url).toMatch(
      /^https:\/\/abc\.lambda-url\.eu-west-1\.on\.aws\/\?a=[0-9a-f-]{36}&e=\d+&s=[A-Za-z0-9_-]{43}$/,
    );
    expect(linkParams(url).e).toBe(String(EXPIRES.getTime() / 1000));
    expect(result).toEqual({ ok: true, approvalId: ID, expiresAt: EXPIRES });
  });

  it('keeps the base URL path and existing query', () => {
    // Act
    const url = signApprovalLink({
      baseUrl: 'https://x.example/approve?v=1',
      approvalId: ID,
      expiresAt: EXPIRES,
      key: KEY,
    });

    // Assess
    expect(url.startsWith('https://x.example/approve?v=1&a=')).toBe(true);
    expect(verifyApprovalLink(linkParams(url), KEY, NOW).ok).toBe(true);
  });

  it.each([
    ['approval id', { a: '11111111-2222-4333-8444-555555555556' }],
    ['expiry', { e: String(EXPIRES.getTime() / 1000 + 86400) }],
    ['signature', { s: `${'A'.repeat(42)}B` }],
  ])('refuses a tampered %s as bad-signature', (_what, change) => {
    // Prepare
    const params = { ...linkParams(signed()), ...change };

    // Act
    const result = verifyApprovalLink(params, KEY, NOW);

    // Assess
    expect(result).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuses a link signed with another key', () => {
    // Act
    const result = verifyApprovalLink(linkParams(signed()), 'another-key', NOW);

    // Assess
    expect(result).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuses a genuine link at and after its expiry', () => {
    // Act
    const atExpiry = verifyApprovalLink(linkParams(signed()), KEY, EXPIRES);
    const justBefore = verifyApprovalLink(linkParams(signed()), KEY, new Date(EXPIRES.getTime() - 1000));

    // Assess
    expect(atExpiry).toEqual({ ok: false, reason: 'expired' });
    expect(justBefore.ok).toBe(true);
  });

  it.each([
    ['missing signature', { s: null }],
    ['missing id', { a: undefined }],
    ['non-numeric expiry', { e: '1e12' }],
    ['id with markup', { a: '<script>alert(1)</script>' }],
    ['short signature', { s: 'abc' }],
  ])('reports %s as malformed', (_what, change) => {
    // Prepare
    const params = { ...linkParams(signed()), ...change };

    // Act
    const result = verifyApprovalLink(params, KEY, NOW);

    // Assess
    expect(result).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('form tokens', () => {
  const HASH = 'f'.repeat(64);

  it('verifies only for the same key, approval and plan hash', () => {
    // Prepare
    const token = formToken(KEY, ID, HASH);

    // Act / Assess
    expect(verifyFormToken(KEY, ID, HASH, token)).toBe(true);
    expect(verifyFormToken(KEY, ID, 'e'.repeat(64), token)).toBe(false);
    expect(verifyFormToken(KEY, '11111111-2222-4333-8444-555555555556', HASH, token)).toBe(false);
    expect(verifyFormToken('other', ID, HASH, token)).toBe(false);
    expect(verifyFormToken(KEY, ID, HASH, undefined)).toBe(false);
    expect(verifyFormToken(KEY, ID, HASH, '')).toBe(false);
  });

  it('is not interchangeable with a link signature', () => {
    // Prepare
    const linkSig = linkParams(signed()).s;

    // Act / Assess
    expect(formToken(KEY, ID, String(EXPIRES.getTime() / 1000))).not.toBe(linkSig);
  });
});

describe('personal approval links', () => {
  const personal = (approver: string, key = KEY) =>
    signApprovalLink({
      baseUrl: 'https://abc.lambda-url.eu-west-1.on.aws/',
      approvalId: ID,
      expiresAt: EXPIRES,
      key,
      approver,
    });
  const paramsOf = (url: string) => {
    const q = new URL(url).searchParams;
    return { a: q.get('a'), e: q.get('e'), s: q.get('s'), r: q.get('r') };
  };

  it('binds the approver address into the signature and returns it on verification', () => {
    // Act
    const result = verifyApprovalLink(paramsOf(personal('ada@example.com')), KEY, NOW);

    // Assess
    expect(result).toEqual({ ok: true, approvalId: ID, expiresAt: EXPIRES, approver: 'ada@example.com' });
  });

  it('refuses the approver swapped for another, or dropped (a shared link is signed differently)', () => {
    // Prepare
    const params = paramsOf(personal('ada@example.com'));

    // Act
    const swapped = verifyApprovalLink({ ...params, r: 'bob@example.com' }, KEY, NOW);
    const dropped = verifyApprovalLink({ ...params, r: null }, KEY, NOW);
    const added = verifyApprovalLink({ ...linkParams(signed()), r: 'ada@example.com' }, KEY, NOW);

    // Assess
    expect([swapped, dropped, added]).toEqual([
      { ok: false, reason: 'bad-signature' },
      { ok: false, reason: 'bad-signature' },
      { ok: false, reason: 'bad-signature' },
    ]);
  });

  it('refuses an approver that is not a lower-case address before checking any signature', () => {
    // Act
    const result = verifyApprovalLink(
      { ...paramsOf(personal('ada@example.com')), r: 'Ada@Example.com' },
      KEY,
      NOW,
    );

    // Assess
    expect(result).toEqual({ ok: false, reason: 'malformed' });
    expect(() => personal('not an address')).toThrow(RangeError);
  });

  it('issues form tokens that hold only for the approver they were rendered for', () => {
    // Act
    const token = formToken(KEY, ID, 'a'.repeat(64), 'ada@example.com');

    // Assess
    expect(verifyFormToken(KEY, ID, 'a'.repeat(64), token, 'ada@example.com')).toBe(true);
    expect(verifyFormToken(KEY, ID, 'a'.repeat(64), token, 'bob@example.com')).toBe(false);
    expect(verifyFormToken(KEY, ID, 'a'.repeat(64), token)).toBe(false);
  });
});
