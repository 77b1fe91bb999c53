import type {
  DeleteSnapshotCommandInput,
  DeleteSnapshotReturnCode,
  DeregisterImageCommandInput,
  DeregisterImageResult,
  DescribeImageAttributeCommandInput,
  DescribeImagesCommandInput,
  DescribeImagesResult,
  DescribeInstancesCommandInput,
  DescribeInstancesResult,
  DescribeLaunchTemplatesCommandInput,
  DescribeLaunchTemplatesResult,
  DescribeLaunchTemplateVersionsCommandInput,
  DescribeLaunchTemplateVersionsResult,
  DescribeSnapshotsCommandInput,
  DescribeSnapshotsResult,
  Image,
  ImageAttribute,
  Instance,
  LaunchPermission,
  LaunchTemplateVersion,
  Snapshot,
  Tag,
} from '@aws-sdk/client-ec2';
import type { ServiceHandlers, SimulatedAccount } from './account.ts';
import { handler } from './account.ts';
import { SimulatedAwsError } from './errors.ts';
import { compileFilters, type FilterDefinition } from './filters.ts';
import { decodeToken, encodeToken, pageSize } from './pagination.ts';
import type {
  SimImage,
  SimInstance,
  SimLaunchPermission,
  SimLaunchTemplate,
  SimLaunchTemplateVersion,
  SimSnapshot,
} from './state.ts';
import { compareKeys, upperBound } from './store.ts';

const TOKEN_ERROR = 'InvalidPaginationToken';

/** DescribeImages: everything without MaxResults, at most 1,000 a page with it (larger is capped). */
const DESCRIBE_IMAGES_PAGE = {
  fallback: Number.POSITIVE_INFINITY,
  min: 1,
  max: 1000,
  capAtMax: true,
  errorCode: 'InvalidParameterValue',
  parameter: 'MaxResults',
} as const;

const INSTANCE_STATE_CODES: Readonly<Record<string, number>> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

/** `{ Tags }`, or nothing: EC2 omits an empty tag set from the XML, so the SDK yields no Tags key. */
export function tagsField(tags: Readonly<Record<string, string>>): { Tags?: Tag[] } {
  const entries = Object.entries(tags);
  return entries.length === 0 ? {} : { Tags: entries.map(([Key, Value]) => ({ Key, Value })) };
}

function renderLaunchPermission(permission: SimLaunchPermission): LaunchPermission {
  if ('group' in permission) return { Group: permission.group };
  if ('organizationArn' in permission) return { OrganizationArn: permission.organizationArn };
  if ('organizationalUnitArn' in permission)
    return { OrganizationalUnitArn: permission.organizationalUnitArn };
  return { UserId: permission.userId };
}

function isPublic(image: SimImage): boolean {
  return image.launchPermissions.some((permission) => 'group' in permission && permission.group === 'all');
}

function renderImage(image: SimImage): Image {
  return {
    ImageId: image.imageId,
    ImageLocation: `${image.ownerId}/${image.name}`,
    State: image.state as Image['State'],
    OwnerId: image.ownerId,
    CreationDate: image.creationDate,
    Public: isPublic(image),
    Architecture: image.architecture as Image['Architecture'],
    ImageType: 'machine',
    Name: image.name,
    ...(image.description === '' ? {} : { Description: image.description }),
    RootDeviceType: 'ebs',
    RootDeviceName: image.rootDeviceName,
    BlockDeviceMappings: image.blockDeviceMappings.map((device) => ({
      DeviceName: device.deviceName,
      Ebs: {
        DeleteOnTermination: device.deleteOnTermination,
        SnapshotId: device.snapshotId,
        VolumeSize: device.volumeSizeGiB,
        VolumeType: device.volumeType as 'gp3',
        Encrypted: device.encrypted,
      },
    })),
    VirtualizationType: 'hvm',
    Hypervisor: 'xen',
    EnaSupport: true,
    SriovNetSupport: 'simple',
    PlatformDetails: 'Linux/UNIX',
    UsageOperation: 'RunInstances',
    ...tagsField(image.tags),
    DeregistrationProtection: image.deregistrationProtection,
    ...(image.sourceInstanceId === undefined ? {} : { SourceInstanceId: image.sourceInstanceId }),
    ...(image.lastLaunchedTime === undefined ? {} : { LastLaunchedTime: image.lastLaunchedTime }),
  };
}

