import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAcquireLockHandler, InvalidRunInputError } from '../../functions/acquire-lock.ts';
import { TransientAwsError } from '../../functions/adapters/errors.ts';
import type { Ledger } from '../../functions/adapters/ledger/index.ts';
import { maxItemsWithinTree } from '../../functions/core/quotas.ts';
import { definitionHistoryBudget } from '../../infra/lib/definition.ts';
import { executionEvent, type Harness, LOCK_KEY, NOW, REGION, SETTINGS, startHarness } from './harness.ts';

/** 6,000 AMI ids: about 140 KiB of execution input. */
const SEVEN_THOUSAND_IDS = Array.from({ length: 7000 }, (_, i) => `ami-${i.toString(16).padStart(17, '0')}`);

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
    expect(await h.ledger.getLock(LOCK_KEY)).toMatchObject({ owner: 'run-1' });
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
    expect(await h.ledger.getLock(LOCK_KEY)).toBeUndefined();
    expect(await h.ledger.getRun('run-1')).toBeUndefined();
    expect(h.account.calls).toEqual([]);
  });

  it('rejects an execution name that cannot be a run id', async () => {
    // Act
    const attempt = h.handlers.acquireLock(executionEvent({}, 'run/../1'));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InvalidRunInputError);
    expect(await h.ledger.getLock(LOCK_KEY)).toBeUndefined();
  });

  it('returns acquired false while another run holds the lock, and records the skipped run', async () => {
    // Prepare
    await h.handlers.acquireLock(executionEvent({}, 'run-1'));

    // Act
    const second = await h.handlers.acquireLock(executionEvent({}, 'run-2'));

    // Assess
    expect(second.acquired).toBe(false);
    expect(await h.ledger.getLock(LOCK_KEY)).toMatchObject({ owner: 'run-1' });
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
    await h.handlers.releaseLock({ run: { ...run, runId: 'run-other' } });
    const stillHeld = await h.ledger.getLock(LOCK_KEY);

    // Act
    await h.handlers.releaseLock({ run });
    const next = await h.handlers.acquireLock(executionEvent({}, 'run-2'));

    // Assess
    expect(stillHeld).toMatchObject({ owner: 'run-1' });
    expect(next.acquired).toBe(true);
  });

  const acquireWith = (overrides: { ledger?: Ledger; maxDeletionsPerRun?: number }) =>
    createAcquireLockHandler({
      ledger: overrides.ledger ?? h.ledger,
      region: REGION,
      defaultSettings: SETTINGS,
      maxDeletionsPerRun: overrides.maxDeletionsPerRun ?? 100,
      lockTtlSeconds: 3600,
      historyBudget: definitionHistoryBudget(),
      now: () => NOW,
    });

  it('takes no lock when the run cannot be recorded, so nothing holds it for the lease', async () => {
    // Prepare: the run-record write is throttled (every SDK retry spent).
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const ledger = new Proxy(h.ledger, {
      get: (target, key) =>
        key === 'putRun' ? () => Promise.reject(throttled) : Reflect.get(target, key, target),
    });

    // Act
    const attempt = acquireWith({ ledger })(executionEvent({}));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(TransientAwsError);
    expect(await h.ledger.getLock(LOCK_KEY)).toBeUndefined();
  });

  it('refuses a cap whose worst-case history passes 25,000 events, from the deployment or the input', async () => {
    // Prepare
    const generous = acquireWith({ maxDeletionsPerRun: 200_000 });
    const fits = maxItemsWithinTree(definitionHistoryBudget());

    // Act
    const byDefault = await generous(executionEvent({}, 'run-1')).catch((error: unknown) => error);
    const byInput = await acquireWith({ maxDeletionsPerRun: 200_000 })(
      executionEvent({ maxDeletionsPerRun: fits + 1 }, 'run-2'),
    ).catch((error: unknown) => error);
    const within = await generous(executionEvent({ maxDeletionsPerRun: fits }, 'run-3'));

    // Assess
    expect(byDefault).toBeInstanceOf(InvalidRunInputError);
    expect(String(byDefault)).toMatch(
      /maxDeletionsPerRun 200000 needs \d+ DeleteBatch children .* history events .* at most \d+ fit/,
    );
    expect(byInput).toBeInstanceOf(InvalidRunInputError);
    expect(within.run.maxDeletionsPerRun).toBe(fits);
    expect(await h.ledger.getRun('run-1')).toBeUndefined();
  });

  it('accepts a dry run of 7,000 fromIds but refuses deleting them, whose state (58 batch descriptors more) could pass 256 KiB', async () => {
    // Act
    const dry = await h.handlers.acquireLock(
      executionEvent({ dryRun: true, settings: { fromIds: SEVEN_THOUSAND_IDS } }, 'run-dry'),
    );
    await h.handlers.releaseLock({ run: dry.run });
    const approved = acquireWith({ maxDeletionsPerRun: 10_000 })(
      executionEvent({ settings: { fromIds: SEVEN_THOUSAND_IDS } }, 'run-approved'),
    );

    // Assess
    expect(dry.acquired).toBe(true);
    await expect(approved).rejects.toThrow(/state could reach \d+ KiB .* past Step Functions' 256 KiB/);
    expect(await h.ledger.getRun('run-approved')).toBeUndefined();
  });
});
