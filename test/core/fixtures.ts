/** Small builders for the core's plain data. Ids are hex so they pass the settings validator. */
import type { Image, Inventory, Snapshot } from '../../functions/core/model.ts';
import { DEFAULT_PLAN_SETTINGS, type PlanSettings } from '../../functions/core/settings.ts';

export const NOW = '2024-06-01T00:00:00.000Z';

/** `ami-` followed by `n` as 8 hex digits. */
export const amiId = (n: number): string => `ami-${n.toString(16).padStart(8, '0')}`;
export const snapId = (n: number): string => `snap-${n.toString(16).padStart(8, '0')}`;

export function image(overrides: Partial<Image> & Pick<Image, 'imageId'>): Image {
  return {
    name: overrides.imageId,
    creationDate: '2024-01-01T00:00:00.000Z',
    state: 'available',
    tags: {},
    snapshots: [],
    isPublic: false,
    deregistrationProtection: false,
    ...overrides,
  };
}

/** `count` images of one group, newest first by index: `ids[0]` is the newest. */
export function series(
  count: number,
  first: number,
  make: (i: number) => Partial<Image> = () => ({}),
): Image[] {
  return Array.from({ length: count }, (_, i) =>
    image({
      imageId: amiId(first + i),
      creationDate: new Date(Date.UTC(2024, 0, 20 - i)).toISOString(),
      ...make(i),
    }),
  );
}

export function snapshot(overrides: Partial<Snapshot> & Pick<Snapshot, 'snapshotId'>): Snapshot {
  return {
    sizeGiB: 8,
    description: '',
    state: 'completed',
    startTime: '2024-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export function inventory(overrides: Partial<Inventory> = {}): Inventory {
  return {
    region: 'eu-west-1',
    readAt: NOW,
    images: [],
    snapshots: [],
    instances: [],
    launchTemplates: [],
    launchTemplateVersions: [],
    launchConfigurations: [],
    autoScalingGroups: [],
    ssmParameters: [],
    imageBuilderRecipes: [],
    ...overrides,
  };
}

export function settings(overrides: Partial<PlanSettings> = {}): PlanSettings {
  return { ...DEFAULT_PLAN_SETTINGS, ...overrides };
}

/**
 * The blog post's account: 20 AMIs tagged environment in {dev, prod} x role in {front, back},
 * five per pair with distinct creation dates, plus the untagged `test-delete` from 2016.
 */
export function blogImages(): Image[] {
  const images: Image[] = [];
  let n = 1;
  for (const environment of ['dev', 'prod']) {
    for (const role of ['front', 'back']) {
      for (let i = 0; i < 5; i++) {
        images.push(
          image({
            imageId: amiId(n),
            name: `${role}-${n.toString(16).padStart(7, '0')}`,
            creationDate: new Date(Date.UTC(2017, 5, 15, 9, n)).toISOString(),
            tags: { environment, role },
            snapshots: [{ deviceName: '/dev/xvda', snapshotId: snapId(n), sizeGiB: 8 }],
          }),
        );
        n += 1;
      }
    }
  }
  images.push(
    image({ imageId: 'ami-2bf48158', name: 'test-delete', creationDate: '2016-08-16T17:40:15.000Z' }),
  );
  return images;
}
