import { describe, expect, it } from 'vitest';
import {
  ApproversError,
  checkRequiredApprovals,
  decisionOrigin,
  MAX_USER_AGENT_LENGTH,
  normalizeApprovers,
  tallyVotes,
  type Vote,
} from '../../functions/core/approvers.ts';

const HASH = 'a'.repeat(64);
const vote = (decision: Vote['decision'], decidedAt: string, planHash = HASH): Vote => ({
  decision,
  planHash,
  decidedAt,
  comment: 'c',
  sourceIp: '192.0.2.1',
  userAgent: 'ua',
});

describe('normalizeApprovers', () => {
  it('trims and lower-cases addresses, keeping their order', () => {
    // Act
    const approvers = normalizeApprovers([' Ada@Example.COM ', 'bob@example.com']);

    // Assess
    expect(approvers).toEqual(['ada@example.com', 'bob@example.com']);
  });

  it.each([
    ['not a list', 'a@example.com'],
    ['an empty list', []],
    ['a non-string', [42]],
    ['an address with a space', ['a b@example.com']],
    ['an address with a control character', ['a\u0000@example.com']],
    ['an address without a domain dot', ['a@example']],
    ['a duplicate', ['a@example.com', 'A@EXAMPLE.COM']],
  ])('refuses %s', (_what, value) => {
    expect(() => normalizeApprovers(value)).toThrow(ApproversError);
  });
});

describe('checkRequiredApprovals', () => {
  it('accepts 1 to the number of approvers, and nothing else', () => {
    const two = ['a@example.com', 'b@example.com'];
    expect(checkRequiredApprovals(2, two)).toBe(2);
    for (const bad of [0, 3, 1.5, '2', Number.NaN])
      expect(() => checkRequiredApprovals(bad, two)).toThrow(ApproversError);
  });
});

describe('decisionOrigin', () => {
  it('keeps a well-formed IPv4 or IPv6 source and a plain user agent', () => {
    expect(decisionOrigin('2001:db8::1', 'Mozilla/5.0')).toEqual({
      sourceIp: '2001:db8::1',
      userAgent: 'Mozilla/5.0',
    });
  });

  it('records a malformed source IP as unknown and a missing user agent as none', () => {
    expect(decisionOrigin('198.51.100.7<script>', undefined)).toEqual({
      sourceIp: 'unknown',
      userAgent: 'none',
    });
  });

  it('cuts a long user agent to its cap after making control and bidi characters visible', () => {
    // Act
    const { userAgent } = decisionOrigin('192.0.2.1', `\u001b]8;;http://x\u0007\u202e${'z'.repeat(1000)}`);

    // Assess
    expect(userAgent).toHaveLength(MAX_USER_AGENT_LENGTH);
    expect(userAgent.startsWith('\\u001b]8;;http://x\\u0007\\u202e')).toBe(true);
    expect(userAgent.endsWith('…')).toBe(true);
    expect(userAgent).not.toMatch(/[\p{Cc}\p{Cf}]/u);
  });
});

describe('tallyVotes', () => {
  const approvers = ['a@example.com', 'b@example.com', 'c@example.com'];

  it('reaches the quorum with distinct listed approvers of the same plan hash, in decision order', () => {
    // Act
    const tally = tallyVotes(
      {
        'b@example.com': vote('APPROVED', '2026-05-01T10:00:02Z'),
        'a@example.com': vote('APPROVED', '2026-05-01T10:00:01Z'),
      },
      approvers,
      2,
      HASH,
    );

    // Assess
    expect(tally).toEqual({
      approvedBy: ['a@example.com', 'b@example.com'],
      rejectedBy: [],
      required: 2,
      reached: true,
    });
  });

  it('counts no vote of an unlisted address or for another plan hash', () => {
    // Act
    const tally = tallyVotes(
      {
        'mallory@example.com': vote('APPROVED', '2026-05-01T10:00:01Z'),
        'a@example.com': vote('APPROVED', '2026-05-01T10:00:02Z', 'b'.repeat(64)),
        'b@example.com': vote('APPROVED', '2026-05-01T10:00:03Z'),
      },
      approvers,
      2,
      HASH,
    );

    // Assess
    expect(tally).toMatchObject({ approvedBy: ['b@example.com'], reached: false });
  });

  it('is never reached once someone rejected', () => {
    // Act
    const tally = tallyVotes(
      {
        'a@example.com': vote('APPROVED', '2026-05-01T10:00:01Z'),
        'b@example.com': vote('APPROVED', '2026-05-01T10:00:02Z'),
        'c@example.com': vote('REJECTED', '2026-05-01T10:00:03Z'),
      },
      approvers,
      2,
      HASH,
    );

    // Assess
    expect(tally).toMatchObject({ rejectedBy: ['c@example.com'], reached: false });
  });
});
