/**
 * Ready-made account contents: the blog post's example (what `npm start` shows first), a rich
 * scenario with one AMI per way of being in use or protected, and generated accounts of any size
 * for benchmarks. Every id is derived from the account's seed, so output is reproducible.
 */
import type { SimulatedAccount } from './account.ts';
import { SeededRandom } from './ids.ts';

export interface SeededImage {
  readonly imageId: string;
  readonly name: string;
  readonly creationDate: string;
  /** The tag-mapping group (`environment` + `role`, values sorted and joined with `.`), or `no-tags (excluded)`. */
  readonly group: string;
  readonly snapshotIds: readonly string[];
}

export interface BlogScenario {
  /** All 21 AMIs, in creation order. */
  readonly images: readonly SeededImage[];
  /** The 20 tagged AMIs by group (`back.dev`, `back.prod`, `dev.front`, `front.prod`), newest first. */
  readonly byGroup: Readonly<Record<string, readonly SeededImage[]>>;
  /** `test-delete`, the untagged AMI of 2016-08-16. */
  readonly untagged: SeededImage;
}

const NO_TAGS_GROUP = 'no-tags (excluded)';

function groupOf(tags: Readonly<Record<string, string>>): string {
  const values = ['environment', 'role'].map((key) => tags[key]);
  if (values.some((value) => value === undefined)) return NO_TAGS_GROUP;
  return (values as string[]).sort().join('.');
}

function seedImage(
  account: SimulatedAccount,
  name: string,
  creationDate: string,
  tags: Readonly<Record<string, string>>,
  volumes: readonly number[],
  extra: Partial<Parameters<SimulatedAccount['addImage']>[0]> = {},
): SeededImage {
  const image = account.addImage({ name, creationDate, tags, volumes, ...extra });
  return {
    imageId: image.imageId,
    name,
    creationDate: image.creationDate,
    group: groupOf(tags),
    snapshotIds: image.blockDeviceMappings.map((device) => device.snapshotId),
  };
}

/**
 * The blog's five images per (environment, role) pair. The first two of each pair carry the names
 * and times the blog prints (its `--keep-previous 3` candidates); the other three follow a minute
 * apart. Front images have one 8 GiB snapshot, back images a root and a 20 GiB data snapshot.
 */
const BLOG_IMAGES: readonly { environment: string; role: string; images: readonly [string, string][] }[] = [
  {
    environment: 'dev',
    role: 'front',
    images: [
      ['front-a3c56c4', '2017-06-15T09:55:42.000Z'],
      ['front-ff5eac7', '2017-06-15T09:56:43.000Z'],
      ['front-1c8e9a2', '2017-06-15T09:57:44.000Z'],
      ['front-7d04b5e', '2017-06-15T09:58:45.000Z'],
      ['front-e96f3d1', '2017-06-15T09:59:46.000Z'],
    ],
  },
  {
    environment: 'prod',
    role: 'front',
    images: [
      ['front-31d05d8', '2017-06-15T10:05:39.000Z'],
      ['front-a4b33c9', '2017-06-15T10:06:42.000Z'],
      ['front-5b7c2e0', '2017-06-15T10:07:43.000Z'],
      ['front-c0d9f18', '2017-06-15T10:08:44.000Z'],
      ['front-8a2e6b3', '2017-06-15T10:09:45.000Z'],
    ],
  },
  {
    environment: 'dev',
    role: 'back',
    images: [
      ['back-d358afc', '2017-06-15T11:46:56.000Z'],
      ['back-285244c', '2017-06-15T11:47:57.000Z'],
      ['back-4e1a7c9', '2017-06-15T11:48:58.000Z'],
      ['back-b90f3d2', '2017-06-15T11:49:59.000Z'],
      ['back-06c8e5a', '2017-06-15T11:51:00.000Z'],
    ],
  },
  {
    environment: 'prod',
    role: 'back',
    images: [
      ['back-c58de50', '2017-06-15T11:52:05.000Z'],
      ['back-579c0f6', '2017-06-15T11:53:07.000Z'],
      ['back-9f2b4d1', '2017-06-15T11:54:08.000Z'],
      ['back-e3a07c6', '2017-06-15T11:55:09.000Z'],
      ['back-2d6f8b0', '2017-06-15T11:56:10.000Z'],
    ],
  },
];

