/**
 * Declares one settings' half of the fault matrix as vitest tests: one test per generated row,
 * named `fault: <state> × <service> × <fault> × <position> × <settings>`, plus the checks that the
 * generation itself is sound (every Task state reached, the probes behave like the reference).
 */
import { describe, expect, it } from 'vitest';
import { FAULT_PREFIX } from '../hostile/count.ts';
import { generateMatrix, runCase, taskStateNames } from './matrix.ts';
import type { SettingsName } from './world.ts';

/** A case runs two workflows; on a loaded 2-core machine beside four others, 30 s is too tight. */
const CASE_TIMEOUT_MS = 120_000;

export async function defineFaultMatrix(settings: SettingsName): Promise<void> {
  const matrix = await generateMatrix(settings);

  describe(`fault matrix (${settings} settings)`, () => {
    it('the fault-free probe of each path ends as designed and leaves the lock free', () => {
      const [approved, refused, failed] = matrix.probes;
      expect(approved?.run.result.output).toMatchObject({ status: 'COMPLETED', failed: 0 });
      expect(matrix.reference.approvedImages.size).toBeGreaterThanOrEqual(10);
      expect(refused?.run.result.output).toMatchObject({
        status: 'COMPLETED_WITH_FAILURES',
        deregistered: 0,
      });
      expect(failed?.run.result.status).toBe('FAILED');
      expect(failed?.run.result.closed).toMatchObject({ outcome: 'already-final' });
    });

    it('every Task state of the definition is reached by some probe path', () => {
      const reached = new Set(matrix.probes.flatMap((p) => p.trace.map((call) => call.state)));
      const orphanOnly = settings === 'default' ? ['DeleteOrphan', 'RecordOrphanFailure'] : [];
      expect(taskStateNames().filter((s) => !reached.has(s) && !orphanOnly.includes(s))).toEqual([]);
      expect(matrix.unreached).toEqual(orphanOnly);
    });

    // Each case has its own world (account, ledger, page server) and mostly waits (SDK backoff,
    // the page's re-reads), so cases run side by side, up to vitest's maxConcurrency (5).
    for (const row of matrix.rows) {
      const name = `${FAULT_PREFIX} ${row.id}`;
      it.concurrent(
        `${name} (${row.position.detail}, path ${row.path.id})`,
        async ({ expect }) => {
          expect(await runCase(row, matrix.reference)).toEqual([]);
        },
        CASE_TIMEOUT_MS,
      );
    }
  });
}
