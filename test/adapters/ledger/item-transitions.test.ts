import { beforeEach, describe, expect, it } from 'vitest';
import { ItemStore } from '../../../functions/adapters/ledger/items.ts';
import { RunStore } from '../../../functions/adapters/ledger/runs.ts';
import { runContext, smallPlan } from '../../helpers/ledger-fixtures.ts';
import { onDynalite } from './on-dynalite.ts';

const T0 = new Date('2026-05-01T10:00:00.000Z');

describe('ItemStore transitions on dynalite', () => {
  let runs: RunStore;
  let itemStore: ItemStore;

  onDynalite(T0, ({ options }) => {
    runs = new RunStore(options);
    itemStore = new ItemStore(options);
  });

  describe('transitions', () => {
    beforeEach(async () => {
      const run = runContext();
      await runs.putRun(run);
      await itemStore.recordPlan(run, smallPlan());
    });

    it('moves an item once; a repeat (a lost response retried) counts as done and changes nothing', async () => {
      // Prepare
      await itemStore.markAllApproved('run-1', 'a'.repeat(64));
      const options = {
        from: ['APPROVED' as const],
        to: 'DEREGISTERED' as const,
        planHash: 'a'.repeat(64),
        countAttempt: true,
        set: { deregisteredAt: '2026-05-01T11:00:00.000Z' },
      };

      // Act
      const first = await itemStore.transition('run-1', 'IMAGE', 'ami-0000000000000001', options);
      const second = await itemStore.transition('run-1', 'IMAGE', 'ami-0000000000000001', options);

      // Assess
      expect(first).toBe(true);
      expect(second).toBe(true);
      expect(
        await itemStore.transition('run-1', 'IMAGE', 'ami-0000000000000001', { ...options, to: 'DONE' }),
      ).toBe(false);
      expect(
        await itemStore.transition('run-1', 'IMAGE', 'ami-0000000000000001', {
          ...options,
          planHash: 'b'.repeat(64),
        }),
      ).toBe(false);
      expect(await itemStore.getItem('run-1', 'IMAGE', 'ami-0000000000000001')).toMatchObject({
        status: 'DEREGISTERED',
        attempts: 1,
        deregisteredAt: '2026-05-01T11:00:00.000Z',
      });
    });

    it('refuses a wrong from-status, a wrong plan hash and an unknown item', async () => {
      // Act
      const wrongFrom = await itemStore.transition('run-1', 'IMAGE', 'ami-0000000000000001', {
        from: ['APPROVED'],
        to: 'DEREGISTERED',
      });
      const wrongHash = await itemStore.transition('run-1', 'IMAGE', 'ami-0000000000000001', {
        from: ['PLANNED'],
        to: 'APPROVED',
        planHash: 'b'.repeat(64),
      });
      const unknown = await itemStore.transition('run-1', 'IMAGE', 'ami-0000000000000777', {
        from: ['PLANNED'],
        to: 'APPROVED',
      });

      // Assess
      expect([wrongFrom, wrongHash, unknown]).toEqual([false, false, false]);
      expect((await itemStore.getItem('run-1', 'IMAGE', 'ami-0000000000000001'))?.status).toBe('PLANNED');
      expect(await itemStore.getItem('run-1', 'IMAGE', 'ami-0000000000000777')).toBeUndefined();
    });

    it('records lastError and counts attempts', async () => {
      // Act
      await itemStore.transition('run-1', 'SNAPSHOT', 'snap-00000000000000ff', {
        from: ['PLANNED'],
        to: 'FAILED',
        error: 'InvalidSnapshot.InUse',
        countAttempt: true,
      });

      // Assess
      expect(await itemStore.getItem('run-1', 'SNAPSHOT', 'snap-00000000000000ff')).toMatchObject({
        status: 'FAILED',
        lastError: 'InvalidSnapshot.InUse',
        attempts: 1,
      });
    });

    it('refuses to overwrite key or status attributes through set', async () => {
      // Act
      const attempt = itemStore.transition('run-1', 'IMAGE', 'ami-0000000000000001', {
        from: ['PLANNED'],
        to: 'APPROVED',
        set: { planHash: 'b'.repeat(64) },
      });

      // Assess
      await expect(attempt).rejects.toThrow(RangeError);
      expect((await itemStore.getItem('run-1', 'IMAGE', 'ami-0000000000000001'))?.planHash).toBe(
        'a'.repeat(64),
      );
    });

    it('approves only PLANNED items of the approved plan', async () => {
      // Act
      const moved = await itemStore.markAllApproved('run-1', 'a'.repeat(64));
      const wrongPlan = await itemStore.markAllApproved('run-1', 'b'.repeat(64));

      // Assess
      expect(moved).toBe(4);
      expect(wrongPlan).toBe(0);
      const statuses = (await itemStore.listItems('run-1')).map((i) => i.status).sort();
      expect(statuses).toEqual(['APPROVED', 'APPROVED', 'APPROVED', 'APPROVED', 'KEPT', 'KEPT']);
    });

    it('finalizes every non-final item and leaves final ones alone', async () => {
      // Prepare
      await itemStore.markAllApproved('run-1', 'a'.repeat(64));
      await itemStore.transition('run-1', 'IMAGE', 'ami-0000000000000001', {
        from: ['APPROVED'],
        to: 'DEREGISTERED',
      });
      await itemStore.transition('run-1', 'IMAGE', 'ami-0000000000000002', {
        from: ['APPROVED'],
        to: 'DEREGISTERED',
      });
      await itemStore.transition('run-1', 'IMAGE', 'ami-0000000000000002', {
        from: ['DEREGISTERED'],
        to: 'DONE',
      });

      // Act
      const result = await itemStore.finalizeItems('run-1', 'COMPLETED');
      const again = await itemStore.finalizeItems('run-1', 'COMPLETED');

      // Assess
      expect(result.moved).toBe(3);
      expect(result.byStatus).toEqual({ DONE: 1, FAILED: 3, KEPT: 2 });
      expect(again).toEqual({ moved: 0, byStatus: { DONE: 1, FAILED: 3, KEPT: 2 } });
      expect((await itemStore.getItem('run-1', 'IMAGE', 'ami-0000000000000001'))?.lastError).toMatch(
        /snapshots/,
      );
    });

    it.each([
      ['REJECTED', 'REJECTED'],
      ['EXPIRED', 'EXPIRED'],
      ['DRY_RUN', 'DRY_RUN'],
      ['FAILED', 'FAILED'],
    ] as const)('finalizes PLANNED items of a %s run as %s', async (outcome, expected) => {
      // Act
      const result = await itemStore.finalizeItems('run-1', outcome);

      // Assess
      expect(result.byStatus).toEqual({ [expected]: 4, KEPT: 2 });
    });
  });
});
