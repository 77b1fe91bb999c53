import { describe, expect, it } from 'vitest';
import type { Image, KeptImage } from '../../functions/core/model.ts';
import {
  type RotationContext,
  rotateGroup,
  sharingCheckImageIds,
  splitInUse,
} from '../../functions/core/rotation.ts';
import { amiId, image, NOW, series, settings } from './fixtures.ts';

/** Every id these tests use: by default, every AMI's launch permissions were read (no limit). */
const ALL_IDS = Array.from({ length: 32 }, (_, n) => amiId(n));

const ctx = (
  overrides: Partial<Parameters<typeof settings>[0]> = {},
  shared: string[] = [],
  checked: readonly string[] = ALL_IDS,
): RotationContext => ({
  settings: settings({ keepPrevious: 0, ...overrides }),
  now: NOW,
  sharedImageIds: new Set(shared),
  sharingCheckedIds: new Set(checked),
});

const reasons = (kept: readonly KeptImage[]) => kept.map((k) => [k.imageId, k.reason]);

describe('rotateGroup', () => {
  it('keeps the newest keepPrevious and returns the rest newest first, whatever the input order', () => {
    // Prepare
    const images = series(5, 1);

    // Act
    const result = rotateGroup({ name: 'g', images: [...images].reverse() }, ctx({ keepPrevious: 2 }));

    // Assess
    expect(result.candidates.map((c) => c.imageId)).toEqual([amiId(3), amiId(4), amiId(5)]);
    expect(reasons(result.kept)).toEqual([
      [amiId(1), 'KEEP_PREVIOUS'],
      [amiId(2), 'KEEP_PREVIOUS'],
    ]);
  });

  it('breaks creation-date ties by image id', () => {
    // Prepare
    const date = '2024-01-01T00:00:00.000Z';
    const images = [
      image({ imageId: amiId(9), creationDate: date }),
      image({ imageId: amiId(8), creationDate: date }),
    ];

    // Act
    const result = rotateGroup({ name: 'g', images }, ctx({ keepPrevious: 1 }));

    // Assess
    expect(result.kept.map((k) => k.imageId)).toEqual([amiId(8)]);
    expect(result.candidates.map((c) => c.imageId)).toEqual([amiId(9)]);
  });

  it('does not let in-use or unavailable images use up keepPrevious slots', () => {
    // Prepare
    const images = series(4, 1, (i) => (i === 1 ? { state: 'pending' } : {}));
    const refs = new Map([
      [amiId(1), [{ imageId: amiId(1), kind: 'instance' as const, source: 'instance i-1 (running)' }]],
    ]);
    const { remaining, inUse } = splitInUse('g', images, refs);

    // Act
    const result = rotateGroup({ name: 'g', images: remaining, inUse }, ctx({ keepPrevious: 1 }));

    // Assess
    expect(reasons(result.kept)).toEqual([
      [amiId(1), 'IN_USE'],
      [amiId(2), 'NOT_AVAILABLE'],
      [amiId(3), 'KEEP_PREVIOUS'],
    ]);
    expect(result.kept[0]?.detail).toBe('instance i-1 (running)');
    expect(result.kept[1]?.detail).toBe('state pending');
    expect(result.candidates.map((c) => c.imageId)).toEqual([amiId(4)]);
  });

  it('joins every in-use source with "; "', () => {
    // Prepare
    const images = series(1, 1);
    const refs = new Map([
      [
        amiId(1),
        [
          { imageId: amiId(1), kind: 'instance' as const, source: 'instance i-1 (stopped)' },
          { imageId: amiId(1), kind: 'ssm-parameter' as const, source: 'ssm-parameter /golden/ami' },
        ],
      ],
    ]);

    // Act
    const { remaining, inUse } = splitInUse('g', images, refs);

    // Assess
    expect(remaining).toEqual([]);
    expect(inUse).toEqual([
      expect.objectContaining({
        reason: 'IN_USE',
        detail: 'instance i-1 (stopped); ssm-parameter /golden/ami',
      }),
    ]);
  });

  it('keeps AMIs younger than minAgeDays, relative to now', () => {
    // Prepare: NOW is 2024-06-01
    const images = [
      image({ imageId: amiId(1), creationDate: '2024-05-30T00:00:00.000Z' }),
      image({ imageId: amiId(2), creationDate: '2024-05-25T00:00:00.000Z' }),
    ];

    // Act
    const result = rotateGroup({ name: 'g', images }, ctx({ minAgeDays: 7 }));

    // Assess
    expect(reasons(result.kept)).toEqual([[amiId(1), 'MIN_AGE']]);
    expect(result.kept[0]?.detail).toBe('age 2.0 days, minimum 7');
    expect(result.candidates.map((c) => c.imageId)).toEqual([amiId(2)]);
  });

  it('keeps AMIs carrying the opt-out tag, whatever its value', () => {
    // Prepare
    const images = series(2, 1, (i) => (i === 1 ? { tags: { 'amicleaner:keep': '' } } : {}));

    // Act
    const result = rotateGroup({ name: 'g', images }, ctx());

    // Assess
    expect(reasons(result.kept)).toEqual([[amiId(2), 'OPT_OUT_TAG']]);
    expect(result.candidates.map((c) => c.imageId)).toEqual([amiId(1)]);
  });

  it('keeps AMIs with deregistration protection', () => {
    // Prepare
    const images = series(2, 1, (i) => ({ deregistrationProtection: i === 0 }));

    // Act
    const result = rotateGroup({ name: 'g', images }, ctx());

    // Assess
    expect(reasons(result.kept)).toEqual([[amiId(1), 'DEREGISTRATION_PROTECTION']]);
  });

  it('keeps public and shared AMIs unless includeShared', () => {
    // Prepare
    const images = series(3, 1, (i) => ({ isPublic: i === 0 }));

    // Act
    const kept = rotateGroup({ name: 'g', images }, ctx({}, [amiId(2)]));
    const included = rotateGroup({ name: 'g', images }, ctx({ includeShared: true }, [amiId(2)]));

    // Assess
    expect(kept.kept.map((k) => [k.imageId, k.reason, k.detail])).toEqual([
      [amiId(1), 'SHARED', 'public'],
      [amiId(2), 'SHARED', 'shared with other accounts'],
    ]);
    expect(kept.candidates.map((c) => c.imageId)).toEqual([amiId(3)]);
    expect(included.candidates).toHaveLength(3);
  });

  it('carries each candidate snapshot with its size', () => {
    // Prepare
    const images: Image[] = [
      image({
        imageId: amiId(1),
        snapshots: [{ deviceName: '/dev/xvda', snapshotId: 'snap-01', sizeGiB: 30 }],
      }),
    ];

    // Act
    const result = rotateGroup({ name: 'g', images }, ctx());

    // Assess
    expect(result.candidates).toEqual([
      {
        imageId: amiId(1),
        name: amiId(1),
        creationDate: '2024-01-01T00:00:00.000Z',
        group: 'g',
        snapshots: [{ snapshotId: 'snap-01', sizeGiB: 30 }],
      },
    ]);
  });

  it('refuses an invalid now rather than treating every AMI as old', () => {
    // Prepare
    const images = series(1, 1);

    // Act
    const act = () => rotateGroup({ name: 'g', images }, { ...ctx({ minAgeDays: 1 }), now: 'yesterday' });

    // Assess
    expect(act).toThrow(RangeError);
  });
});

