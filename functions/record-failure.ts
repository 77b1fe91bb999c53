/**
 * RecordFailure (a deletion Map's Catch): records FAILED, with a short safe message, on the one
 * item whose step failed for good, so the Map goes on with the other items. An item already in a
 * final status is left as it is.
 */
import type { ItemKind, Ledger } from './adapters/ledger/index.ts';
import { lazyHandler, ledgerFromEnv } from './commons/deps.ts';
import { classifyFailures, failureMessage, InvalidEventError, type StateError } from './commons/errors.ts';
import { AMI_ID, PLAN_HASH, RUN_ID, requireRecord, requireString, SNAPSHOT_ID } from './commons/events.ts';
import { createLogger, type HandlerLogger, silentLogger } from './commons/logger.ts';
import type { ItemStatus } from './core/workflow.ts';

export type RecordFailureEvent = {
  readonly runId: string;
  readonly planHash?: string;
  /** What the Catch put in `$.error`. */
  readonly error: StateError;
} & (
  | { readonly imageId: string; readonly snapshotId?: undefined }
  | { readonly snapshotId: string; readonly imageId?: undefined }
);

export type RecordFailureResult = Record<string, never>;

export interface RecordFailureDeps {
  readonly ledger: Ledger;
  readonly logger?: HandlerLogger;
}

/** Every status an item can fail from (all non-final ones). */
const FAILABLE: readonly ItemStatus[] = ['PLANNED', 'APPROVED', 'DEREGISTERED'];

export function createRecordFailureHandler(
  deps: RecordFailureDeps,
): (event: RecordFailureEvent) => Promise<RecordFailureResult> {
  const logger = deps.logger ?? silentLogger;
  return classifyFailures('RecordFailure', async (event) => {
    const record = requireRecord(event, 'event');
    const runId = requireString(record, 'runId', RUN_ID);
    const planHash = record.planHash === undefined ? undefined : requireString(record, 'planHash', PLAN_HASH);
    const hasImage = record.imageId !== undefined;
    if (hasImage === (record.snapshotId !== undefined)) {
      throw new InvalidEventError('exactly one of imageId and snapshotId is required');
    }
    const kind: ItemKind = hasImage ? 'IMAGE' : 'SNAPSHOT';
    const id = hasImage
      ? requireString(record, 'imageId', AMI_ID)
      : requireString(record, 'snapshotId', SNAPSHOT_ID);
    const error = (
      typeof record.error === 'object' && record.error !== null ? record.error : {}
    ) as StateError;
    const message = failureMessage(error);
    const errorType = typeof error.Error === 'string' ? error.Error : 'UnknownError';

    const recorded = await deps.ledger.transition(runId, kind, id, {
      from: FAILABLE,
      to: 'FAILED',
      ...(planHash === undefined ? {} : { planHash }),
      error: message,
      set: { errorType },
    });
    if (recorded) logger.error('item failed', { runId, kind, id, errorType });
    else logger.warn('failure not recorded: item missing or already final', { runId, kind, id, errorType });
    return {};
  });
}

export const handler = lazyHandler(() =>
  createRecordFailureHandler({ ledger: ledgerFromEnv(), logger: createLogger('record-failure') }),
);