/**
 * Exactly the blog post's account: 20 AMIs tagged environment ∈ {dev, prod} × role ∈ {front,
 * back}, five per pair, plus the untagged `test-delete`. No instances, groups or templates.
 * `now` is accepted for a uniform seed signature; the blog's dates are fixed.
 */
export function blogScenario(
  account: SimulatedAccount,
  _options: { readonly now?: Date } = {},
): BlogScenario {
  const images: SeededImage[] = [];
  const byGroup: Record<string, SeededImage[]> = {};
  const untagged = seedImage(account, 'test-delete', '2016-08-16T17:40:15.000Z', {}, [8]);
  images.push(untagged);
  for (const pair of BLOG_IMAGES) {
    const tags = { environment: pair.environment, role: pair.role };
    for (const [name, creationDate] of pair.images) {
      const image = seedImage(account, name, creationDate, tags, pair.role === 'front' ? [8] : [8, 20]);
      images.push(image);
      const group = byGroup[image.group] ?? [];
      group.unshift(image);
      byGroup[image.group] = group;
    }
  }
  return { images, byGroup, untagged };
}

export interface RichScenario {
  readonly blog: BlogScenario;
  /** The SSM path the scenario's parameter lives under; configure it as `ssmParameterPaths`. */
  readonly ssmParameterPath: string;
  /** One AMI per special case. All are older than every blog AMI of their group, so only their
   * special case keeps them: without it, each would be a candidate at keep-previous 4. */
  readonly images: {
    /** Used by a stopped instance. */
    readonly stoppedInstance: string;
    /** Used only by a terminated instance: NOT in use, still a candidate. */
    readonly terminatedInstanceOnly: string;
    /** Launch template `web` version 2, its `$Default`. */
    readonly launchTemplateDefault: string;
    /** Launch template `web` version 3, its `$Latest` (also the `batch` group's mixed-instances base). */
    readonly launchTemplateLatest: string;
    /** Launch template `web` version 1, neither default nor latest, named by group `web-canary`. */
    readonly asgLaunchTemplateVersion: string;
    /** Launch template `batch-arm` version 1 (not default/latest), named only by a MixedInstancesPolicy override. */
    readonly mixedInstancesOverride: string;
    /** Launch configuration `legacy-lc`, attached to no group. */
    readonly detachedLaunchConfiguration: string;
    /** Launch configuration `worker-lc` of group `worker`, desired capacity 0. */
    readonly asgZeroCapacity: string;
    /** SSM parameter `/amicleaner/golden-ami`. */
    readonly ssmParameter: string;
    /** Parent image of the Image Builder image recipe `back-hardened`. */
    readonly imageRecipeParent: string;
    /** Tagged `amicleaner:keep`; also maps the shared snapshot. */
    readonly optOutTag: string;
    /** Deregistration protection `enabled-without-cooldown`. */
    readonly deregistrationProtection: string;
    /** Launch permission for account 210987654321. */
    readonly sharedWithAccount: string;
    /** A candidate whose second snapshot the opt-out AMI also maps. */
    readonly sharedSnapshotCandidate: string;
  };
  readonly snapshots: {
    /** `Created by CreateImage(...) for ami-… from vol-…`, naming an AMI that no longer exists. */
    readonly orphanCreateImage: string;
    /** `Copied for DestinationAmi ami-… from SourceAmi ami-…`, naming an AMI that no longer exists. */
    readonly orphanCopyImage: string;
    /** Mapped by `sharedSnapshotCandidate` and `optOutTag`: must survive the candidate's deletion. */
    readonly sharedByTwoImages: string;
  };
  readonly instances: { readonly stopped: string; readonly terminated: string };
  readonly launchTemplates: { readonly web: string; readonly batchArm: string };
  /** Images referenced from somewhere (never deregistered). */
  readonly inUseImageIds: readonly string[];
  /** Images kept by opt-out tag, deregistration protection or sharing. */
  readonly protectedImageIds: readonly string[];
  /** Candidates with default settings (keep-previous 4, tags environment+role, min age 0). */
  readonly candidateImageIds: readonly string[];
}