function renderSnapshot(snapshot: SimSnapshot): Snapshot {
  return {
    SnapshotId: snapshot.snapshotId,
    VolumeId: snapshot.volumeId,
    State: snapshot.state as Snapshot['State'],
    StartTime: new Date(snapshot.startTime),
    Progress: snapshot.state === 'completed' ? '100%' : '0%',
    OwnerId: snapshot.ownerId,
    Description: snapshot.description,
    VolumeSize: snapshot.volumeSizeGiB,
    Encrypted: snapshot.encrypted,
    StorageTier: 'standard',
    ...tagsField(snapshot.tags),
  };
}

const imageFilters: FilterDefinition<SimImage> = {
  tags: (image) => image.tags,
  fields: {
    'image-id': (image) => [image.imageId],
    state: (image) => [image.state],
    name: (image) => [image.name],
    description: (image) => [image.description],
    'owner-id': (image) => [image.ownerId],
    'is-public': (image) => [String(isPublic(image))],
    architecture: (image) => [image.architecture],
    'image-type': () => ['machine'],
    'root-device-type': () => ['ebs'],
    'root-device-name': (image) => [image.rootDeviceName],
    'creation-date': (image) => [image.creationDate],
    'source-instance-id': (image) => [image.sourceInstanceId],
    'block-device-mapping.snapshot-id': (image) => image.blockDeviceMappings.map((d) => d.snapshotId),
    'block-device-mapping.device-name': (image) => image.blockDeviceMappings.map((d) => d.deviceName),
    'block-device-mapping.volume-size': (image) =>
      image.blockDeviceMappings.map((d) => String(d.volumeSizeGiB)),
    'block-device-mapping.volume-type': (image) => image.blockDeviceMappings.map((d) => d.volumeType),
  },
};

const snapshotFilters: FilterDefinition<SimSnapshot> = {
  tags: (snapshot) => snapshot.tags,
  fields: {
    'snapshot-id': (snapshot) => [snapshot.snapshotId],
    status: (snapshot) => [snapshot.state],
    description: (snapshot) => [snapshot.description],
    'volume-id': (snapshot) => [snapshot.volumeId],
    'volume-size': (snapshot) => [String(snapshot.volumeSizeGiB)],
    'owner-id': (snapshot) => [snapshot.ownerId],
    'start-time': (snapshot) => [snapshot.startTime],
    encrypted: (snapshot) => [String(snapshot.encrypted)],
  },
};

const instanceFilters: FilterDefinition<SimInstance> = {
  tags: (instance) => instance.tags,
  fields: {
    'instance-id': (instance) => [instance.instanceId],
    'instance-state-name': (instance) => [instance.state],
    'instance-state-code': (instance) => [String(INSTANCE_STATE_CODES[instance.state])],
    'image-id': (instance) => [instance.imageId],
    'instance-type': (instance) => [instance.instanceType],
    'reservation-id': (instance) => [instance.reservationId],
  },
};

const launchTemplateFilters: FilterDefinition<SimLaunchTemplate> = {
  tags: (template) => template.tags,
  fields: {
    'launch-template-name': (template) => [template.launchTemplateName],
    'create-time': (template) => [template.createTime],
  },
};

/** One launch template version as a filter sees it, with its alias resolved when asked. */
interface VersionView {
  readonly template: SimLaunchTemplate;
  readonly version: SimLaunchTemplateVersion;
  readonly imageId: string | undefined;
}

