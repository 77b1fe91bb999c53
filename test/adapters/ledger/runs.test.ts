import { describe, expect, it } from 'vitest';
import { RunStore } from '../../../functions/adapters/ledger/runs.ts';
import { runContext } from '../../helpers/ledger-fixtures.ts';
import { onDynalite } from './on-dynalite.ts';

const T0 = new Date('2026-05-01T10:00:00.000Z');

describe('RunStore on dynalite', () => {
  let runs: RunStore;

  onDynalite(T0, ({ options }) => {
    runs = new RunStore(options);
  });

  describe('runs', () => {
    it('stores the run context and lists runs newest first through the GSI', async () => {
      // Prepare
      await runs.putRun(runContext({ runId: 'r-old', startedAt: '2026-05-01T08:00:00.000Z' }));
      await runs.putRun(runContext({ runId: 'r-new', startedAt: '2026-05-01T12:00:00.000Z' }));
      await runs.putRun(runContext({ runId: 'r-mid', startedAt: '2026-05-01T10:00:00.000Z' }));

      // Act
      const all = await runs.listRuns({ limit: 10 });
      const two = await runs.listRuns({ limit: 2 });

      // Assess
      expect(all.map((r) => r.runId)).toEqual(['r-new', 'r-mid', 'r-old']);
      expect(two.map((r) => r.runId)).toEqual(['r-new', 'r-mid']);
      expect(all[0]).toMatchObject({ status: 'RUNNING', trigger: 'manual', maxDeletionsPerRun: 100 });
      expect(all[0]).not.toHaveProperty('pk');
    });

    it('updates a run only from the given statuses and never creates one', async () => {
      // Prepare
      await runs.putRun(runContext());

      // Act
      const wrongFrom = await runs.updateRun(
        'run-1',
        { status: 'DELETING' },
        { from: ['AWAITING_APPROVAL'] },
      );
      const rightFrom = await runs.updateRun('run-1', { status: 'AWAITING_APPROVAL' }, { from: ['RUNNING'] });
      const unknown = await runs.updateRun('nope', { status: 'FAILED' });

      // Assess
      expect(wrongFrom).toBe(false);
      expect(rightFrom).toBe(true);
      expect(unknown).toBe(false);
      expect((await runs.getRun('run-1'))?.status).toBe('AWAITING_APPROVAL');
      expect(await runs.getRun('nope')).toBeUndefined();
    });
  });
});
