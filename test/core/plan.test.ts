import { describe, expect, it } from 'vitest';
import { EXCLUDED_GROUP } from '../../functions/core/grouping.ts';
import type { Inventory, Plan } from '../../functions/core/model.ts';
import {
  assemblePlan,
  buildPlan,
  filterInUseStep,
  mapStep,
  orphanStep,
  planCandidates,
  rotateStep,
  sharingCheckStep,
} from '../../functions/core/plan.ts';
import { computePlanHash } from '../../functions/core/plan-hash.ts';
import type { PlanSettings } from '../../functions/core/settings.ts';
import { amiId, blogImages, image, inventory, NOW, settings, snapId, snapshot } from './fixtures.ts';

const plan = (
  inv: Inventory,
  s: PlanSettings,
  extra: { triggerImageId?: string; shared?: string[] } = {},
): Plan =>
  buildPlan({
    inventory: inv,
    settings: s,
    now: NOW,
    sharedImageIds: new Set(extra.shared ?? []),
    triggerImageId: extra.triggerImageId,
  });

const candidatesPerGroup = (p: Plan) => p.groups.map((g) => [g.name, g.candidates.length]);

describe('buildPlan reproduces the blog post', () => {
  const blog = inventory({ images: blogImages() });

  it('defaults: one candidate in each of the four groups, test-delete excluded', () => {
    // Act
    const p = plan(blog, settings());

    // Assess
    expect(candidatesPerGroup(p)).toEqual([
      ['back.dev', 1],
      ['back.prod', 1],
      ['dev.front', 1],
      ['front.prod', 1],
      [EXCLUDED_GROUP, 0],
    ]);
    expect(p.totals.candidates).toBe(4);
    // The oldest of each group goes: dev/front are AMIs 1..5, oldest is 1.
    expect(p.groups[2]?.candidates.map((c) => c.imageId)).toEqual([amiId(1)]);
    expect(p.groups[4]?.kept).toEqual([
      expect.objectContaining({ name: 'test-delete', reason: 'NO_MAPPING' }),
    ]);
  });

  it('keepPrevious 2: three per group, 12 in all', () => {
    // Act
    const p = plan(blog, settings({ keepPrevious: 2 }));

    // Assess
    expect(
      candidatesPerGroup(p)
        .slice(0, 4)
        .map(([, n]) => n),
    ).toEqual([3, 3, 3, 3]);
    expect(p.totals.candidates).toBe(12);
    expect(p.totals.kept).toBe(9);
  });

  it('keepPrevious 3: two per group, 8 in all', () => {
    // Act
    const p = plan(blog, settings({ keepPrevious: 3 }));

    // Assess
    expect(
      candidatesPerGroup(p)
        .slice(0, 4)
        .map(([, n]) => n),
    ).toEqual([2, 2, 2, 2]);
    expect(p.totals.candidates).toBe(8);
  });

  it('mapping by name "front" with keepPrevious 8: two candidates', () => {
    // Act
    const p = plan(blog, settings({ mappingKey: 'name', mappingValues: ['front'], keepPrevious: 8 }));

    // Assess
    expect(candidatesPerGroup(p)).toEqual([
      ['front', 2],
      [EXCLUDED_GROUP, 0],
    ]);
    // The two oldest front images overall, both dev/front, as in the blog's table.
    expect(p.groups[0]?.candidates.map((c) => c.imageId)).toEqual([amiId(2), amiId(1)]);
  });

  it('never makes test-delete a candidate, even with keepPrevious 0', () => {
    // Act
    const p = plan(blog, settings({ keepPrevious: 0 }));

    // Assess
    expect(p.totals.candidates).toBe(20);
    expect(planCandidates(p).some((c) => c.name === 'test-delete')).toBe(false);
  });
});

