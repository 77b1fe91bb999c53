import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  formToken,
  signApprovalLink,
  signingKeysFromSecret,
  verifyApprovalLinkWithKeys,
  verifyFormTokenWithKeys,
} from '../../functions/adapters/approval-link.ts';

const SECRET_ID = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:signing-AbCdEf';
const CURRENT = 'c'.repeat(48);
const PREVIOUS = 'p'.repeat(48);
const ID = '11111111-2222-4333-8444-555555555555';
const NOW = new Date('2026-05-01T10:00:00.000Z');
const EXPIRES = new Date('2026-05-02T10:00:00.000Z');

const secretsMock = mockClient(SecretsManagerClient);

function notFound(): ResourceNotFoundException {
  return new ResourceNotFoundException({
    message: "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS",
    $metadata: {},
  });
}

function stagedSecret(previous: string | Error): void {
  secretsMock.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({ SecretString: CURRENT });
  const onPrevious = secretsMock.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' });
  if (previous instanceof Error) onPrevious.rejects(previous);
  else onPrevious.resolves({ SecretString: previous });
}

function linkParams(key: string) {
  const q = new URL(
    signApprovalLink({ baseUrl: 'https://x.example/', approvalId: ID, expiresAt: EXPIRES, key }),
  ).searchParams;
  return { a: q.get('a'), e: q.get('e'), s: q.get('s') };
}

describe('signing keys from Secrets Manager (Powertools Parameters)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
  });

  afterEach(() => {
    vi.useRealTimers();
    secretsMock.reset();
  });

  it('fetches AWSCURRENT once per maxAge, then again once it expired', async () => {
    // Prepare
    stagedSecret(PREVIOUS);
    const keys = signingKeysFromSecret(new SecretsManagerClient({}), SECRET_ID, 60);

    // Act
    const first = await keys.current();
    await keys.current();
    vi.setSystemTime(NOW.getTime() + 59_000);
    await keys.current();
    const callsWithinMaxAge = secretsMock.commandCalls(GetSecretValueCommand).length;
    vi.setSystemTime(NOW.getTime() + 61_000);
    await keys.current();

    // Assess
    expect(first).toBe(CURRENT);
    expect(callsWithinMaxAge).toBe(1);
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    expect(secretsMock).toHaveReceivedCommandWith(GetSecretValueCommand, {
      SecretId: SECRET_ID,
      VersionStage: 'AWSCURRENT',
    });
  });

  it('keeps AWSCURRENT and AWSPREVIOUS apart, each cached on its own', async () => {
    // Prepare
    stagedSecret(PREVIOUS);
    const keys = signingKeysFromSecret(new SecretsManagerClient({}), SECRET_ID);

    // Act
    const current = await keys.current();
    const previous = await keys.previous();
    await keys.previous();
    await keys.current();

    // Assess
    expect(current).toBe(CURRENT);
    expect(previous).toBe(PREVIOUS);
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });

  it('has no previous key before the first rotation, and is asked again later', async () => {
    // Prepare
    stagedSecret(notFound());
    const keys = signingKeysFromSecret(new SecretsManagerClient({}), SECRET_ID);

    // Act
    const first = await keys.previous();
    const second = await keys.previous();

    // Assess
    expect(first).toBeUndefined();
    expect(second).toBeUndefined();
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });

  it('fails closed when AWSPREVIOUS cannot be read for another reason', async () => {
    // Prepare
    stagedSecret(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    const keys = signingKeysFromSecret(new SecretsManagerClient({}), SECRET_ID);

    // Act
    const failure = await keys.previous().then(
      () => undefined,
      (error: unknown) => error,
    );

    // Assess
    expect(failure).toBeInstanceOf(Error);
  });

  it('does not cache a failed AWSCURRENT fetch: the next call tries again', async () => {
    // Prepare
    secretsMock
      .on(GetSecretValueCommand)
      .rejectsOnce(new Error('throttled'))
      .resolves({ SecretString: CURRENT });
    const keys = signingKeysFromSecret(new SecretsManagerClient({}), SECRET_ID);

    // Act
    const failed = await keys.current().then(
      () => 'resolved',
      () => 'rejected',
    );
    const retried = await keys.current();

    // Assess
    expect(failed).toBe('rejected');
    expect(retried).toBe(CURRENT);
  });

  it('refuses a secret without a string value', async () => {
    // Prepare
    secretsMock.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2, 3]) });
    const keys = signingKeysFromSecret(new SecretsManagerClient({}), SECRET_ID);

    // Act
    const failure = await keys.current().then(
      () => undefined,
      (error: unknown) => error,
    );

    // Assess
    expect(String(failure)).toContain('no string value');
  });
});

