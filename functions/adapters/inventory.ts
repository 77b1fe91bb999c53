/**
 * Reads everything the planning core needs, every page of every API, and fails closed: any error,
 * repeated page token, page limit or malformed item raises `InventoryReadError`, and no partial
 * `Inventory` is ever returned.
 *
 * Every read goes through the SDK's paginators at the largest page size and with server-side
 * filters, so calls land in EC2's cheaper bucket for filtered/paginated describes.
 */
import {
  type LaunchTemplateSpecification as AsgLaunchTemplateSpecification,
  type AutoScalingClient,
  type AutoScalingGroup,
  type LaunchConfiguration,
  paginateDescribeAutoScalingGroups,
  paginateDescribeLaunchConfigurations,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeImageAttributeCommand,
  type EC2Client,
  type Image as Ec2Image,
  type Instance as Ec2Instance,
  type Snapshot as Ec2Snapshot,
  type LaunchTemplate,
  type LaunchTemplateVersion,
  paginateDescribeImages,
  paginateDescribeInstances,
  paginateDescribeLaunchTemplates,
  paginateDescribeLaunchTemplateVersions,
  paginateDescribeSnapshots,
  type Tag,
} from '@aws-sdk/client-ec2';
import {
  GetContainerRecipeCommand,
  type ImagebuilderClient,
  paginateListContainerRecipes,
  paginateListImageRecipes,
} from '@aws-sdk/client-imagebuilder';
import { paginateGetParametersByPath, type SSMClient } from '@aws-sdk/client-ssm';
import type {
  AutoScalingGroupRecord,
  Image,
  ImageBuilderRecipeRecord,
  ImageSnapshot,
  InstanceRecord,
  Inventory,
  LaunchConfigurationRecord,
  LaunchTemplateRecord,
  LaunchTemplateSpec,
  LaunchTemplateVersionRecord,
  Snapshot,
  SsmParameterRecord,
} from '../core/model.ts';
import { mapWithConcurrency } from './concurrency.ts';
import { InventoryReadError } from './errors.ts';

// Largest page size each API accepts.
export const PAGE_SIZE = {
  describeImages: 1000,
  describeSnapshots: 1000,
  describeInstances: 1000,
  describeLaunchTemplates: 200,
  describeLaunchTemplateVersions: 200,
  describeLaunchConfigurations: 100,
  describeAutoScalingGroups: 100,
  getParametersByPath: 10,
  listImageRecipes: 25,
  listContainerRecipes: 25,
} as const;

/**
 * Recipe owners read: the account's own, and those other accounts shared with it (which can build
 * on an AMI this account shares). Amazon, Marketplace and third-party recipes cannot name our AMIs.
 */
export const RECIPE_OWNERS = ['Self', 'Shared'] as const;

/**
 * Sanity bound per read: 10,000 pages is 10 million images at 1,000 a page. Reaching it means a
 * misbehaving API (or paginator), and an unbounded read would only end at the Lambda timeout.
 */
export const DEFAULT_MAX_PAGES = 10_000;

/** States an instance can still launch from or be started in: everything but terminated. */
export const LIVE_INSTANCE_STATES = ['pending', 'running', 'shutting-down', 'stopping', 'stopped'] as const;

/** Descriptions EC2 gives the snapshots it creates for CreateImage and CopyImage. */
export const AMI_SNAPSHOT_DESCRIPTIONS = ['Created by CreateImage*', 'Copied for DestinationAmi*'] as const;

/** Bounded fan-out for per-item calls of other buckets (per-template version reads, container recipes). */
export const PER_ITEM_CONCURRENCY = 8;

/**
 * In-flight cap for the per-AMI describes of planning (DescribeImageAttribute,
 * DescribeImageReferences), which draw on EC2's describe bucket (100 burst, 20 a second): 20 in
 * flight keeps up with the refill at any latency under a second and spends the burst in a few
 * round trips; beyond that, the SDK's adaptive retry slows the client down instead of failing.
 * `bench/planning.ts` prints the measured time beside the refill-rate minimum.
 */
export const DESCRIBE_CONCURRENCY = 20;

const AMI_ID_IN_TEXT = /\bami-[0-9a-f]{8,17}\b/g;
const SSM_ALIAS_PREFIX = 'resolve:ssm:';