const versionFilters: FilterDefinition<VersionView> = {
  tags: (view) => view.template.tags,
  fields: {
    'image-id': (view) => [view.version.imageId, view.imageId],
    'instance-type': (view) => [view.version.instanceType],
    'is-default-version': (view) => [String(view.template.defaultVersion === view.version.versionNumber)],
    'create-time': (view) => [view.version.createTime],
  },
};

function ownsAll(owners: readonly string[] | undefined, accountId: string): boolean {
  // Every simulated resource is owned by the account: `self` or its id select all, others none.
  return owners === undefined || owners.length === 0 || owners.some((o) => o === 'self' || o === accountId);
}

/**
 * DescribeImages with `ExecutableUsers: ['self']`: the images of other accounts this one may
 * launch (shared with it, its OU or organization, or public), as the simulated organization
 * says; an account outside an organization sees none. Other ExecutableUsers values are refused.
 */
function describeExecutableImages(
  account: SimulatedAccount,
  input: DescribeImagesCommandInput,
  filter: (image: SimImage) => boolean,
): DescribeImagesResult {
  if (input.ExecutableUsers?.some((user) => user !== 'self')) {
    throw new SimulatedAwsError(
      'UnsupportedOperation',
      'The simulated account supports ExecutableUsers=self only.',
    );
  }
  if ((input.ImageIds ?? []).length > 0) {
    throw new SimulatedAwsError('UnsupportedOperation', 'ExecutableUsers with ImageIds is not simulated.');
  }
  const limit = pageSize(input.MaxResults, DESCRIBE_IMAGES_PAGE);
  const scope = 'DescribeImages:executable';
  const after = decodeToken(input.NextToken, scope, TOKEN_ERROR);
  const visible = account
    .imagesSharedWithAccount()
    .filter((image) => (input.IncludeDisabled === true || image.state !== 'disabled') && filter(image))
    .sort((a, b) => compareKeys(a.imageId, b.imageId));
  const rest =
    after === undefined ? visible : visible.filter((image) => compareKeys(image.imageId, after) > 0);
  const chosen = rest.slice(0, limit);
  const last = chosen.at(-1);
  return {
    Images: chosen.map(renderImage),
    ...(rest.length > chosen.length && last !== undefined
      ? { NextToken: encodeToken(scope, last.imageId) }
      : {}),
  };
}

function checkIdFormat(ids: readonly string[], prefix: string, code: string): void {
  const pattern = new RegExp(`^${prefix}-([0-9a-f]{8}|[0-9a-f]{17})$`);
  for (const id of ids) {
    if (!pattern.test(id))
      throw new SimulatedAwsError(code, `Invalid id: "${id}" (expecting "${prefix}-...")`);
  }
}

function imageNotFound(ids: readonly string[]): SimulatedAwsError {
  return new SimulatedAwsError('InvalidAMIID.NotFound', `The image id '[${ids.join(', ')}]' does not exist`);
}

