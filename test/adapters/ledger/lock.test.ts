import { describe, expect, it } from 'vitest';
import { LockStore } from '../../../functions/adapters/ledger/lock.ts';
import { onDynalite } from './on-dynalite.ts';

const T0 = new Date('2026-05-01T10:00:00.000Z');

describe('LockStore on dynalite', () => {
  let lock: LockStore;

  onDynalite(T0, ({ options }) => {
    lock = new LockStore(options);
  });

  describe('lock', () => {
    it('refuses a second run while the first holds an unexpired lease', async () => {
      // Prepare
      await lock.acquireLock('eu-west-1', 'run-a', 600, T0);

      // Act
      const second = await lock.acquireLock('eu-west-1', 'run-b', 600, new Date(T0.getTime() + 599_000));

      // Assess
      expect(second).toBe(false);
      expect(await lock.getLock('eu-west-1')).toEqual({
        owner: 'run-a',
        expiresAt: T0.getTime() / 1000 + 600,
      });
    });

    it('is idempotent for the run that holds it and independent per region', async () => {
      // Prepare
      await lock.acquireLock('eu-west-1', 'run-a', 600, T0);

      // Act
      const again = await lock.acquireLock('eu-west-1', 'run-a', 600, T0);
      const otherRegion = await lock.acquireLock('us-east-1', 'run-b', 600, T0);

      // Assess
      expect(again).toBe(true);
      expect(otherRegion).toBe(true);
    });

    it('lets another run take over once the lease has expired', async () => {
      // Prepare
      await lock.acquireLock('eu-west-1', 'run-a', 600, T0);

      // Act
      const taken = await lock.acquireLock('eu-west-1', 'run-b', 600, new Date(T0.getTime() + 601_000));

      // Assess
      expect(taken).toBe(true);
      expect((await lock.getLock('eu-west-1'))?.owner).toBe('run-b');
    });

    it('refuses release by a non-owner and tolerates a repeated release by the owner', async () => {
      // Prepare
      await lock.acquireLock('eu-west-1', 'run-a', 600, T0);

      // Act
      const byOther = await lock.releaseLock('eu-west-1', 'run-b');
      const stillHeld = await lock.getLock('eu-west-1');
      const byOwner = await lock.releaseLock('eu-west-1', 'run-a');
      const again = await lock.releaseLock('eu-west-1', 'run-a');

      // Assess
      expect(byOther).toBe(false);
      expect(stillHeld?.owner).toBe('run-a');
      expect(byOwner).toBe(true);
      expect(again).toBe(true);
      expect(await lock.getLock('eu-west-1')).toBeUndefined();
      expect(await lock.acquireLock('eu-west-1', 'run-b', 600, T0)).toBe(true);
    });
  });
});