export interface InventoryClients {
  readonly ec2: EC2Client;
  readonly autoScaling: AutoScalingClient;
  readonly ssm: SSMClient;
  readonly imageBuilder: ImagebuilderClient;
}

export interface ReadInventoryOptions {
  readonly region: string;
  /** SSM paths read recursively for parameters that hold AMI ids. */
  readonly ssmParameterPaths: readonly string[];
  /** Read owned CreateImage/CopyImage snapshots (needed for the orphan sweep). */
  readonly includeSnapshots: boolean;
  /** Read the owned AMIs. Off only for a re-read of the reference sources. Default true. */
  readonly includeImages?: boolean;
  /** Clock for `readAt`, taken when the reads finished. Defaults to the system clock. */
  readonly now?: () => Date;
  /** Per-read page bound; defaults to {@link DEFAULT_MAX_PAGES}. */
  readonly maxPages?: number;
}

// ---------------------------------------------------------------------------------------------
// Paging and concurrency helpers (also used by image-actions.ts)
// ---------------------------------------------------------------------------------------------

/**
 * Drains a paginator, failing closed. The SDK paginator loops forever on a repeating token (unless
 * told to stop silently, which would truncate the read), so tokens are checked here.
 */
export async function readAllPages<Page extends { NextToken?: string | undefined } | { nextToken?: string }>(
  source: string,
  pages: AsyncIterable<Page>,
  maxPages: number = DEFAULT_MAX_PAGES,
): Promise<Page[]> {
  const read: Page[] = [];
  const seenTokens = new Set<string>();
  try {
    for await (const page of pages) {
      read.push(page);
      // EC2, Auto Scaling and SSM say NextToken; Image Builder (REST-JSON) says nextToken.
      const token = 'NextToken' in page ? page.NextToken : 'nextToken' in page ? page.nextToken : undefined;
      if (!token) continue; // the paginator stops after a page without a token
      if (seenTokens.has(token)) {
        throw new InventoryReadError(source, `page ${read.length} repeated a NextToken`, 'RepeatedPageToken');
      }
      seenTokens.add(token);
      if (read.length >= maxPages) {
        throw new InventoryReadError(source, `more than ${maxPages} pages`, 'PageLimitExceeded');
      }
    }
  } catch (err) {
    throw err instanceof InventoryReadError ? err : new InventoryReadError(source, err);
  }
  return read;
}

function required<T>(source: string, value: T | null | undefined, field: string, of?: string): T {
  if (value === undefined || value === null) {
    throw new InventoryReadError(
      source,
      `response item lacks ${field}${of === undefined ? '' : ` (${of})`}`,
      'MalformedResponse',
    );
  }
  return value;
}

function toTagRecord(tags: readonly Tag[] | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  for (const tag of tags ?? []) {
    if (tag.Key !== undefined) record[tag.Key] = tag.Value ?? '';
  }
  return record;
}

// ---------------------------------------------------------------------------------------------
// Mappers: SDK shapes to the plain model. A missing required field is an error, never a skip.
// ---------------------------------------------------------------------------------------------

export function toImage(image: Ec2Image, source = 'DescribeImages'): Image {
  const imageId = required(source, image.ImageId, 'ImageId');
  const snapshots: ImageSnapshot[] = [];
  for (const mapping of image.BlockDeviceMappings ?? []) {
    // Instance-store mappings and empty EBS volumes have no snapshot behind them.
    const snapshotId = mapping.Ebs?.SnapshotId;
    if (snapshotId === undefined) continue;
    snapshots.push({
      deviceName: required(source, mapping.DeviceName, 'BlockDeviceMappings[].DeviceName', imageId),
      snapshotId,
      sizeGiB: required(source, mapping.Ebs?.VolumeSize, 'BlockDeviceMappings[].Ebs.VolumeSize', imageId),
    });
  }
  return {
    imageId,
    name: required(source, image.Name, 'Name', imageId),
    creationDate: required(source, image.CreationDate, 'CreationDate', imageId),
    state: required(source, image.State, 'State', imageId),
    tags: toTagRecord(image.Tags),
    snapshots,
    isPublic: image.Public === true,
    // Any value but `disabled` (with or without cooldown, or one EC2 adds later) protects the image.
    deregistrationProtection:
      image.DeregistrationProtection !== undefined && image.DeregistrationProtection !== 'disabled',
  };
}

