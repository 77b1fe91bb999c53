/**
 * ReleaseLock: frees the run's lock (its account and region's, `lockKeyOf`) if this run holds it;
 * a lock held by another run is left alone.
 */
import type { Ledger } from './adapters/ledger/index.ts';
import { lazyHandler, ledgerFromEnv, regionFromEnv } from './commons/deps.ts';
import { classifyFailures } from './commons/errors.ts';
import { RUN_ID, requireRecord, requireString } from './commons/events.ts';
import { createLogger, type HandlerLogger, silentLogger } from './commons/logger.ts';
import { recordedRun } from './commons/recorded-run.ts';
import { lockKeyOf, type RunPlace, RunTargetError } from './core/run-target.ts';
import type { RunContext } from './core/workflow.ts';

export interface ReleaseLockEvent {
  /** `$.run`; with only `runId`, the lock key is read from the run's record. */
  readonly run: Pick<RunContext, 'runId'> & Partial<Pick<RunContext, 'executionArn' | 'target'>>;
}

export type ReleaseLockResult = Record<string, never>;

export interface ReleaseLockDeps {
  readonly ledger: Ledger;
  readonly region: string;
  readonly logger?: HandlerLogger;
}

export function createReleaseLockHandler(
  deps: ReleaseLockDeps,
): (event: ReleaseLockEvent) => Promise<ReleaseLockResult> {
  const logger = deps.logger ?? silentLogger;
  return classifyFailures('ReleaseLock', async (event) => {
    // The run id is what matters: the lock must be released even if the rest of `run` is unusable.
    const run = requireRecord(requireRecord(event, 'event').run, 'run');
    const runId = requireString(run, 'runId', RUN_ID);
    const lockKey = await lockKeyOfRun(deps, runId, run);
    const released = await deps.ledger.releaseLock(lockKey, runId);
    if (released) logger.info('lock released', { runId, lock: lockKey });
    else logger.warn('lock held by another run; left alone', { runId, lock: lockKey });
    return {};
  });
}

/**
 * The lock key of run `runId`: from the run as the state carries it, else (only a run id, or a
 * `run` whose place is unusable) from its record. The owner condition of the release means a
 * wrong key could only miss, never free another run's lock.
 */
export async function lockKeyOfRun(
  deps: Pick<ReleaseLockDeps, 'ledger' | 'region'>,
  runId: string,
  given: Readonly<Record<string, unknown>> = {},
): Promise<string> {
  try {
    return lockKeyOf(given as unknown as RunPlace, deps);
  } catch (error) {
    if (!(error instanceof RunTargetError)) throw error;
  }
  return lockKeyOf(await recordedRun(deps.ledger, runId), deps);
}

export const handler = lazyHandler(() =>
  createReleaseLockHandler({
    ledger: ledgerFromEnv(),
    region: regionFromEnv(),
    logger: createLogger('release-lock'),
  }),
);