describe('rotateGroup with fromIds', () => {
  it('makes only the named AMIs candidates, ignoring keepPrevious and minAgeDays for them', () => {
    // Prepare
    const images = series(4, 1);

    // Act
    const result = rotateGroup(
      { name: 'from-ids', images },
      ctx({ fromIds: [amiId(1), amiId(2)], keepPrevious: 4, minAgeDays: 10_000 }),
    );

    // Assess
    expect(result.candidates.map((c) => c.imageId)).toEqual([amiId(1), amiId(2)]);
    expect(reasons(result.kept)).toEqual([
      [amiId(3), 'NOT_REQUESTED'],
      [amiId(4), 'NOT_REQUESTED'],
    ]);
  });

  it('still protects named AMIs that are unavailable, opted out, protected or shared', () => {
    // Prepare
    const variants: Partial<Image>[] = [
      { state: 'failed' },
      { tags: { 'amicleaner:keep': 'yes' } },
      { deregistrationProtection: true },
      { isPublic: true },
      {},
    ];
    const images = series(5, 1, (i) => variants[i] ?? {});
    const named = images.map((i) => i.imageId);

    // Act
    const result = rotateGroup({ name: 'from-ids', images }, ctx({ fromIds: named }));

    // Assess
    expect(reasons(result.kept)).toEqual([
      [amiId(1), 'NOT_AVAILABLE'],
      [amiId(2), 'OPT_OUT_TAG'],
      [amiId(3), 'DEREGISTRATION_PROTECTION'],
      [amiId(4), 'SHARED'],
    ]);
    expect(result.candidates.map((c) => c.imageId)).toEqual([amiId(5)]);
  });
});