function toSnapshot(snapshot: Ec2Snapshot): Snapshot {
  const source = 'DescribeSnapshots';
  const snapshotId = required(source, snapshot.SnapshotId, 'SnapshotId');
  return {
    snapshotId,
    sizeGiB: required(source, snapshot.VolumeSize, 'VolumeSize', snapshotId),
    description: required(source, snapshot.Description, 'Description', snapshotId),
    state: required(source, snapshot.State, 'State', snapshotId),
    startTime: required(source, snapshot.StartTime, 'StartTime', snapshotId).toISOString(),
  };
}

export function toInstance(instance: Ec2Instance, source = 'DescribeInstances'): InstanceRecord {
  const instanceId = required(source, instance.InstanceId, 'InstanceId');
  return {
    instanceId,
    imageId: required(source, instance.ImageId, 'ImageId', instanceId),
    state: required(source, instance.State?.Name, 'State.Name', instanceId),
  };
}

function toLaunchTemplate(template: LaunchTemplate): LaunchTemplateRecord {
  const source = 'DescribeLaunchTemplates';
  const launchTemplateId = required(source, template.LaunchTemplateId, 'LaunchTemplateId');
  return {
    launchTemplateId,
    launchTemplateName: required(source, template.LaunchTemplateName, 'LaunchTemplateName', launchTemplateId),
    defaultVersion: required(source, template.DefaultVersionNumber, 'DefaultVersionNumber', launchTemplateId),
    latestVersion: required(source, template.LatestVersionNumber, 'LatestVersionNumber', launchTemplateId),
  };
}

export function toLaunchTemplateVersion(
  version: LaunchTemplateVersion,
  source = 'DescribeLaunchTemplateVersions',
): LaunchTemplateVersionRecord {
  const launchTemplateId = required(source, version.LaunchTemplateId, 'LaunchTemplateId');
  const versionNumber = required(source, version.VersionNumber, 'VersionNumber', launchTemplateId);
  const imageId = version.LaunchTemplateData?.ImageId;
  // ResolveAlias was asked for; an alias left unresolved hides which AMI the template launches.
  if (imageId?.startsWith(SSM_ALIAS_PREFIX)) {
    throw new InventoryReadError(
      source,
      `${launchTemplateId} v${versionNumber} image id ${imageId} was not resolved`,
      'UnresolvedImageAlias',
    );
  }
  return {
    launchTemplateId,
    launchTemplateName: required(source, version.LaunchTemplateName, 'LaunchTemplateName', launchTemplateId),
    versionNumber,
    ...(imageId !== undefined && { imageId }),
  };
}

function toLaunchConfiguration(configuration: LaunchConfiguration): LaunchConfigurationRecord {
  const source = 'DescribeLaunchConfigurations';
  const name = required(source, configuration.LaunchConfigurationName, 'LaunchConfigurationName');
  return { name, imageId: required(source, configuration.ImageId, 'ImageId', name) };
}

function toLaunchTemplateSpec(
  spec: AsgLaunchTemplateSpecification | undefined,
  groupName: string,
): LaunchTemplateSpec | undefined {
  if (spec === undefined) return undefined;
  if (spec.LaunchTemplateId === undefined && spec.LaunchTemplateName === undefined) {
    throw new InventoryReadError(
      'DescribeAutoScalingGroups',
      `launch template specification without id or name (${groupName})`,
      'MalformedResponse',
    );
  }
  return {
    ...(spec.LaunchTemplateId !== undefined && { launchTemplateId: spec.LaunchTemplateId }),
    ...(spec.LaunchTemplateName !== undefined && { launchTemplateName: spec.LaunchTemplateName }),
    ...(spec.Version !== undefined && { version: spec.Version }),
  };
}