/**
 * The blog account plus one AMI for every way an AMI can be in use or protected, two orphan
 * snapshots and a snapshot shared by two AMIs. See `RichScenario` for what each id is.
 */
export function richScenario(account: SimulatedAccount, options: { readonly now?: Date } = {}): RichScenario {
  const now = options.now ?? new Date('2025-01-15T12:00:00.000Z');
  const daysAgo = (days: number) => new Date(now.getTime() - days * 86_400_000);
  const blog = blogScenario(account, { now });
  const tags = (environment: string, role: string) => ({ environment, role });
  let day = 1;
  // Older than every blog image (2017-06-15), one day apart, so each would rotate out at keep 4.
  const old = () => `2017-06-${String(day++).padStart(2, '0')}T08:00:00.000Z`;

  const stoppedInstance = seedImage(account, 'front-0a1b2c3', old(), tags('dev', 'front'), [8]);
  const terminatedInstanceOnly = seedImage(account, 'front-0d4e5f6', old(), tags('dev', 'front'), [8]);
  const launchTemplateDefault = seedImage(account, 'front-1a2b3c4', old(), tags('prod', 'front'), [8]);
  const launchTemplateLatest = seedImage(account, 'front-1d2e3f4', old(), tags('prod', 'front'), [8]);
  const asgLaunchTemplateVersion = seedImage(account, 'back-2a3b4c5', old(), tags('dev', 'back'), [8, 20]);
  const mixedInstancesOverride = seedImage(account, 'back-2d3e4f5', old(), tags('prod', 'back'), [8, 20]);
  const detachedLaunchConfiguration = seedImage(
    account,
    'back-3a4b5c6',
    old(),
    tags('prod', 'back'),
    [8, 20],
  );
  const asgZeroCapacity = seedImage(account, 'front-3d4e5f6', old(), tags('dev', 'front'), [8]);
  const ssmParameter = seedImage(account, 'front-4a5b6c7', old(), tags('prod', 'front'), [8]);
  const imageRecipeParent = seedImage(account, 'back-6a7b8c9', old(), tags('prod', 'back'), [8]);
  const sharedSnapshotCandidate = seedImage(account, 'back-5a6b7c8', old(), tags('dev', 'back'), [8, 20]);
  const sharedSnapshot = sharedSnapshotCandidate.snapshotIds[1] as string;
  const optOutTag = seedImage(
    account,
    'back-4d5e6f7',
    old(),
    { ...tags('dev', 'back'), 'amicleaner:keep': 'true' },
    [8],
    {
      existingSnapshots: [{ snapshotId: sharedSnapshot }],
    },
  );
  const deregistrationProtection = seedImage(account, 'back-5d6e7f8', old(), tags('prod', 'back'), [8, 20], {
    deregistrationProtection: 'enabled-without-cooldown',
  });
  const sharedWithAccount = seedImage(account, 'front-6a7b8c9', old(), tags('dev', 'front'), [8], {
    launchPermissions: [{ userId: '210987654321' }],
  });

  const stopped = account.addInstance({
    imageId: stoppedInstance.imageId,
    state: 'stopped',
    launchTime: daysAgo(400),
    tags: { Name: 'front-debug' },
  });
  const terminated = account.addInstance({
    imageId: terminatedInstanceOnly.imageId,
    state: 'terminated',
    launchTime: daysAgo(2),
    tags: { Name: 'front-old' },
  });

  const web = account.addLaunchTemplate({
    name: 'web',
    createTime: daysAgo(300),
    versions: [
      { imageId: asgLaunchTemplateVersion.imageId, instanceType: 't3.small', description: 'canary' },
      { imageId: launchTemplateDefault.imageId, instanceType: 't3.small', description: 'stable' },
      { imageId: launchTemplateLatest.imageId, instanceType: 't3.small', description: 'next' },
    ],
    defaultVersion: 2,
  });
  const batchArm = account.addLaunchTemplate({
    name: 'batch-arm',
    createTime: daysAgo(200),
    // Version 2 sets no AMI, so version 1's AMI is referenced only through the override.
    versions: [
      { imageId: mixedInstancesOverride.imageId, instanceType: 'c7g.large' },
      { instanceType: 'c7g.xlarge' },
    ],
    defaultVersion: 2,
  });
  account.addAutoScalingGroup({
    name: 'web-canary',
    desiredCapacity: 1,
    launchTemplate: { launchTemplateName: 'web', version: '1' },
    createdTime: daysAgo(250),
  });
  account.addAutoScalingGroup({
    name: 'batch',
    desiredCapacity: 2,
    mixedInstancesPolicy: {
      launchTemplate: { launchTemplateId: web.launchTemplateId, version: '$Latest' },
      overrides: [
        { instanceType: 'c6i.large' },
        {
          instanceType: 'c7g.large',
          launchTemplate: { launchTemplateId: batchArm.launchTemplateId, version: '1' },
        },
      ],
    },
    createdTime: daysAgo(180),
  });
  account.addLaunchConfiguration({
    name: 'legacy-lc',
    imageId: detachedLaunchConfiguration.imageId,
    createdTime: daysAgo(900),
  });
  account.addLaunchConfiguration({
    name: 'worker-lc',
    imageId: asgZeroCapacity.imageId,
    createdTime: daysAgo(800),
  });
  account.addAutoScalingGroup({
    name: 'worker',
    desiredCapacity: 0,
    launchConfigurationName: 'worker-lc',
    createdTime: daysAgo(800),
  });
  account.putParameter('/amicleaner/golden-ami', ssmParameter.imageId, { at: daysAgo(100) });
  // An Image Builder pipeline's recipe builds on this AMI: deleting it would stop the pipeline.
  account.imageBuilder.addImageRecipe({
    name: 'back-hardened',
    version: '2.1.0',
    parentImage: imageRecipeParent.imageId,
    dateCreated: daysAgo(60),
  });

  const gone = () => account.ids.next('ami');
  const orphanCreateImage = account.addSnapshot({
    sizeGiB: 8,
    startTime: '2017-05-02T08:00:00.000Z',
    description: `Created by CreateImage(${account.ids.next('i')}) for ${gone()} from ${account.ids.next('vol')}`,
  });
  const orphanCopyImage = account.addSnapshot({
    sizeGiB: 30,
    startTime: '2017-05-03T08:00:00.000Z',
    description: `Copied for DestinationAmi ${gone()} from SourceAmi ${gone()} for SourceSnapshot ${account.ids.next('snap')}. Task created on 1,493,798,400,000.`,
  });

  const oldestBlog = Object.values(blog.byGroup).map(
    (group) => (group[group.length - 1] as SeededImage).imageId,
  );
  return {
    blog,
    ssmParameterPath: '/amicleaner',
    images: {
      stoppedInstance: stoppedInstance.imageId,
      terminatedInstanceOnly: terminatedInstanceOnly.imageId,
      launchTemplateDefault: launchTemplateDefault.imageId,
      launchTemplateLatest: launchTemplateLatest.imageId,
      asgLaunchTemplateVersion: asgLaunchTemplateVersion.imageId,
      mixedInstancesOverride: mixedInstancesOverride.imageId,
      detachedLaunchConfiguration: detachedLaunchConfiguration.imageId,
      asgZeroCapacity: asgZeroCapacity.imageId,
      ssmParameter: ssmParameter.imageId,
      imageRecipeParent: imageRecipeParent.imageId,
      optOutTag: optOutTag.imageId,
      deregistrationProtection: deregistrationProtection.imageId,
      sharedWithAccount: sharedWithAccount.imageId,
      sharedSnapshotCandidate: sharedSnapshotCandidate.imageId,
    },
    snapshots: {
      orphanCreateImage: orphanCreateImage.snapshotId,
      orphanCopyImage: orphanCopyImage.snapshotId,
      sharedByTwoImages: sharedSnapshot,
    },
    instances: { stopped: stopped.instanceId, terminated: terminated.instanceId },
    launchTemplates: { web: web.launchTemplateId, batchArm: batchArm.launchTemplateId },
    inUseImageIds: [
      stoppedInstance.imageId,
      launchTemplateDefault.imageId,
      launchTemplateLatest.imageId,
      asgLaunchTemplateVersion.imageId,
      mixedInstancesOverride.imageId,
      detachedLaunchConfiguration.imageId,
      asgZeroCapacity.imageId,
      ssmParameter.imageId,
      imageRecipeParent.imageId,
    ],
    protectedImageIds: [optOutTag.imageId, deregistrationProtection.imageId, sharedWithAccount.imageId],
    candidateImageIds: [...oldestBlog, terminatedInstanceOnly.imageId, sharedSnapshotCandidate.imageId],
  };
}

