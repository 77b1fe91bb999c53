/**
 * The run record of a step handed only a run id (the deletion Maps, ReleaseLock without a run):
 * its target and execution ARN say which account to act in and which lock fences it. Apart from
 * commons/target-clients.ts so that only the handlers that read a run are granted the read.
 */
import type { Ledger } from '../adapters/ledger/index.ts';
import type { RunRecord } from '../adapters/ledger/runs.ts';

/** The run a deletion step acts for is not in the ledger: its account cannot be known, nothing is done. */
export class RunNotRecordedError extends Error {
  override readonly name = 'RunNotRecordedError';
}

/** Read consistently, once per invocation; an unknown run fails closed. */
export async function recordedRun(ledger: Pick<Ledger, 'getRun'>, runId: string): Promise<RunRecord> {
  const run = await ledger.getRun(runId);
  if (run === undefined) throw new RunNotRecordedError(`run ${runId} is not in the ledger; nothing was done`);
  return run;
}
