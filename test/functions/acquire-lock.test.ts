import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidRunInputError } from '../../functions/acquire-lock.ts';
import { executionEvent, type Harness, NOW, REGION, SETTINGS, startHarness } from './harness.ts';

describe('acquire-lock', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness();
  });

  afterEach(async () => {
    await h.stop();
  });

  it('builds the run context from the input and the deployment defaults, takes the lock and records the run', async () => {
    // Act
    const result = await h.handlers.acquireLock(
      executionEvent({ dryRun: true, maxDeletionsPerRun: 7, settings: { keepPrevious: 5 } }),
    );

    // Assess
    expect(result).toEqual({
      acquired: true,
      run: {
        runId: 'run-1',
        executionArn: `arn:aws:states:${REGION}:123456789012:execution:ami-cleaner:run-1`,
        trigger: 'manual',
        dryRun: true,
        settings: { ...SETTINGS, keepPrevious: 5 },
        startedAt: NOW.toISOString(),
        maxDeletionsPerRun: 7,
      },
    });
    expect(await h.ledger.getLock(REGION)).toMatchObject({ owner: 'run-1' });
    expect(await h.ledger.getRun('run-1')).toMatchObject({
      status: 'RUNNING',
      dryRun: true,
      maxDeletionsPerRun: 7,
    });
  });

  it('defaults to a manual, non-dry run capped at MAX_DELETIONS_PER_RUN', async () => {
    // Act
    const { run } = await h.handlers.acquireLock(executionEvent({}));

    // Assess
    expect(run).toMatchObject({
      trigger: 'manual',
      dryRun: false,
      maxDeletionsPerRun: 100,
      settings: SETTINGS,
    });
    expect(run.triggerImageId).toBeUndefined();
  });

  it('scopes an ami-available run to its image', async () => {
    // Act
    const { run } = await h.handlers.acquireLock(
      executionEvent({ trigger: 'ami-available', imageId: 'ami-0123456789abcdef0' }),
    );

    // Assess
    expect(run).toMatchObject({ trigger: 'ami-available', triggerImageId: 'ami-0123456789abcdef0' });
  });

  it.each([
    ['a non-object input', ['dryRun'], /must be a JSON object/],
    ['an unknown key', { dryrun: true }, /unknown input key "dryrun"/],
    ['a string for dryRun', { dryRun: 'yes' }, /dryRun must be true or false/],
    ['an unknown trigger', { trigger: 'cron' }, /trigger must be one of/],
    ['ami-available without imageId', { trigger: 'ami-available' }, /requires imageId/],
    ['imageId on a manual run', { imageId: 'ami-0123456789abcdef0' }, /only allowed with trigger/],
    ['a malformed imageId', { trigger: 'ami-available', imageId: 'ami-XYZ' }, /requires imageId/],
    [
      'a cap above the deployment limit',
      { maxDeletionsPerRun: 101 },
      /exceeds this deployment's limit of 100/,
    ],
    ['a fractional cap', { maxDeletionsPerRun: 1.5 }, /whole number/],
    ['an unknown setting', { settings: { keepPrevius: 1 } }, /settings: unknown setting "keepPrevius"/],
    [
      'a mistyped setting',
      { settings: { keepPrevious: '3' } },
      /settings: keepPrevious must be a whole number/,
    ],
  ])('rejects %s with InvalidRunInputError, touching nothing', async (_what, input, message) => {
    // Act
    const attempt = h.handlers.acquireLock(executionEvent(input));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InvalidRunInputError);
    await expect(attempt).rejects.toMatchObject({
      name: 'InvalidRunInputError',
      message: expect.stringMatching(message),
    });
    expect(await h.ledger.getLock(REGION)).toBeUndefined();
    expect(await h.ledger.getRun('run-1')).toBeUndefined();
    expect(h.account.calls).toEqual([]);
  });

  it('rejects an execution name that cannot be a run id', async () => {
    // Act
    const attempt = h.handlers.acquireLock(executionEvent({}, 'run/../1'));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InvalidRunInputError);
    expect(await h.ledger.getLock(REGION)).toBeUndefined();
  });

  it('returns acquired false while another run holds the lock, and records the skipped run', async () => {
    // Prepare
    await h.handlers.acquireLock(executionEvent({}, 'run-1'));

    // Act
    const second = await h.handlers.acquireLock(executionEvent({}, 'run-2'));

    // Assess
    expect(second.acquired).toBe(false);
    expect(await h.ledger.getLock(REGION)).toMatchObject({ owner: 'run-1' });
    expect(await h.ledger.getRun('run-2')).toMatchObject({ status: 'SKIPPED_LOCKED' });
    expect(await h.ledger.getRun('run-1')).toMatchObject({ status: 'RUNNING' });
  });

  it('acquires again when retried by the run that holds the lock', async () => {
    // Prepare
    await h.handlers.acquireLock(executionEvent({}, 'run-1'));

    // Act
    const retried = await h.handlers.acquireLock(executionEvent({}, 'run-1'));

    // Assess
    expect(retried.acquired).toBe(true);
  });

  it('lets the next run in once release-lock ran, and release-lock leaves another run lock alone', async () => {
    // Prepare
    const { run } = await h.handlers.acquireLock(executionEvent({}, 'run-1'));
    await h.handlers.releaseLock({ run: { runId: 'run-other' } });
    const stillHeld = await h.ledger.getLock(REGION);

    // Act
    await h.handlers.releaseLock({ run });
    const next = await h.handlers.acquireLock(executionEvent({}, 'run-2'));

    // Assess
    expect(stillHeld).toMatchObject({ owner: 'run-1' });
    expect(next.acquired).toBe(true);
  });
});