function snapshotNotFound(id: string): SimulatedAwsError {
  return new SimulatedAwsError('InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`);
}

export function createEc2Handlers(account: SimulatedAccount): ServiceHandlers {
  const createdBy = () => `arn:aws:iam::${account.accountId}:root`;

  /** Resolves `resolve:ssm:/name[:version]` as EC2 does when ResolveAlias is set. */
  function resolveAlias(imageId: string | undefined): string | undefined {
    if (imageId === undefined || !imageId.startsWith('resolve:ssm:')) return imageId;
    const name = imageId.slice('resolve:ssm:'.length).replace(/:[^/]*$/, '');
    const parameter = account.parameters.get(name);
    if (parameter === undefined) {
      throw new SimulatedAwsError(
        'InvalidParameterValue',
        `The SSM parameter '${name}' could not be resolved.`,
      );
    }
    return parameter.value;
  }

  function templateFor(input: { LaunchTemplateId?: string; LaunchTemplateName?: string }): SimLaunchTemplate {
    if (input.LaunchTemplateId !== undefined && input.LaunchTemplateName !== undefined) {
      throw new SimulatedAwsError(
        'InvalidParameterCombination',
        'The parameters LaunchTemplateId and LaunchTemplateName cannot be used together.',
      );
    }
    const template = account.findLaunchTemplate({
      ...(input.LaunchTemplateId === undefined ? {} : { launchTemplateId: input.LaunchTemplateId }),
      ...(input.LaunchTemplateName === undefined ? {} : { launchTemplateName: input.LaunchTemplateName }),
    });
    if (template !== undefined) return template;
    if (input.LaunchTemplateId !== undefined) {
      throw new SimulatedAwsError(
        'InvalidLaunchTemplateId.NotFound',
        `The specified launch template, with template ID ${input.LaunchTemplateId}, does not exist.`,
      );
    }
    throw new SimulatedAwsError(
      'InvalidLaunchTemplateName.NotFoundException',
      `The specified launch template, with template name ${input.LaunchTemplateName}, does not exist.`,
    );
  }

  function versionByAlias(template: SimLaunchTemplate, alias: string): SimLaunchTemplateVersion {
    const number =
      alias === '$Latest'
        ? template.latestVersion
        : alias === '$Default'
          ? template.defaultVersion
          : Number(alias);
    const version = Number.isInteger(number) ? template.versions[number - 1] : undefined;
    if (version === undefined) {
      throw new SimulatedAwsError(
        'InvalidLaunchTemplateId.VersionNotFound',
        `Could not find launch template version ${alias} for launch template ${template.launchTemplateId}.`,
      );
    }
    return version;
  }

  return {
    DescribeImages: handler((input: DescribeImagesCommandInput): DescribeImagesResult => {
      const ids = input.ImageIds ?? [];
      if (ids.length > 0 && input.MaxResults !== undefined) {
        throw new SimulatedAwsError(
          'InvalidParameterCombination',
          'The parameter ImageIds cannot be used with the parameter MaxResults',
        );
      }
      const filter = compileFilters(input.Filters, imageFilters);
      if (input.ExecutableUsers !== undefined && input.ExecutableUsers.length > 0) {
        return describeExecutableImages(account, input, filter);
      }
      const owned = ownsAll(input.Owners, account.accountId);
      const visible = (image: SimImage) =>
        owned && (input.IncludeDisabled === true || image.state !== 'disabled') && filter(image);
      if (ids.length > 0) {
        checkIdFormat(ids, 'ami', 'InvalidAMIID.Malformed');
        const missing = ids.filter((id) => !account.images.has(id));
        if (missing.length > 0) throw imageNotFound(missing);
        const images = [...new Set(ids)].map((id) => account.images.get(id) as SimImage).filter(visible);
        return { Images: images.map(renderImage) };
      }
      const limit = pageSize(input.MaxResults, DESCRIBE_IMAGES_PAGE);
      const after = decodeToken(input.NextToken, 'DescribeImages', TOKEN_ERROR);
      const { items, lastKey } = account.images.page(after, limit, visible);
      return {
        Images: items.map(renderImage),
        ...(lastKey === undefined ? {} : { NextToken: encodeToken('DescribeImages', lastKey) }),
      };
    }),

    DescribeImageAttribute: handler((input: DescribeImageAttributeCommandInput): ImageAttribute => {
      const image = account.images.get(input.ImageId ?? '');
      if (image === undefined) throw imageNotFound([input.ImageId ?? '']);
      const base = { ImageId: image.imageId };
      switch (input.Attribute) {
        case 'launchPermission':
          return {
            ...base,
            LaunchPermissions: image.launchPermissions.map(renderLaunchPermission),
          };
        case 'description':
          return { ...base, Description: { Value: image.description } };
        case 'deregistrationProtection':
          return { ...base, DeregistrationProtection: { Value: image.deregistrationProtection } };
        case 'lastLaunchedTime':
          return {
            ...base,
            LastLaunchedTime: image.lastLaunchedTime ? { Value: image.lastLaunchedTime } : {},
          };
        case 'blockDeviceMapping':
          return { ...base, BlockDeviceMappings: renderImage(image).BlockDeviceMappings ?? [] };
        default:
          throw new SimulatedAwsError(
            'UnsupportedOperation',
            `The simulated account does not support DescribeImageAttribute ${input.Attribute}.`,
          );
      }
    }),

    DescribeSnapshots: handler((input: DescribeSnapshotsCommandInput): DescribeSnapshotsResult => {
      const filter = compileFilters(input.Filters, snapshotFilters);
      const owned = ownsAll(input.OwnerIds, account.accountId);
      const visible = (snapshot: SimSnapshot) => owned && filter(snapshot);
      const ids = input.SnapshotIds ?? [];
      if (ids.length > 0) {
        checkIdFormat(ids, 'snap', 'InvalidSnapshotID.Malformed');
        const missing = ids.find((id) => !account.snapshots.has(id));
        if (missing !== undefined) throw snapshotNotFound(missing);
        const snapshots = [...new Set(ids)]
          .map((id) => account.snapshots.get(id) as SimSnapshot)
          .filter(visible);
        return { Snapshots: snapshots.map(renderSnapshot) };
      }
      const limit = pageSize(input.MaxResults, {
        fallback: Number.POSITIVE_INFINITY,
        min: 5,
        max: 1000,
        capAtMax: true,
        errorCode: 'InvalidParameterValue',
        parameter: 'MaxResults',
      });
      const after = decodeToken(input.NextToken, 'DescribeSnapshots', TOKEN_ERROR);
      const { items, lastKey } = account.snapshots.page(after, limit, visible);
      return {
        Snapshots: items.map(renderSnapshot),
        ...(lastKey === undefined ? {} : { NextToken: encodeToken('DescribeSnapshots', lastKey) }),
      };
    }),

    DescribeInstances: handler((input: DescribeInstancesCommandInput): DescribeInstancesResult => {
      const ids = input.InstanceIds ?? [];
      if (ids.length > 0 && input.MaxResults !== undefined) {
        throw new SimulatedAwsError(
          'InvalidParameterCombination',
          'The parameter instancesSet cannot be used with the parameter maxResults',
        );
      }
      const filter = compileFilters(input.Filters, instanceFilters);
      const render = (instance: SimInstance) => ({
        ReservationId: instance.reservationId,
        OwnerId: account.accountId,
        Groups: [],
        Instances: [renderInstance(instance, account.region)],
      });
      if (ids.length > 0) {
        checkIdFormat(ids, 'i', 'InvalidInstanceID.Malformed');
        const missing = ids.filter((id) => !account.instances.has(id));
        if (missing.length > 0) {
          throw new SimulatedAwsError(
            'InvalidInstanceID.NotFound',
            `The instance ID${missing.length > 1 ? 's' : ''} '${missing.join(', ')}' ${missing.length > 1 ? 'do' : 'does'} not exist`,
          );
        }
        const instances = [...new Set(ids)]
          .map((id) => account.instances.get(id) as SimInstance)
          .filter(filter);
        return { Reservations: instances.map(render) };
      }
      const limit = pageSize(input.MaxResults, {
        fallback: Number.POSITIVE_INFINITY,
        min: 5,
        max: 1000,
        errorCode: 'InvalidParameterValue',
        parameter: 'maxResults',
      });
      const after = decodeToken(input.NextToken, 'DescribeInstances', TOKEN_ERROR);
      const { items, lastKey } = account.instances.page(after, limit, filter);
      return {
        Reservations: items.map(render),
        ...(lastKey === undefined ? {} : { NextToken: encodeToken('DescribeInstances', lastKey) }),
      };
    }),

    DescribeLaunchTemplates: handler(
      (input: DescribeLaunchTemplatesCommandInput): DescribeLaunchTemplatesResult => {
        const filter = compileFilters(input.Filters, launchTemplateFilters);
        const named = [
          ...(input.LaunchTemplateIds ?? []).map((id) => templateFor({ LaunchTemplateId: id })),
          ...(input.LaunchTemplateNames ?? []).map((name) => templateFor({ LaunchTemplateName: name })),
        ];
        const render = (template: SimLaunchTemplate) => ({
          LaunchTemplateId: template.launchTemplateId,
          LaunchTemplateName: template.launchTemplateName,
          CreateTime: new Date(template.createTime),
          CreatedBy: createdBy(),
          DefaultVersionNumber: template.defaultVersion,
          LatestVersionNumber: template.latestVersion,
          ...tagsField(template.tags),
        });
        if (named.length > 0) return { LaunchTemplates: [...new Set(named)].filter(filter).map(render) };
        const limit = pageSize(input.MaxResults, {
          fallback: Number.POSITIVE_INFINITY,
          min: 1,
          max: 200,
          errorCode: 'InvalidParameterValue',
          parameter: 'MaxResults',
        });
        const after = decodeToken(input.NextToken, 'DescribeLaunchTemplates', TOKEN_ERROR);
        const { items, lastKey } = account.launchTemplates.page(after, limit, filter);
        return {
          LaunchTemplates: items.map(render),
          ...(lastKey === undefined ? {} : { NextToken: encodeToken('DescribeLaunchTemplates', lastKey) }),
        };
      },
    ),

    DescribeLaunchTemplateVersions: handler(
      (input: DescribeLaunchTemplateVersionsCommandInput): DescribeLaunchTemplateVersionsResult => {
        const versions = input.Versions ?? [];
        const selected: { template: SimLaunchTemplate; version: SimLaunchTemplateVersion }[] = [];
        if (input.LaunchTemplateId !== undefined || input.LaunchTemplateName !== undefined) {
          const template = templateFor(input);
          const chosen =
            versions.length > 0
              ? versions.map((alias) => versionByAlias(template, alias))
              : template.versions;
          const min = input.MinVersion === undefined ? 1 : Number(input.MinVersion);
          const max = input.MaxVersion === undefined ? Number.POSITIVE_INFINITY : Number(input.MaxVersion);
          for (const version of new Set(chosen)) {
            if (version.versionNumber >= min && version.versionNumber <= max)
              selected.push({ template, version });
          }
        } else {
          // Without a template, EC2 only accepts $Latest/$Default: those versions of every template.
          if (versions.length === 0 || versions.some((v) => v !== '$Latest' && v !== '$Default')) {
            throw new SimulatedAwsError(
              'InvalidParameterValue',
              'To describe versions of all launch templates, Versions must be $Latest and/or $Default.',
            );
          }
          for (const template of account.launchTemplates.sortedValues()) {
            for (const version of new Set(versions.map((alias) => versionByAlias(template, alias)))) {
              selected.push({ template, version });
            }
          }
        }
        const keyOf = (view: { template: SimLaunchTemplate; version: SimLaunchTemplateVersion }) =>
          `${view.template.launchTemplateId}#${String(view.version.versionNumber).padStart(10, '0')}`;
        selected.sort((a, b) => compareKeys(keyOf(a), keyOf(b)));
        const limit = pageSize(input.MaxResults, {
          fallback: Number.POSITIVE_INFINITY,
          min: 1,
          max: 200,
          errorCode: 'InvalidParameterValue',
          parameter: 'MaxResults',
        });
        const after = decodeToken(input.NextToken, 'DescribeLaunchTemplateVersions', TOKEN_ERROR);
        const start = after === undefined ? 0 : upperBound(selected.map(keyOf), after);
        const filter = compileFilters(input.Filters, versionFilters);
        const page: LaunchTemplateVersion[] = [];
        let lastKey: string | undefined;
        for (let i = start; i < selected.length; i++) {
          const { template, version } = selected[i] as (typeof selected)[number];
          const imageId = input.ResolveAlias ? resolveAlias(version.imageId) : version.imageId;
          if (!filter({ template, version, imageId })) continue;
          if (page.length === limit) {
            return {
              LaunchTemplateVersions: page,
              NextToken: encodeToken('DescribeLaunchTemplateVersions', lastKey as string),
            };
          }
          page.push({
            LaunchTemplateId: template.launchTemplateId,
            LaunchTemplateName: template.launchTemplateName,
            VersionNumber: version.versionNumber,
            ...(version.description === undefined ? {} : { VersionDescription: version.description }),
            CreateTime: new Date(version.createTime),
            CreatedBy: createdBy(),
            DefaultVersion: template.defaultVersion === version.versionNumber,
            LaunchTemplateData: {
              ...(imageId === undefined ? {} : { ImageId: imageId }),
              ...(version.instanceType === undefined
                ? {}
                : { InstanceType: version.instanceType as 't3.micro' }),
            },
          });
          lastKey = keyOf({ template, version });
        }
        return { LaunchTemplateVersions: page };
      },
    ),

    DeregisterImage: handler((input: DeregisterImageCommandInput): DeregisterImageResult => {
      const imageId = input.ImageId ?? '';
      checkIdFormat([imageId], 'ami', 'InvalidAMIID.Malformed');
      const image = account.images.get(imageId);
      if (image === undefined) throw imageNotFound([imageId]);
      if (image.deregistrationProtection !== 'disabled') {
        throw new SimulatedAwsError(
          'OperationNotPermitted',
          `Image ${imageId} has deregistration protection enabled. Disable deregistration protection before deregistering the image.`,
        );
      }
      account.removeImage(imageId);
      account.recycleBin.retainImage(image);
      if (!input.DeleteAssociatedSnapshots) return { Return: true };
      const results: DeleteSnapshotReturnCode[] = image.blockDeviceMappings.map(({ snapshotId }) => {
        // A snapshot another AMI still maps is skipped, never deleted (AWS's documented rule).
        if (account.imagesUsingSnapshot(snapshotId).length > 0)
          return { SnapshotId: snapshotId, ReturnCode: 'skipped' };
        const removed = account.removeSnapshot(snapshotId);
        if (removed) account.recycleBin.retainSnapshot(removed);
        return { SnapshotId: snapshotId, ReturnCode: 'success' };
      });
      return { Return: true, DeleteSnapshotResults: results };
    }),

    DeleteSnapshot: handler((input: DeleteSnapshotCommandInput): object => {
      const snapshotId = input.SnapshotId ?? '';
      checkIdFormat([snapshotId], 'snap', 'InvalidSnapshotID.Malformed');
      if (!account.snapshots.has(snapshotId)) throw snapshotNotFound(snapshotId);
      const users = account.imagesUsingSnapshot(snapshotId);
      if (users.length > 0) {
        throw new SimulatedAwsError(
          'InvalidSnapshot.InUse',
          `The snapshot ${snapshotId} is currently in use by ${users.join(', ')}`,
        );
      }
      const removed = account.removeSnapshot(snapshotId);
      if (removed) account.recycleBin.retainSnapshot(removed);
      return {};
    }),
  };
}

function renderInstance(instance: SimInstance, region: string): Instance {
  return {
    InstanceId: instance.instanceId,
    ImageId: instance.imageId,
    InstanceType: instance.instanceType as Instance['InstanceType'],
    LaunchTime: new Date(instance.launchTime),
    State: {
      Code: INSTANCE_STATE_CODES[instance.state] ?? 0,
      Name: instance.state as NonNullable<Instance['State']>['Name'],
    },
    Placement: { AvailabilityZone: `${region}a`, Tenancy: 'default' },
    Architecture: 'x86_64',
    RootDeviceType: 'ebs',
    RootDeviceName: '/dev/xvda',
    VirtualizationType: 'hvm',
    Hypervisor: 'xen',
    ...tagsField(instance.tags),
  };
}