function toAutoScalingGroup(group: AutoScalingGroup): AutoScalingGroupRecord {
  const source = 'DescribeAutoScalingGroups';
  const name = required(source, group.AutoScalingGroupName, 'AutoScalingGroupName');
  const launchTemplate = toLaunchTemplateSpec(group.LaunchTemplate, name);
  const mixed = group.MixedInstancesPolicy?.LaunchTemplate;
  const mixedInstancesLaunchTemplate = toLaunchTemplateSpec(mixed?.LaunchTemplateSpecification, name);
  const overrides = (mixed?.Overrides ?? []).flatMap((override) => {
    const spec = toLaunchTemplateSpec(override.LaunchTemplateSpecification, name);
    return spec === undefined ? [] : [spec];
  });
  return {
    name,
    desiredCapacity: required(source, group.DesiredCapacity, 'DesiredCapacity', name),
    ...(group.LaunchConfigurationName !== undefined && {
      launchConfigurationName: group.LaunchConfigurationName,
    }),
    ...(launchTemplate !== undefined && { launchTemplate }),
    ...(mixedInstancesLaunchTemplate !== undefined && { mixedInstancesLaunchTemplate }),
    ...(overrides.length > 0 && { mixedInstancesOverrideTemplates: overrides }),
  };
}

// ---------------------------------------------------------------------------------------------
// Reads, one per source
// ---------------------------------------------------------------------------------------------

async function readImages(ec2: EC2Client, maxPages: number): Promise<Image[]> {
  const pages = await readAllPages(
    'DescribeImages',
    paginateDescribeImages(
      { client: ec2, pageSize: PAGE_SIZE.describeImages },
      { Owners: ['self'], IncludeDisabled: true, IncludeDeprecated: true },
    ),
    maxPages,
  );
  return pages.flatMap((page) => (page.Images ?? []).map((image) => toImage(image)));
}

async function readSnapshots(ec2: EC2Client, maxPages: number): Promise<Snapshot[]> {
  const pages = await readAllPages(
    'DescribeSnapshots',
    paginateDescribeSnapshots(
      { client: ec2, pageSize: PAGE_SIZE.describeSnapshots },
      {
        OwnerIds: ['self'],
        Filters: [
          { Name: 'status', Values: ['completed'] },
          { Name: 'description', Values: [...AMI_SNAPSHOT_DESCRIPTIONS] },
        ],
      },
    ),
    maxPages,
  );
  return pages.flatMap((page) => (page.Snapshots ?? []).map(toSnapshot));
}

async function readInstances(ec2: EC2Client, maxPages: number): Promise<InstanceRecord[]> {
  const pages = await readAllPages(
    'DescribeInstances',
    paginateDescribeInstances(
      { client: ec2, pageSize: PAGE_SIZE.describeInstances },
      { Filters: [{ Name: 'instance-state-name', Values: [...LIVE_INSTANCE_STATES] }] },
    ),
    maxPages,
  );
  return pages.flatMap((page) =>
    (page.Reservations ?? []).flatMap((reservation) =>
      (reservation.Instances ?? []).map((instance) => toInstance(instance)),
    ),
  );
}

async function readLaunchTemplates(ec2: EC2Client, maxPages: number): Promise<LaunchTemplateRecord[]> {
  const pages = await readAllPages(
    'DescribeLaunchTemplates',
    paginateDescribeLaunchTemplates({ client: ec2, pageSize: PAGE_SIZE.describeLaunchTemplates }, {}),
    maxPages,
  );
  return pages.flatMap((page) => (page.LaunchTemplates ?? []).map(toLaunchTemplate));
}

/** `$Default` and `$Latest` of every template in the account, aliases resolved. */
export async function readDefaultAndLatestVersions(
  ec2: EC2Client,
  maxPages: number = DEFAULT_MAX_PAGES,
): Promise<LaunchTemplateVersionRecord[]> {
  const source = 'DescribeLaunchTemplateVersions';
  const pages = await readAllPages(
    source,
    // Without a template id or name, EC2 returns these two versions of every template.
    paginateDescribeLaunchTemplateVersions(
      { client: ec2, pageSize: PAGE_SIZE.describeLaunchTemplateVersions },
      { Versions: ['$Default', '$Latest'], ResolveAlias: true },
    ),
    maxPages,
  );
  return pages.flatMap((page) =>
    (page.LaunchTemplateVersions ?? []).map((version) => toLaunchTemplateVersion(version, source)),
  );
}

