/** Small literal runs and plans for the ledger, approval and request-approval tests. */
import type { Plan, PlanCandidate } from '../../functions/core/model.ts';
import { DEFAULT_PLAN_SETTINGS } from '../../functions/core/settings.ts';
import type { RunContext } from '../../functions/core/workflow.ts';

export function runContext(overrides: Partial<RunContext> = {}): RunContext {
  return {
    runId: 'run-1',
    executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:ami-cleaner:run-1',
    trigger: 'manual',
    dryRun: false,
    settings: DEFAULT_PLAN_SETTINGS,
    startedAt: '2026-05-01T10:00:00.000Z',
    maxDeletionsPerRun: 100,
    ...overrides,
  };
}

export function candidate(imageId: string, creationDate: string, group = 'front.prod'): PlanCandidate {
  return {
    imageId,
    name: `${group}-${imageId}`,
    creationDate,
    group,
    snapshots: [
      { snapshotId: `snap-${imageId.slice(4)}a`, sizeGiB: 8 },
      { snapshotId: `snap-${imageId.slice(4)}b`, sizeGiB: 2 },
    ],
  };
}

/** Two groups: three candidates, two kept AMIs, one orphan snapshot. */
export function smallPlan(overrides: Partial<Plan> = {}): Plan {
  return {
    planHash: 'a'.repeat(64),
    region: 'eu-west-1',
    createdAt: '2026-05-01T10:01:00.000Z',
    groups: [
      {
        name: 'front.prod',
        candidates: [
          candidate('ami-0000000000000003', '2026-03-03T00:00:00.000Z'),
          candidate('ami-0000000000000001', '2026-03-01T00:00:00.000Z'),
        ],
        kept: [
          {
            imageId: 'ami-0000000000000009',
            name: 'front.prod-9',
            creationDate: '2026-04-09T00:00:00.000Z',
            group: 'front.prod',
            reason: 'KEEP_PREVIOUS',
          },
          {
            imageId: 'ami-0000000000000008',
            name: 'front.prod-8 <b>',
            creationDate: '2026-04-08T00:00:00.000Z',
            group: 'front.prod',
            reason: 'IN_USE',
            detail: 'instance i-0123 (stopped)',
          },
        ],
      },
      {
        name: 'dev.back',
        candidates: [candidate('ami-0000000000000002', '2026-03-02T00:00:00.000Z', 'dev.back')],
        kept: [],
      },
    ],
    orphanSnapshots: [
      {
        snapshotId: 'snap-00000000000000ff',
        imageId: 'ami-00000000000000ee',
        sizeGiB: 30,
        description: 'Created by CreateImage(i-0abc) for ami-00000000000000ee',
      },
    ],
    totals: {
      candidates: 3,
      candidateSnapshots: 6,
      candidateSizeGiB: 30,
      orphanSnapshots: 1,
      orphanSizeGiB: 30,
      kept: 2,
    },
    ...overrides,
  };
}
