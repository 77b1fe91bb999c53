/** ReleaseLock: frees the region's lock if this run holds it; a lock held by another run is left alone. */
import type { Ledger } from './adapters/ledger/index.ts';
import { lazyHandler, ledgerFromEnv, regionFromEnv } from './commons/deps.ts';
import { classifyFailures } from './commons/errors.ts';
import { RUN_ID, requireRecord, requireString } from './commons/events.ts';
import { createLogger, type HandlerLogger, silentLogger } from './commons/logger.ts';
import type { RunContext } from './core/workflow.ts';

export interface ReleaseLockEvent {
  readonly run: Pick<RunContext, 'runId'>;
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
    // Only the run id is needed: the lock must be released even if the rest of `run` is unusable.
    const runId = requireString(requireRecord(requireRecord(event, 'event').run, 'run'), 'runId', RUN_ID);
    const released = await deps.ledger.releaseLock(deps.region, runId);
    if (released) logger.info('lock released', { runId, region: deps.region });
    else logger.warn('lock held by another run; left alone', { runId, region: deps.region });
    return {};
  });
}

export const handler = lazyHandler(() =>
  createReleaseLockHandler({
    ledger: ledgerFromEnv(),
    region: regionFromEnv(),
    logger: createLogger('release-lock'),
  }),
);