interface VersionRequest {
  readonly launchTemplateId?: string;
  readonly launchTemplateName?: string;
  readonly versions: Set<string>;
}

const versionKey = (launchTemplateId: string, versionNumber: number | string): string =>
  `${launchTemplateId}#${versionNumber}`;

/**
 * Versions something depends on that the account-wide `$Default`/`$Latest` read did not return:
 * numbered versions an Auto Scaling group names, templates created between the two reads, and
 * templates a group names that the template list did not contain.
 */
function missingVersionRequests(
  templates: readonly LaunchTemplateRecord[],
  versionsRead: readonly LaunchTemplateVersionRecord[],
  groups: readonly AutoScalingGroupRecord[],
): VersionRequest[] {
  const read = new Set(versionsRead.map((v) => versionKey(v.launchTemplateId, v.versionNumber)));
  const byId = new Map(templates.map((t) => [t.launchTemplateId, t]));
  const idByName = new Map(templates.map((t) => [t.launchTemplateName, t.launchTemplateId]));
  const requests = new Map<string, VersionRequest>();
  const need = (
    template: { launchTemplateId?: string; launchTemplateName?: string },
    version: string,
  ): void => {
    const key = template.launchTemplateId ?? `name:${template.launchTemplateName}`;
    let request = requests.get(key);
    if (request === undefined) {
      request = { ...template, versions: new Set() };
      requests.set(key, request);
    }
    request.versions.add(version);
  };

  for (const template of templates) {
    for (const number of [template.defaultVersion, template.latestVersion]) {
      if (!read.has(versionKey(template.launchTemplateId, number))) {
        need({ launchTemplateId: template.launchTemplateId }, String(number));
      }
    }
  }

  const specs = groups.flatMap((group) => [
    ...(group.launchTemplate === undefined ? [] : [group.launchTemplate]),
    ...(group.mixedInstancesLaunchTemplate === undefined ? [] : [group.mixedInstancesLaunchTemplate]),
    ...(group.mixedInstancesOverrideTemplates ?? []),
  ]);
  for (const spec of specs) {
    const version = spec.version ?? '$Default'; // what Auto Scaling uses when none is given
    const id =
      spec.launchTemplateId ??
      (spec.launchTemplateName === undefined ? undefined : idByName.get(spec.launchTemplateName));
    const template = id === undefined ? undefined : byId.get(id);
    if (template === undefined) {
      // Not in the template list (created since, or gone): ask for it; if it is gone, the read fails.
      need(
        spec.launchTemplateId === undefined
          ? { launchTemplateName: spec.launchTemplateName as string }
          : { launchTemplateId: spec.launchTemplateId },
        version,
      );
    } else if (version !== '$Default' && version !== '$Latest') {
      if (!read.has(versionKey(template.launchTemplateId, version))) {
        need({ launchTemplateId: template.launchTemplateId }, version);
      }
    }
  }
  return [...requests.values()];
}

async function readRequestedVersions(
  ec2: EC2Client,
  request: VersionRequest,
  maxPages: number,
): Promise<LaunchTemplateVersionRecord[]> {
  const template = request.launchTemplateId ?? request.launchTemplateName ?? '?';
  const source = `DescribeLaunchTemplateVersions(${template})`;
  const pages = await readAllPages(
    source,
    paginateDescribeLaunchTemplateVersions(
      { client: ec2, pageSize: PAGE_SIZE.describeLaunchTemplateVersions },
      {
        ...(request.launchTemplateId === undefined
          ? { LaunchTemplateName: request.launchTemplateName }
          : { LaunchTemplateId: request.launchTemplateId }),
        Versions: [...request.versions],
        ResolveAlias: true,
      },
    ),
    maxPages,
  );
  const records = pages.flatMap((page) =>
    (page.LaunchTemplateVersions ?? []).map((version) => toLaunchTemplateVersion(version, source)),
  );
  // Every numbered version asked for must come back; silence is not proof it references nothing.
  const returned = new Set(records.map((r) => String(r.versionNumber)));
  const missing = [...request.versions].filter((v) => !v.startsWith('$') && !returned.has(v));
  if (records.length === 0 || missing.length > 0) {
    throw new InventoryReadError(
      source,
      `versions not returned: ${missing.length > 0 ? missing.join(', ') : [...request.versions].join(', ')}`,
      'MissingLaunchTemplateVersion',
    );
  }
  return records;
}