describe('sharingCheckImageIds', () => {
  it('lists the would-be candidates that are not public, and none when includeShared', () => {
    // Prepare
    const groups = [
      { name: 'a', images: series(3, 1, (i) => ({ isPublic: i === 2 })) },
      { name: 'b', images: series(2, 10, (i) => ({ deregistrationProtection: i === 1 })) },
    ];
    const base = { now: NOW };

    // Act
    const ids = sharingCheckImageIds(groups, { ...base, settings: settings({ keepPrevious: 1 }) });
    const none = sharingCheckImageIds(groups, {
      ...base,
      settings: settings({ keepPrevious: 1, includeShared: true }),
    });

    // Assess
    expect(ids).toEqual([amiId(2)]);
    expect(none).toEqual([]);
  });
});

describe('sharingCheckImageIds with a limit', () => {
  it('lists at most limit would-be candidates, oldest first across groups, public ones not counted', () => {
    // Prepare: a is 2024-01-20..16 (ids 1..5), b is 2024-01-20..18 (ids 10..12); 1 public in b
    const groups = [
      { name: 'a', images: series(5, 1) },
      { name: 'b', images: series(3, 10, (i) => ({ isPublic: i === 2 })) },
    ];
    const base = { now: NOW, settings: settings({ keepPrevious: 1 }) };

    // Act
    const two = sharingCheckImageIds(groups, base, 2);
    const none = sharingCheckImageIds(groups, base, 0);
    const all = sharingCheckImageIds(groups, base);

    // Assess: would-be candidates are 2..5 (a) and 11 (b); 12 is public
    expect(two).toEqual([amiId(5), amiId(4)]);
    expect(none).toEqual([]);
    expect(all).toEqual([amiId(5), amiId(4), amiId(3), amiId(2), amiId(11)]);
  });

  it('breaks creation-date ties by image id, as the ledger defers', () => {
    // Prepare
    const date = '2024-01-01T00:00:00.000Z';
    const groups = [
      { name: 'a', images: [image({ imageId: amiId(9), creationDate: date })] },
      { name: 'b', images: [image({ imageId: amiId(8), creationDate: date })] },
    ];

    // Act
    const ids = sharingCheckImageIds(groups, { now: NOW, settings: settings({ keepPrevious: 0 }) }, 1);

    // Assess
    expect(ids).toEqual([amiId(8)]);
  });

  it('refuses a limit that is not a whole number >= 0', () => {
    // Prepare
    const groups = [{ name: 'a', images: series(2, 1) }];

    // Act
    const act = () => sharingCheckImageIds(groups, { now: NOW, settings: settings() }, -1);

    // Assess
    expect(act).toThrow(RangeError);
  });
});

describe('rotateGroup with launch permissions not read', () => {
  it('keeps an unchecked would-be candidate as MAX_DELETIONS_PER_RUN, never a candidate', () => {
    // Prepare: 1 public (needs no check), 2 checked, 3 checked and shared, 4 and 5 not checked
    const images = series(5, 1, (i) => ({ isPublic: i === 0 }));
    const c = { ...ctx({}, [amiId(3)], [amiId(2), amiId(3)]), maxDeletionsPerRun: 2 };

    // Act
    const result = rotateGroup({ name: 'g', images }, c);

    // Assess
    expect(result.candidates.map((i) => i.imageId)).toEqual([amiId(2)]);
    expect(result.kept.map((k) => [k.imageId, k.reason, k.detail])).toEqual([
      [amiId(1), 'SHARED', 'public'],
      [amiId(3), 'SHARED', 'shared with other accounts'],
      [amiId(4), 'MAX_DELETIONS_PER_RUN', "over this run's limit of 2; planned again next run"],
      [amiId(5), 'MAX_DELETIONS_PER_RUN', "over this run's limit of 2; planned again next run"],
    ]);
  });

  it('defers nothing when includeShared is on (no check is needed)', () => {
    // Prepare
    const images = series(3, 1);

    // Act
    const result = rotateGroup({ name: 'g', images }, ctx({ includeShared: true }, [], []));

    // Assess
    expect(result.candidates).toHaveLength(3);
    expect(result.kept).toEqual([]);
  });
});
