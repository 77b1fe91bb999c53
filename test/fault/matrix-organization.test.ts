/**
 * The fault matrix of the organization workflow (statemachine/organization.asl.json and its
 * target children) on the simulated organization. See organization-matrix.ts.
 */
import { describe, expect, it } from 'vitest';
import { FAULT_PREFIX } from '../hostile/count.ts';
import {
  generateOrganizationMatrix,
  ORGANIZATION_PATHS,
  organizationStateNames,
  runOrganizationCase,
} from './organization-matrix.ts';

/** A case runs two organization runs (six targets each) on a loaded 2-core machine. */
const CASE_TIMEOUT_MS = 180_000;

const matrix = await generateOrganizationMatrix();

describe('fault matrix (organization workflow)', () => {
  it('the fault-free probe of each path ends as designed and leaves every lock free', async () => {
    const [approved, unrecorded] = matrix.probes;
    expect(approved?.run).toMatchObject({ status: 'SUCCEEDED', verdict: 'approved', closeErrors: [] });
    const approvedImages = [...matrix.reference.byTarget.values()].reduce(
      (n, t) => n + t.approvedImages.size,
      0,
    );
    expect(approvedImages).toBeGreaterThanOrEqual(10);
    // More than one target deletes, so a fault in one target's child meets others that delete.
    const deleting = [...matrix.reference.byTarget.values()].filter((t) => t.approvedImages.size > 0);
    expect(deleting.length).toBeGreaterThan(1);
    expect(unrecorded?.path).toBe(ORGANIZATION_PATHS[1]);
    // RequestApproval fails: every awaiting target is closed, the run ends FAILED and is closed.
    expect(unrecorded?.run).toMatchObject({ status: 'FAILED', verdict: 'not-asked', closeErrors: [] });
    expect(unrecorded?.trace.some((c) => c.state === 'CloseTarget')).toBe(true);
  });

  it('every Lambda Task state and child start of the organization workflow is reached', () => {
    const { lambda, childStarts } = organizationStateNames();
    expect(lambda).toContain('ResumeToDelete');
    expect(childStarts).toEqual(['PlanTarget', 'DeleteTarget', 'CloseTarget']);
    expect(matrix.unreached).toEqual([]);
  });

  for (const row of matrix.rows) {
    it.concurrent(
      `${FAULT_PREFIX} ${row.id} (${row.detail}, path ${row.path.id})`,
      async ({ expect }) => {
        expect(await runOrganizationCase(row, matrix.reference)).toEqual([]);
      },
      CASE_TIMEOUT_MS,
    );
  }
});