describe('buildPlan', () => {
  it('computes totals, counting a snapshot shared by two candidates once', () => {
    // Prepare
    const shared = { deviceName: '/dev/xvdb', snapshotId: 'snap-0shared', sizeGiB: 100 };
    const tags = { environment: 'dev', role: 'x' };
    const inv = inventory({
      images: [
        image({
          imageId: amiId(1),
          tags,
          snapshots: [{ deviceName: '/dev/xvda', snapshotId: snapId(1), sizeGiB: 8 }, shared],
        }),
        image({ imageId: amiId(2), tags, snapshots: [shared] }),
      ],
      snapshots: [
        snapshot({
          snapshotId: 'snap-0orphan',
          sizeGiB: 5,
          description: 'Created by CreateImage(i-0abc) for ami-0dead0001 from vol-1',
        }),
      ],
    });

    // Act
    const p = plan(inv, settings({ keepPrevious: 0, checkOrphans: true }));

    // Assess
    expect(p.totals).toEqual({
      candidates: 2,
      candidateSnapshots: 2,
      candidateSizeGiB: 108,
      orphanSnapshots: 1,
      orphanSizeGiB: 5,
      kept: 0,
    });
    expect(p.createdAt).toBe(NOW);
    expect(p.region).toBe('eu-west-1');
    expect(p.planHash).toBe(
      computePlanHash({
        region: 'eu-west-1',
        candidates: planCandidates(p),
        orphanSnapshots: p.orphanSnapshots,
      }),
    );
  });

  it('sweeps orphans only when checkOrphans is on', () => {
    // Prepare
    const inv = inventory({
      snapshots: [
        snapshot({
          snapshotId: 'snap-0orphan',
          description: 'Created by CreateImage(i-0abc) for ami-0dead0001 from vol-1',
        }),
      ],
    });

    // Act
    const off = plan(inv, settings());
    const on = plan(inv, settings({ checkOrphans: true }));

    // Assess
    expect(off.orphanSnapshots).toEqual([]);
    expect(on.orphanSnapshots.map((o) => o.snapshotId)).toEqual(['snap-0orphan']);
    expect(on.planHash).not.toBe(off.planHash);
  });

  it('restricts a triggered plan to the group of the trigger AMI', () => {
    // Prepare
    const inv = inventory({ images: blogImages() });

    // Act
    const p = plan(inv, settings({ keepPrevious: 1, checkOrphans: true }), { triggerImageId: amiId(12) });

    // Assess: AMI 12 is prod/front
    expect(candidatesPerGroup(p)).toEqual([['front.prod', 4]]);
    expect(p.orphanSnapshots).toEqual([]);
  });

  it('has no candidates when the trigger AMI is excluded or unknown', () => {
    // Prepare
    const inv = inventory({ images: blogImages() });

    // Act
    const excluded = plan(inv, settings({ keepPrevious: 0 }), { triggerImageId: 'ami-2bf48158' });
    const unknown = plan(inv, settings({ keepPrevious: 0 }), { triggerImageId: 'ami-0ffffffff' });

    // Assess
    expect(candidatesPerGroup(excluded)).toEqual([[EXCLUDED_GROUP, 0]]);
    expect(unknown.groups).toEqual([]);
    expect(unknown.totals.candidates).toBe(0);
  });

  it('plans --from-ids in one group, keeping everything not named', () => {
    // Prepare
    const inv = inventory({ images: blogImages() });

    // Act
    const p = plan(inv, settings({ fromIds: [amiId(5), amiId(6)] }));

    // Assess
    expect(p.groups).toHaveLength(1);
    expect(p.groups[0]?.name).toBe('from-ids');
    expect(p.groups[0]?.candidates.map((c) => c.imageId)).toEqual([amiId(6), amiId(5)]);
    expect(p.groups[0]?.kept.every((k) => k.reason === 'NOT_REQUESTED')).toBe(true);
    expect(p.totals.kept).toBe(19);
  });

  it('is the same whatever the order of the inventory', () => {
    // Prepare
    const images = blogImages();
    const inv = inventory({ images });

    // Act
    const a = plan(inv, settings({ keepPrevious: 2 }));
    const b = plan(inventory({ images: [...images].reverse() }), settings({ keepPrevious: 2 }));

    // Assess
    expect(b).toEqual(a);
  });
});

describe('workflow steps', () => {
  it('equal buildPlan when run in sequence through JSON, as the workspace stores them', () => {
    // Prepare: in-use, shared, excluded and orphan cases in one account
    const images = blogImages();
    const inv = inventory({
      images,
      instances: [{ instanceId: 'i-0001', imageId: amiId(2), state: 'running' }],
      snapshots: [
        snapshot({
          snapshotId: 'snap-0orphan',
          description: 'Created by CreateImage(i-0abc) for ami-0dead0001 from vol-1',
        }),
      ],
    });
    const s = settings({ keepPrevious: 1, checkOrphans: true });
    const json = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

    // Act
    const mapped = json(mapStep({ images: json(inv).images, settings: s }));
    const filtered = json(filterInUseStep({ inventory: json(inv), mapped }));
    const toCheck = sharingCheckStep({ filtered, settings: s, now: NOW });
    const sharedImageIds = toCheck.filter((id) => id === amiId(3));
    const groups = json(
      rotateStep({ filtered, settings: s, now: NOW, sharedImageIds, sharingCheckedIds: toCheck }),
    );
    const orphanSnapshots = orphanStep({ inventory: json(inv), settings: s });
    const stepped = assemblePlan({ region: inv.region, now: NOW, groups, orphanSnapshots });
    const whole = plan(inv, s, { shared: [amiId(3)] });

    // Assess
    expect(toCheck).toContain(amiId(3));
    expect(toCheck).not.toContain(amiId(2));
    expect(stepped).toEqual(whole);
    expect(whole.groups.find((g) => g.name === 'dev.front')?.kept.map((k) => k.reason)).toEqual([
      'KEEP_PREVIOUS',
      'SHARED',
      'IN_USE',
    ]);
  });
});

