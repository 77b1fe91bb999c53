import { describe, expect, it } from 'vitest';
import {
  consumerUseByImage,
  decideSharedImage,
  InvalidReferencesError,
  keepSharedInUse,
  parseTargetReferences,
  type SharedImageVerdict,
  type TargetReferences,
  targetReferencesOf,
} from '../../functions/core/cross-account-use.ts';
import type { PlanGroup } from '../../functions/core/model.ts';
import { filterInUseStep, mapStep, rotateStep, sharingCheckStep } from '../../functions/core/plan.ts';
import { amiId, inventory, NOW, series, settings } from './fixtures.ts';

const GOLDEN = '210987654321';
const A = '333333333333';
const B = '444444444444';

const doc = (accountId: string, images: Record<string, string[]>, region = 'eu-west-1'): TargetReferences =>
  targetReferencesOf(accountId, region, NOW, new Map(Object.entries(images)));

describe('targetReferencesOf / parseTargetReferences', () => {
  it('writes AMIs sorted, sources de-duplicated, unreferenced ones left out, and reads the same back', () => {
    // Prepare
    const written = doc(A, {
      [amiId(2)]: ['instance i-1 (running)', 'instance i-1 (running)'],
      [amiId(1)]: ['launch-template lt-1 v1 ($Default)'],
      [amiId(3)]: [],
    });

    // Act
    const read = parseTargetReferences(JSON.parse(JSON.stringify(written)), {
      accountId: A,
      region: 'eu-west-1',
    });

    // Assess
    expect(read.images).toEqual([
      { imageId: amiId(1), sources: ['launch-template lt-1 v1 ($Default)'] },
      { imageId: amiId(2), sources: ['instance i-1 (running)'] },
    ]);
  });

  it.each([
    ['another account', { ...doc(B, {}) }, 'written for account 444444444444'],
    ['another region', { ...doc(A, {}, 'us-east-1') }, 'written for region us-east-1'],
    [
      'an id that is not an AMI',
      { ...doc(A, {}), images: [{ imageId: '../x', sources: ['s'] }] },
      'not an AMI id',
    ],
    ['an AMI with no sources', { ...doc(A, {}), images: [{ imageId: amiId(1), sources: [] }] }, 'sources'],
    ['no images list', { ...doc(A, {}), images: undefined }, 'images is not a list'],
    ['a bad time', { ...doc(A, {}), readAt: 'yesterday' }, 'readAt'],
    ['not an object', ['x'], 'not an object'],
  ])('refuses a document for %s', (_what, value, message) => {
    // Act
    const act = () => parseTargetReferences(value, { accountId: A, region: 'eu-west-1' });

    // Assess
    expect(act).toThrow(InvalidReferencesError);
    expect(act).toThrow(message);
  });
});

describe('consumerUseByImage', () => {
  it('unions every consumer of the region, accounts sorted per AMI', () => {
    // Act
    const use = consumerUseByImage({ accountId: GOLDEN, region: 'eu-west-1' }, [
      doc(B, { [amiId(1)]: ['instance i-b'] }),
      doc(A, { [amiId(1)]: ['instance i-a'], [amiId(2)]: ['ssm-parameter /golden'] }),
    ]);

    // Assess
    expect(use.get(amiId(1))).toEqual([
      { accountId: A, sources: ['instance i-a'] },
      { accountId: B, sources: ['instance i-b'] },
    ]);
    expect(use.get(amiId(2))?.map((u) => u.accountId)).toEqual([A]);
    expect(use.has(amiId(3))).toBe(false);
  });

  it.each([
    ['of another region', [doc(A, {}, 'us-east-1')], 'not eu-west-1'],
    ['of the planned account itself', [doc(GOLDEN, {})], 'its own consumer'],
    ['given twice', [doc(A, {}), doc(A, {})], 'given twice'],
  ])('refuses a consumer %s', (_what, docs, message) => {
    expect(() => consumerUseByImage({ accountId: GOLDEN, region: 'eu-west-1' }, docs)).toThrow(message);
  });
});