async function readLaunchConfigurations(
  autoScaling: AutoScalingClient,
  maxPages: number,
): Promise<LaunchConfigurationRecord[]> {
  const pages = await readAllPages(
    'DescribeLaunchConfigurations',
    paginateDescribeLaunchConfigurations(
      { client: autoScaling, pageSize: PAGE_SIZE.describeLaunchConfigurations },
      {},
    ),
    maxPages,
  );
  return pages.flatMap((page) => (page.LaunchConfigurations ?? []).map(toLaunchConfiguration));
}

async function readAutoScalingGroups(
  autoScaling: AutoScalingClient,
  maxPages: number,
): Promise<AutoScalingGroupRecord[]> {
  const pages = await readAllPages(
    'DescribeAutoScalingGroups',
    paginateDescribeAutoScalingGroups(
      { client: autoScaling, pageSize: PAGE_SIZE.describeAutoScalingGroups },
      {},
    ),
    maxPages,
  );
  return pages.flatMap((page) => (page.AutoScalingGroups ?? []).map(toAutoScalingGroup));
}

/** AMI ids found in a parameter value: a plain id, a StringList, or an id inside JSON. */
export function amiIdsIn(value: string): string[] {
  return [...new Set(value.match(AMI_ID_IN_TEXT) ?? [])];
}

async function readSsmParameters(
  ssm: SSMClient,
  path: string,
  maxPages: number,
): Promise<SsmParameterRecord[]> {
  const source = `GetParametersByPath(${path})`;
  const pages = await readAllPages(
    source,
    // No decryption: AMI ids are not secrets, and KMS access is not this tool's business.
    paginateGetParametersByPath(
      { client: ssm, pageSize: PAGE_SIZE.getParametersByPath },
      { Path: path, Recursive: true, WithDecryption: false },
    ),
    maxPages,
  );
  return pages.flatMap((page) =>
    (page.Parameters ?? []).flatMap((parameter) => {
      const name = required(source, parameter.Name, 'Name');
      // Undecrypted, a SecureString is ciphertext: an AMI id in it would go unseen (fail open).
      if (parameter.Type === 'SecureString') {
        throw new InventoryReadError(
          source,
          `${name} is a SecureString, which is not decrypted: keep AMI ids in String parameters`,
          'SecureStringUnreadable',
        );
      }
      const value = required(source, parameter.Value, 'Value', name);
      return amiIdsIn(value).map((imageId) => ({ name, value: imageId }));
    }),
  );
}

async function readImageRecipes(
  imageBuilder: ImagebuilderClient,
  owner: (typeof RECIPE_OWNERS)[number],
  maxPages: number,
): Promise<ImageBuilderRecipeRecord[]> {
  const source = `ListImageRecipes(${owner})`;
  const pages = await readAllPages(
    source,
    paginateListImageRecipes({ client: imageBuilder, pageSize: PAGE_SIZE.listImageRecipes }, { owner }),
    maxPages,
  );
  return pages.flatMap((page) =>
    (page.imageRecipeSummaryList ?? []).map((recipe) => ({
      kind: 'image-recipe' as const,
      arn: required(source, recipe.arn, 'arn'),
      // The summary carries the parent image, so no GetImageRecipe per recipe is needed.
      ...(recipe.parentImage === undefined ? {} : { baseImage: recipe.parentImage }),
    })),
  );
}

/** A container recipe's AMI is its build instance's (`instanceConfiguration.image`), only in Get. */
async function readContainerRecipes(
  imageBuilder: ImagebuilderClient,
  owner: (typeof RECIPE_OWNERS)[number],
  maxPages: number,
): Promise<ImageBuilderRecipeRecord[]> {
  const source = `ListContainerRecipes(${owner})`;
  const pages = await readAllPages(
    source,
    paginateListContainerRecipes(
      { client: imageBuilder, pageSize: PAGE_SIZE.listContainerRecipes },
      { owner },
    ),
    maxPages,
  );
  const arns = pages.flatMap((page) =>
    (page.containerRecipeSummaryList ?? []).map((recipe) => required(source, recipe.arn, 'arn')),
  );
  return mapWithConcurrency(arns, PER_ITEM_CONCURRENCY, async (arn) => {
    const getSource = `GetContainerRecipe(${arn})`;
    let image: string | undefined;
    try {
      const output = await imageBuilder.send(new GetContainerRecipeCommand({ containerRecipeArn: arn }));
      image = required(getSource, output.containerRecipe, 'containerRecipe').instanceConfiguration?.image;
    } catch (err) {
      throw err instanceof InventoryReadError ? err : new InventoryReadError(getSource, err);
    }
    return { kind: 'container-recipe' as const, arn, ...(image === undefined ? {} : { baseImage: image }) };
  });
}

