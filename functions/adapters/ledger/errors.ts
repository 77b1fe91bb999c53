/** The ledger's named errors; callers and the state machine's Retry/Catch match on `name`. */

/** BatchWriteItem left items unprocessed after every retry; the plan is not fully recorded. */
export class LedgerWriteError extends Error {
  override readonly name = 'LedgerWriteError';
}

/** A different plan was already recorded for this run, or the run is unknown. */
export class PlanConflictError extends Error {
  override readonly name = 'PlanConflictError';
}

/** Finalize could not settle every item (they kept changing under it). */
export class LedgerFinalizeError extends Error {
  override readonly name = 'LedgerFinalizeError';
}