export interface GeneratedScenarioOptions {
  /** Number of AMIs. */
  readonly images: number;
  /** Number of tag groups (environment × service); images are spread evenly over them. */
  readonly groups: number;
  /** The newest image is 10 minutes before `now`; each older one 10 minutes earlier. */
  readonly now: Date;
  /** Seeds names and sizes (ids come from the account's own seed). Default `generated`. */
  readonly seed?: string;
  /**
   * Share of AMIs with a second, data volume (default 0.3, about 1.3 snapshots an AMI). 0 gives
   * one snapshot an AMI, so DeregisterImage, not DeleteSnapshot, is the binding bucket.
   */
  readonly dataVolumeShare?: number;
}

export interface GeneratedScenario {
  /** Group names (`<environment>.svc-NNNN`). */
  readonly groups: readonly string[];
  readonly imageCount: number;
  readonly snapshotCount: number;
  /** One per group: its template's `$Default`, an image in the middle of the group. */
  readonly inUseImageIds: readonly string[];
  /** One CreateImage orphan per 200 images. */
  readonly orphanSnapshotIds: readonly string[];
}

const ENVIRONMENTS = ['dev', 'prod', 'staging'];

/**
 * An account of any size for benchmarks: `images` AMIs over `groups` tag groups, 1–2 snapshots
 * each, one launch template per group (its `$Default` is the group's middle image), and orphan
 * snapshots. Linear time: 100,000 images take about a second.
 */