describe('in use anywhere means in use (FilterInUse with consumers)', () => {
  it('keeps an AMI another account references as IN_USE_BY_ACCOUNT before rotation, without using a keepPrevious slot', () => {
    // Prepare: four AMIs of one group, the oldest used only in account A
    const images = series(4, 1, () => ({ tags: { environment: 'prod', role: 'web' } }));
    const inv = inventory({ images });
    const mapped = mapStep({ images, settings: settings({ keepPrevious: 1 }) });
    const consumerUse = consumerUseByImage({ accountId: GOLDEN, region: 'eu-west-1' }, [
      doc(A, { [amiId(4)]: ['instance i-a (running)'] }),
    ]);

    // Act
    const filtered = filterInUseStep({ inventory: inv, mapped, consumerUse });
    const s = settings({ keepPrevious: 1 });
    const groups = rotateStep({
      filtered,
      settings: s,
      now: NOW,
      sharedImageIds: [],
      sharingCheckedIds: sharingCheckStep({ filtered, settings: s, now: NOW }),
    });

    // Assess
    const group = groups[0] as PlanGroup;
    expect(group.candidates.map((c) => c.imageId)).toEqual([amiId(2), amiId(3)]);
    const kept = group.kept.find((k) => k.imageId === amiId(4));
    expect(kept?.reason).toBe('IN_USE_BY_ACCOUNT');
    expect(kept?.detail).toBe('account 333333333333: instance i-a (running)');
  });

  it('leaves the plan exactly as before when there are no consumers', () => {
    // Prepare
    const images = series(3, 1, () => ({ tags: { environment: 'prod', role: 'web' } }));
    const mapped = mapStep({ images, settings: settings() });

    // Act
    const without = filterInUseStep({ inventory: inventory({ images }), mapped });
    const empty = filterInUseStep({ inventory: inventory({ images }), mapped, consumerUse: new Map() });

    // Assess
    expect(empty).toEqual(without);
    expect(without).not.toHaveProperty('consumers');
  });

  it('keeps our own IN_USE reason, once, when both this account and another use it', () => {
    // Prepare
    const images = series(1, 1, () => ({ tags: { environment: 'prod', role: 'web' } }));
    const inv = inventory({
      images,
      instances: [{ instanceId: 'i-own', imageId: amiId(1), state: 'running' }],
    });
    const consumerUse = consumerUseByImage({ region: 'eu-west-1', accountId: GOLDEN }, [
      doc(A, { [amiId(1)]: ['instance i-a (running)'] }),
    ]);

    // Act
    const filtered = filterInUseStep({
      inventory: inv,
      mapped: mapStep({ images, settings: settings() }),
      consumerUse,
    });

    // Assess
    expect(filtered.groups[0]?.inUse.map((k) => [k.imageId, k.reason])).toEqual([[amiId(1), 'IN_USE']]);
  });
});

describe('decideSharedImage', () => {
  const available = (entries: { accountId: string; usageCount: number; imageId?: string }[] = []) => ({
    state: 'available' as const,
    entries: entries.map((e) => ({
      imageId: e.imageId ?? amiId(1),
      accountId: e.accountId,
      resourceType: 'ec2:Instance',
      usageCount: e.usageCount,
    })),
  });
  const evidence = (over: Partial<Parameters<typeof decideSharedImage>[0]> = {}) => ({
    imageId: amiId(1),
    usageReport: available(),
    consumerUse: [],
    unreadableConsumers: [],
    ...over,
  });

  it('says unused only when the report is ready, empty, and every consumer was read and names nothing', () => {
    expect(decideSharedImage(evidence())).toEqual({ unused: true });
    expect(
      decideSharedImage(evidence({ usageReport: available([{ accountId: A, usageCount: 0 }]) })),
    ).toEqual({
      unused: true,
    });
  });

  it.each<[string, Partial<Parameters<typeof decideSharedImage>[0]>, string, string]>([
    [
      'the usage report names an account',
      { usageReport: available([{ accountId: B, usageCount: 3 }]) },
      'IN_USE_BY_ACCOUNT',
      'usage report: account 444444444444 ec2:Instance x3',
    ],
    [
      'a consumer references it',
      { consumerUse: [{ accountId: A, sources: ['launch-template lt-1 v2 ($Default)'] }] },
      'IN_USE_BY_ACCOUNT',
      'account 333333333333: launch-template lt-1 v2 ($Default)',
    ],
    [
      'a consumer could not be read',
      { unreadableConsumers: [B, A] },
      'CONSUMER_UNREADABLE',
      '333333333333, 444444444444 could not be read',
    ],
    [
      'the report was not ready in time',
      { usageReport: { state: 'not-ready', detail: 'still pending after 180 s' } },
      'USAGE_REPORT_NOT_READY',
      'still pending after 180 s',
    ],
    [
      'the report failed',
      { usageReport: { state: 'error', detail: 'CreateImageUsageReport failed: UnauthorizedOperation' } },
      'USAGE_REPORT_FAILED',
      'UnauthorizedOperation',
    ],
  ])('keeps it when %s', (_what, over, reason, detail) => {
    const verdict = decideSharedImage(evidence(over)) as Extract<SharedImageVerdict, { unused: false }>;
    expect(verdict.unused).toBe(false);
    expect(verdict.reason).toBe(reason);
    expect(verdict.detail).toContain(detail);
  });

  it('does not count a report entry about another image as "nobody"', () => {
    // An entry for another AMI is ignored by the decision; the adapter already refuses such a report.
    const verdict = decideSharedImage(
      evidence({ usageReport: available([{ accountId: A, usageCount: 2, imageId: amiId(9) }]) }),
    );
    expect(verdict).toEqual({ unused: true });
  });
});

describe('keepSharedInUse', () => {
  const group = (): PlanGroup => ({
    name: 'g',
    candidates: [1, 2, 3].map((n) => ({
      imageId: amiId(n),
      name: `n${n}`,
      creationDate: `2024-01-0${n}T00:00:00.000Z`,
      group: 'g',
      snapshots: [],
    })),
    kept: [],
  });

  it('moves shared candidates with a keeping verdict, or with none at all, and leaves the others', () => {
    // Act
    const [result] = keepSharedInUse(
      [group()],
      new Set([amiId(1), amiId(2)]),
      new Map<string, SharedImageVerdict>([[amiId(1), { unused: true }]]),
    );

    // Assess
    expect(result?.candidates.map((c) => c.imageId)).toEqual([amiId(1), amiId(3)]);
    expect(result?.kept.map((k) => [k.imageId, k.reason])).toEqual([[amiId(2), 'USAGE_REPORT_FAILED']]);
  });
});
