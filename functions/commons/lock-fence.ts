/**
 * Fencing: a deletion acts only while its run still holds its account and region's lock
 * (`lockKeyOf(run)`). A stopped execution's
 * Lambda can keep working after close-abandoned-run released the lock and another run took it;
 * checking the owner right before each DeregisterImage / DeleteSnapshot stops it there.
 */
import type { Ledger } from '../adapters/ledger/index.ts';

/** This run no longer holds its lock; nothing was deleted by the step that found out. */
export class LockLostError extends Error {
  override readonly name = 'LockLostError';
}

export async function assertHoldsLock(
  ledger: Pick<Ledger, 'getLock'>,
  lockKey: string,
  runId: string,
  now: Date,
): Promise<void> {
  const lock = await ledger.getLock(lockKey);
  const held =
    lock !== undefined && lock.owner === runId && lock.expiresAt > Math.floor(now.getTime() / 1000);
  if (!held) {
    throw new LockLostError(
      `run ${runId} no longer holds the ${lockKey} lock (${lock ? `held by ${lock.owner}` : 'released'}); not deleting`,
    );
  }
}