export function generatedScenario(
  account: SimulatedAccount,
  options: GeneratedScenarioOptions,
): GeneratedScenario {
  const random = new SeededRandom(`generated:${options.seed ?? 'generated'}`);
  const groupCount = Math.max(1, options.groups);
  const groupTags = Array.from({ length: groupCount }, (_, i) => ({
    environment: ENVIRONMENTS[i % ENVIRONMENTS.length] as string,
    role: `svc-${String(i).padStart(4, '0')}`,
  }));
  const imagesByGroup: string[][] = groupTags.map(() => []);
  const nowMs = options.now.getTime();
  let snapshotCount = 0;
  const dataVolumeShare = options.dataVolumeShare ?? 0.3;
  for (let i = 0; i < options.images; i++) {
    const groupIndex = i % groupCount;
    const tags = groupTags[groupIndex] as { environment: string; role: string };
    const volumes = random.next() < dataVolumeShare ? [8, 10 * random.int(1, 10)] : [8];
    snapshotCount += volumes.length;
    const image = account.addImage({
      name: `${tags.role}-${random.hex(7)}`,
      creationDate: new Date(nowMs - (options.images - i) * 600_000),
      tags,
      volumes,
    });
    (imagesByGroup[groupIndex] as string[]).push(image.imageId);
  }
  const inUseImageIds: string[] = [];
  imagesByGroup.forEach((imageIds, groupIndex) => {
    const middle = imageIds[Math.floor(imageIds.length / 2)];
    if (middle === undefined) return;
    inUseImageIds.push(middle);
    account.addLaunchTemplate({
      name: `${(groupTags[groupIndex] as { role: string }).role}-lt`,
      createTime: options.now,
      versions: [{ imageId: middle, instanceType: 't3.micro' }],
    });
  });
  const orphanSnapshotIds: string[] = [];
  for (let i = 0; i < Math.floor(options.images / 200); i++) {
    const snapshot = account.addSnapshot({
      sizeGiB: 8,
      startTime: new Date(nowMs - (options.images + i) * 600_000),
      description: `Created by CreateImage(${account.ids.next('i')}) for ${account.ids.next('ami')} from ${account.ids.next('vol')}`,
    });
    orphanSnapshotIds.push(snapshot.snapshotId);
  }
  return {
    groups: groupTags.map((tags) => groupOf(tags)),
    imageCount: options.images,
    snapshotCount: snapshotCount + orphanSnapshotIds.length,
    inUseImageIds,
    orphanSnapshotIds,
  };
}