describe('the sharing check under a per-run limit', () => {
  /** 5 would-be candidates in two groups (keepPrevious 0), dates interleaved across the groups. */
  const fiveInTwoGroups = () =>
    inventory({
      images: [1, 2, 3, 4, 5].map((n) =>
        image({
          imageId: amiId(n),
          creationDate: `2024-01-0${n}T00:00:00.000Z`,
          tags: { environment: 'dev', role: n % 2 === 0 ? 'even' : 'odd' },
        }),
      ),
    });

  it('checks the 2 oldest, keeps the other 3 as MAX_DELETIONS_PER_RUN, and a checked shared one SHARED', () => {
    // Prepare
    const inv = fiveInTwoGroups();
    const s = settings({ keepPrevious: 0 });
    const filtered = filterInUseStep({
      inventory: inv,
      mapped: mapStep({ images: inv.images, settings: s }),
    });

    // Act
    const toCheck = sharingCheckStep({ filtered, settings: s, now: NOW, limit: 2 });
    const sharedImageIds = [amiId(2)];
    const groups = rotateStep({
      filtered,
      settings: s,
      now: NOW,
      sharedImageIds,
      sharingCheckedIds: toCheck,
      limit: 2,
    });
    const whole = buildPlan({
      inventory: inv,
      settings: s,
      now: NOW,
      sharedImageIds: new Set(sharedImageIds),
      maxDeletionsPerRun: 2,
    });

    // Assess
    expect(toCheck).toEqual([amiId(1), amiId(2)]);
    const stepped = assemblePlan({
      region: inv.region,
      now: NOW,
      groups,
      orphanSnapshots: [],
      images: inv.images,
      maxDeletionsPerRun: 2,
    });
    expect(planCandidates(stepped).map((c) => c.imageId)).toEqual([amiId(1)]);
    const kept = stepped.groups.flatMap((g) => g.kept).map((k) => [k.imageId, k.reason]);
    expect(kept.sort()).toEqual([
      [amiId(2), 'SHARED'],
      [amiId(3), 'MAX_DELETIONS_PER_RUN'],
      [amiId(4), 'MAX_DELETIONS_PER_RUN'],
      [amiId(5), 'MAX_DELETIONS_PER_RUN'],
    ]);
    expect(stepped.groups.flatMap((g) => g.kept).find((k) => k.imageId === amiId(5))?.detail).toBe(
      "over this run's limit of 2; planned again next run",
    );
    expect(whole).toEqual(stepped);
  });

  it('checks nothing and defers nothing when includeShared is on', () => {
    // Prepare
    const inv = fiveInTwoGroups();
    const s = settings({ keepPrevious: 0, includeShared: true });

    // Act
    const p = buildPlan({
      inventory: inv,
      settings: s,
      now: NOW,
      sharedImageIds: new Set(),
      maxDeletionsPerRun: 2,
    });
    const filtered = filterInUseStep({
      inventory: inv,
      mapped: mapStep({ images: inv.images, settings: s }),
    });
    const toCheck = sharingCheckStep({ filtered, settings: s, now: NOW, limit: 2 });

    // Assess
    expect(toCheck).toEqual([]);
    expect(p.totals.candidates).toBe(5);
    expect(p.groups.flatMap((g) => g.kept)).toEqual([]);
  });

  it('checks every would-be candidate without a limit, as buildPlan does by default', () => {
    // Prepare
    const inv = fiveInTwoGroups();
    const s = settings({ keepPrevious: 0 });

    // Act
    const p = buildPlan({ inventory: inv, settings: s, now: NOW, sharedImageIds: new Set() });

    // Assess
    expect(p.totals.candidates).toBe(5);
    expect(p.totals.kept).toBe(0);
  });
});