/** Every image and container recipe the account owns or has been shared, every page. */
export async function readImageBuilderRecipes(
  imageBuilder: ImagebuilderClient,
  maxPages: number = DEFAULT_MAX_PAGES,
): Promise<ImageBuilderRecipeRecord[]> {
  const reads = await Promise.all(
    RECIPE_OWNERS.flatMap((owner) => [
      readImageRecipes(imageBuilder, owner, maxPages),
      readContainerRecipes(imageBuilder, owner, maxPages),
    ]),
  );
  return reads.flat();
}

// ---------------------------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------------------------

/**
 * Reads the whole inventory of one account and region, or throws `InventoryReadError`.
 * Independent sources are read concurrently; the SDK's adaptive retry paces them.
 */
export async function readInventory(
  clients: InventoryClients,
  options: ReadInventoryOptions,
): Promise<Inventory> {
  const { ec2, autoScaling, ssm, imageBuilder } = clients;
  const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
  const now = options.now ?? (() => new Date());

  const [
    images,
    snapshots,
    instances,
    launchTemplates,
    defaultAndLatest,
    launchConfigurations,
    autoScalingGroups,
    ssmParameters,
    imageBuilderRecipes,
  ] = await Promise.all([
    options.includeImages === false ? Promise.resolve([]) : readImages(ec2, maxPages),
    options.includeSnapshots ? readSnapshots(ec2, maxPages) : Promise.resolve([]),
    readInstances(ec2, maxPages),
    readLaunchTemplates(ec2, maxPages),
    readDefaultAndLatestVersions(ec2, maxPages),
    readLaunchConfigurations(autoScaling, maxPages),
    readAutoScalingGroups(autoScaling, maxPages),
    Promise.all(options.ssmParameterPaths.map((path) => readSsmParameters(ssm, path, maxPages))),
    readImageBuilderRecipes(imageBuilder, maxPages),
  ]);

  const extraVersions = await mapWithConcurrency(
    missingVersionRequests(launchTemplates, defaultAndLatest, autoScalingGroups),
    PER_ITEM_CONCURRENCY,
    (request) => readRequestedVersions(ec2, request, maxPages),
  );
  const launchTemplateVersions = new Map<string, LaunchTemplateVersionRecord>();
  for (const version of [...defaultAndLatest, ...extraVersions.flat()]) {
    launchTemplateVersions.set(versionKey(version.launchTemplateId, version.versionNumber), version);
  }

  return {
    region: options.region,
    readAt: now().toISOString(),
    images,
    snapshots,
    instances,
    launchTemplates,
    launchTemplateVersions: [...launchTemplateVersions.values()],
    launchConfigurations,
    autoScalingGroups,
    ssmParameters: ssmParameters.flat(),
    imageBuilderRecipes,
  };
}

/**
 * Ids of the given images that are shared with another account, organization or OU, or public.
 * One DescribeImageAttribute per image (there is no filter for it), `DESCRIBE_CONCURRENCY` in flight.
 */
export async function readLaunchPermissions(
  ec2: EC2Client,
  imageIds: readonly string[],
): Promise<Set<string>> {
  const shared = await mapWithConcurrency(imageIds, DESCRIBE_CONCURRENCY, async (imageId) => {
    try {
      const output = await ec2.send(
        new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: 'launchPermission' }),
      );
      return (output.LaunchPermissions ?? []).length > 0 ? imageId : undefined;
    } catch (err) {
      throw new InventoryReadError(`DescribeImageAttribute(${imageId})`, err);
    }
  });
  return new Set(shared.filter((id): id is string => id !== undefined));
}
