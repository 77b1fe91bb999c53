import { describe, expect, it } from 'vitest';
import { computePlanHash, type PlanHashInput } from '../../functions/core/plan-hash.ts';

const BASE: PlanHashInput = {
  region: 'eu-west-1',
  candidates: [
    { imageId: 'ami-01', snapshots: [{ snapshotId: 'snap-a' }, { snapshotId: 'snap-b' }] },
    { imageId: 'ami-02', snapshots: [{ snapshotId: 'snap-c' }] },
  ],
  orphanSnapshots: [{ snapshotId: 'snap-x' }, { snapshotId: 'snap-y' }],
};

describe('computePlanHash', () => {
  it('is a sha256 hex digest, stable under any reordering', () => {
    // Prepare
    const reordered: PlanHashInput = {
      region: 'eu-west-1',
      candidates: [
        { imageId: 'ami-02', snapshots: [{ snapshotId: 'snap-c' }] },
        { imageId: 'ami-01', snapshots: [{ snapshotId: 'snap-b' }, { snapshotId: 'snap-a' }] },
      ],
      orphanSnapshots: [{ snapshotId: 'snap-y' }, { snapshotId: 'snap-x' }],
    };

    // Act
    const a = computePlanHash(BASE);
    const b = computePlanHash(reordered);

    // Assess
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(b).toBe(a);
  });

  it('changes when anything that would be deleted changes', () => {
    // Prepare
    const [first, second] = BASE.candidates;
    if (!first || !second) throw new Error('fixture');
    const variants: PlanHashInput[] = [
      { ...BASE, region: 'us-east-1' },
      { ...BASE, candidates: [first] },
      { ...BASE, candidates: [...BASE.candidates, { imageId: 'ami-03', snapshots: [] }] },
      { ...BASE, candidates: [{ ...first, snapshots: [{ snapshotId: 'snap-a' }] }, second] },
      // snap-b moved from ami-01 to ami-02
      {
        ...BASE,
        candidates: [
          { ...first, snapshots: [{ snapshotId: 'snap-a' }] },
          { ...second, snapshots: [{ snapshotId: 'snap-b' }, { snapshotId: 'snap-c' }] },
        ],
      },
      { ...BASE, orphanSnapshots: [{ snapshotId: 'snap-x' }] },
      { ...BASE, orphanSnapshots: [...BASE.orphanSnapshots, { snapshotId: 'snap-z' }] },
      // an orphan id turned into a candidate snapshot
      {
        ...BASE,
        candidates: [first, { ...second, snapshots: [{ snapshotId: 'snap-x' }] }],
        orphanSnapshots: [],
      },
    ];

    // Act
    const hashes = [BASE, ...variants].map(computePlanHash);

    // Assess
    expect(new Set(hashes).size).toBe(hashes.length);
  });
});