describe('verification during a rotation', () => {
  it('accepts a link signed with the previous key, and never asks for it when the current one verifies', async () => {
    // Prepare
    const previous = vi.fn(async () => PREVIOUS);

    // Act
    const underCurrent = await verifyApprovalLinkWithKeys(
      linkParams(CURRENT),
      { current: CURRENT, previous },
      NOW,
    );
    const askedAfterCurrent = previous.mock.calls.length;
    const underPrevious = await verifyApprovalLinkWithKeys(
      linkParams(PREVIOUS),
      { current: CURRENT, previous },
      NOW,
    );

    // Assess
    expect(underCurrent.ok).toBe(true);
    expect(askedAfterCurrent).toBe(0);
    expect(underPrevious).toMatchObject({ ok: true, approvalId: ID });
  });

  it('refuses a link signed with neither key, or with the old key when there is no previous', async () => {
    // Act
    const forged = await verifyApprovalLinkWithKeys(
      linkParams('f'.repeat(48)),
      { current: CURRENT, previous: async () => PREVIOUS },
      NOW,
    );
    const noPrevious = await verifyApprovalLinkWithKeys(
      linkParams(PREVIOUS),
      { current: CURRENT, previous: async () => undefined },
      NOW,
    );
    const noSource = await verifyApprovalLinkWithKeys(linkParams(PREVIOUS), { current: CURRENT }, NOW);

    // Assess
    expect(forged).toEqual({ ok: false, reason: 'bad-signature' });
    expect(noPrevious).toEqual({ ok: false, reason: 'bad-signature' });
    expect(noSource).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('reports an expired link under the previous key as expired, and a malformed one without a lookup', async () => {
    // Prepare
    const previous = vi.fn(async () => PREVIOUS);
    const later = new Date(EXPIRES.getTime() + 1000);

    // Act
    const expired = await verifyApprovalLinkWithKeys(
      linkParams(PREVIOUS),
      { current: CURRENT, previous },
      later,
    );
    const askedForExpired = previous.mock.calls.length;
    const malformed = await verifyApprovalLinkWithKeys(
      { a: ID, e: 'x', s: 'y' },
      { current: CURRENT, previous },
      NOW,
    );

    // Assess
    expect(expired).toEqual({ ok: false, reason: 'expired' });
    expect(askedForExpired).toBe(1);
    expect(malformed).toEqual({ ok: false, reason: 'malformed' });
    expect(previous).toHaveBeenCalledTimes(1);
  });

  it('accepts a form token rendered under the previous key, and no other', async () => {
    // Prepare
    const hash = 'h'.repeat(64);
    const keys = { current: CURRENT, previous: async () => PREVIOUS };

    // Act
    const previousToken = await verifyFormTokenWithKeys(keys, ID, hash, formToken(PREVIOUS, ID, hash));
    const currentToken = await verifyFormTokenWithKeys(keys, ID, hash, formToken(CURRENT, ID, hash));
    const otherToken = await verifyFormTokenWithKeys(keys, ID, hash, formToken('o'.repeat(48), ID, hash));
    const otherPlan = await verifyFormTokenWithKeys(keys, ID, 'g'.repeat(64), formToken(PREVIOUS, ID, hash));

    // Assess
    expect(previousToken).toBe(true);
    expect(currentToken).toBe(true);
    expect(otherToken).toBe(false);
    expect(otherPlan).toBe(false);
  });
});
