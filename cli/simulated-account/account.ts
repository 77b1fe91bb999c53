import { createHash } from 'node:crypto';
import type { DeserializeHandlerOutput, DeserializeMiddleware } from '@smithy/types';
import { createAutoScalingHandlers } from './autoscaling.ts';
import { createEc2Handlers } from './ec2.ts';
import { defaultStatusFor, SimulatedAwsError, unsupportedOperation } from './errors.ts';
import { IdGenerator } from './ids.ts';
import { createImageReferenceHandlers } from './image-references.ts';
import { createImageBuilderHandlers, ImageBuilderState } from './imagebuilder.ts';
import { createMessagingHandlers } from './messaging.ts';
import { createRecycleBinHandlers, RecycleBin } from './recycle-bin.ts';
import { answer } from './sdk-errors.ts';
import type {
  DeregistrationProtection,
  PublishedMessage,
  SimAutoScalingGroup,
  SimBlockDevice,
  SimImage,
  SimInstance,
  SimLaunchConfiguration,
  SimLaunchPermission,
  SimLaunchTemplate,
  SimLaunchTemplateSpec,
  SimLaunchTemplateVersion,
  SimMixedInstancesPolicy,
  SimObject,
  SimParameter,
  SimSecret,
  SimSnapshot,
} from './state.ts';
import { SortedStore } from './store.ts';
import { TaskTokens } from './task-tokens.ts';
import { createUsageReportHandlers, type SimulatedUsageReports } from './usage-reports.ts';

/** One command handler: SDK input in, SDK output shape (without `$metadata`) out. */
export type CommandHandler = (input: unknown) => object | Promise<object>;
export type ServiceHandlers = Readonly<Record<string, CommandHandler>>;

/** Wraps a typed handler so the registry can hold handlers of every input type. */
export function handler<I, O extends object>(fn: (input: I) => O | Promise<O>): CommandHandler {
  return (input) => fn(input as I);
}

/** One request as the account received it: every attempt, including injected failures and retries. */
export interface CallRecord {
  readonly service: string;
  readonly command: string;
  /** The request input; bodies and task tokens are replaced by placeholders (tokens are never logged). */
  readonly input: Readonly<Record<string, unknown>>;
  /** AWS error code if the call failed. */
  error?: string;
}

export interface RateLimit {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

/**
 * The EC2 token buckets from MISSION.md, per account and region, one bucket per API action: EC2's
 * request rate limiting "evaluates each API individually", so DescribeImages spending its tokens
 * leaves DescribeInstances' untouched (docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html).
 */
export const EC2_RATE_LIMITS: Readonly<Record<string, RateLimit>> = {
  DescribeImages: { capacity: 100, refillPerSecond: 20 },
  DescribeImageAttribute: { capacity: 100, refillPerSecond: 20 },
  // Assumed to draw on the describe bucket too; AWS does not document its own bucket for it.
  DescribeImageReferences: { capacity: 100, refillPerSecond: 20 },
  DescribeSnapshots: { capacity: 100, refillPerSecond: 20 },
  DescribeInstances: { capacity: 100, refillPerSecond: 20 },
  DescribeLaunchTemplates: { capacity: 100, refillPerSecond: 20 },
  DescribeLaunchTemplateVersions: { capacity: 100, refillPerSecond: 20 },
  DeregisterImage: { capacity: 100, refillPerSecond: 5 },
  DeleteSnapshot: { capacity: 100, refillPerSecond: 5 },
  CreateTags: { capacity: 100, refillPerSecond: 10 },
};

export interface SimulatedAccountOptions {
  /** Default `123456789012`. */
  readonly accountId?: string;
  /** Used in ARNs and availability zones. Default `eu-west-1`. */
  readonly region?: string;
  /** Seeds every generated id, so the same seed and the same calls give the same ids. Default `ami-cleaner`. */
  readonly seed?: string;
  /** Time stamps for things created without an explicit time (objects, parameters, messages). */
  readonly clock?: () => Date;
}

/** The smallest surface of an SDK v3 client that `attach` needs. */
export interface AttachableClient {
  readonly config: { readonly serviceId?: string };
  readonly middlewareStack: {
    add(
      middleware: DeserializeMiddleware<object, object>,
      options: { step: 'deserialize'; name: string; priority: 'high'; tags?: string[]; override?: boolean },
    ): void;
    remove(toRemove: string): boolean;
  };
}

export interface AddImageInput {
  readonly imageId?: string;
  readonly name: string;
  readonly description?: string;
  readonly creationDate: string | Date;
  /** Default `available`. */
  readonly state?: string;
  readonly tags?: Readonly<Record<string, string>>;
  /** New EBS snapshots to create for this image (GiB each); the first is the root volume. Default one of 8 GiB. */
  readonly volumes?: readonly number[];
  /** Existing snapshots mapped as well, e.g. one shared with another image. */
  readonly existingSnapshots?: readonly { readonly snapshotId: string; readonly sizeGiB?: number }[];
  readonly launchPermissions?: readonly SimLaunchPermission[];
  readonly deregistrationProtection?: DeregistrationProtection;
  /** The instance CreateImage ran on; generated when omitted. */
  readonly sourceInstanceId?: string;
}

export interface AddSnapshotInput {
  readonly snapshotId?: string;
  readonly sizeGiB: number;
  readonly description?: string;
  /** Default `completed`. */
  readonly state?: string;
  readonly startTime: string | Date;
  readonly volumeId?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface AddInstanceInput {
  readonly instanceId?: string;
  readonly imageId: string;
  /** Default `running`. */
  readonly state?: string;
  readonly instanceType?: string;
  readonly launchTime: string | Date;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface LaunchTemplateVersionInput {
  /** An AMI id or an alias such as `resolve:ssm:/amicleaner/golden-ami`. */
  readonly imageId?: string;
  readonly instanceType?: string;
  readonly description?: string;
}

export interface AddLaunchTemplateInput {
  readonly launchTemplateId?: string;
  readonly name: string;
  /** Version 1, 2, ... in order. At least one. */
  readonly versions: readonly LaunchTemplateVersionInput[];
  /** Default 1. */
  readonly defaultVersion?: number;
  readonly createTime: string | Date;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface AddLaunchConfigurationInput {
  readonly name: string;
  readonly imageId: string;
  readonly instanceType?: string;
  readonly createdTime: string | Date;
}

export interface AddAutoScalingGroupInput {
  readonly name: string;
  readonly desiredCapacity: number;
  readonly minSize?: number;
  readonly maxSize?: number;
  readonly launchConfigurationName?: string;
  readonly launchTemplate?: SimLaunchTemplateSpec;
  readonly mixedInstancesPolicy?: SimMixedInstancesPolicy;
  readonly createdTime: string | Date;
  readonly tags?: Readonly<Record<string, string>>;
}

const READ_ONLY_PREFIXES = /^(Describe|Get|List|Head)/;

/** `DescribeImagesCommand` and `DescribeImages` both name the operation `DescribeImages`. */
function commandName(command: string): string {
  return command.replace(/Command$/, '');
}

/** True for any API call that changes state (deregister, delete, put, publish, send...). */
export function isMutatingCommand(command: string): boolean {
  return !READ_ONLY_PREFIXES.test(commandName(command));
}

const INSTANCE_DEVICE_NAMES = ['/dev/xvda', '/dev/xvdb', '/dev/xvdc', '/dev/xvdd', '/dev/xvde', '/dev/xvdf'];

const CANONICAL_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** EC2's time format (ISO-8601 with milliseconds); canonical strings pass through unparsed. */
function iso(time: string | Date): string {
  if (typeof time === 'string') return CANONICAL_ISO.test(time) ? time : new Date(time).toISOString();
  return time.toISOString();
}

/**
 * An in-memory, stateful AWS account behind the real SDK v3 clients. `attach(client)` puts one
 * middleware in the client's deserialize step: the SDK still validates, serializes, signs and
 * retries each request, then the account answers it by command name, and nothing reaches the
 * network. See docs/DESIGN.md, "Simulated account".
 */
export class SimulatedAccount {
  readonly accountId: string;
  readonly region: string;
  readonly ids: IdGenerator;
  readonly now: () => Date;

  // EC2
  readonly images = new SortedStore<SimImage>();
  readonly snapshots = new SortedStore<SimSnapshot>();
  readonly instances = new SortedStore<SimInstance>();
  readonly launchTemplates = new SortedStore<SimLaunchTemplate>();
  readonly launchTemplateIdsByName = new Map<string, string>();
  /** Deregistered AMIs and deleted snapshots a retention rule keeps (see recycle-bin.ts). */
  readonly recycleBin: RecycleBin;
  // Auto Scaling
  readonly launchConfigurations = new SortedStore<SimLaunchConfiguration>();
  readonly autoScalingGroups = new SortedStore<SimAutoScalingGroup>();
  // Image Builder recipes
  readonly imageBuilder: ImageBuilderState;
  // SSM, S3, Secrets Manager, SNS, SFN
  readonly parameters = new SortedStore<SimParameter>();
  readonly objects = new Map<string, SimObject>();
  readonly secrets = new Map<string, SimSecret>();
  /** Every SNS Publish, oldest first. */
  readonly published: PublishedMessage[] = [];
  readonly taskTokens: TaskTokens;

  /** Every request received, oldest first (see `CallRecord`). */
  readonly calls: CallRecord[] = [];

  /**
   * Images of other accounts this one may launch in its region. Alone, none; the simulated
   * organization answers for its members (launch permissions to the account, an OU above it, the
   * organization, or everyone).
   */
  imagesSharedWithAccount: () => readonly SimImage[] = () => [];
  /** Image usage reports: the simulated organization's store; alone, none (UnsupportedOperation). */
  usageReports: SimulatedUsageReports | undefined;

  /** snapshot id -> ids of the images whose block device mappings name it. */
  private readonly snapshotUsers = new Map<string, Set<string>>();
  private readonly requestIds: IdGenerator;
  private readonly injected = new Map<
    string,
    { code: string; message?: string; httpStatusCode?: number }[]
  >();
  private readonly buckets = new Map<string, RateLimit & { tokens: number; updatedAt: number }>();
  private latencyMs = 0;
  private readonly handlers: Readonly<Record<string, ServiceHandlers>>;

  constructor(options: SimulatedAccountOptions = {}) {
    this.accountId = options.accountId ?? '123456789012';
    this.region = options.region ?? 'eu-west-1';
    const seed = options.seed ?? 'ami-cleaner';
    this.ids = new IdGenerator(seed);
    this.requestIds = new IdGenerator(`requests:${seed}`);
    this.taskTokens = new TaskTokens(seed);
    this.now = options.clock ?? (() => new Date());
    this.imageBuilder = new ImageBuilderState(this.accountId, this.region, this.now);
    this.recycleBin = new RecycleBin(() => this.now());
    this.handlers = {
      EC2: {
        ...createEc2Handlers(this),
        ...createImageReferenceHandlers(this),
        ...createRecycleBinHandlers(this),
        ...createUsageReportHandlers(this),
      },
      'Auto Scaling': createAutoScalingHandlers(this),
      imagebuilder: createImageBuilderHandlers(this.imageBuilder),
      ...createMessagingHandlers(this),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Wiring
  // -------------------------------------------------------------------------------------------

  /**
   * Routes every command of this SDK client to the account, and returns the client. The middleware
   * sits first in the deserialize step: after the retry and signing middleware (finalizeRequest
   * step), before the SDK's deserializer, which it replaces, so no HTTP handler is ever called.
   * The client's credentials are replaced by a static fake identity, so a default credential
   * chain never probes the network (IMDS, SSO) either. Attaching twice is harmless.
   */
  attach<C extends AttachableClient>(client: C): C {
    const serviceId = client.config.serviceId ?? '';
    if (this.handlers[serviceId] === undefined) {
      throw new Error(
        `The simulated account has no ${serviceId || 'such'} service (supported: ${Object.keys(this.handlers).join(', ')})`,
      );
    }
    client.middlewareStack.remove('simulatedAccount');
    client.middlewareStack.add(this.middleware(serviceId), {
      step: 'deserialize',
      name: 'simulatedAccount',
      priority: 'high',
      tags: ['SIMULATED_ACCOUNT'],
    });
    Object.assign(client.config, {
      credentials: async () => ({ accessKeyId: 'SIMULATED', secretAccessKey: 'SIMULATED' }),
    });
    return client;
  }

  private middleware(serviceId: string): DeserializeMiddleware<object, object> {
    return (_next, context) => async (args) => {
      const command = commandName(context.commandName ?? '');
      return this.handle(serviceId, command, args.input as Record<string, unknown>);
    };
  }

  /**
   * Answers one command as the attached middleware does (call record, injected failure, rate
   * limit, handler). The simulated organization routes each signed request to the account and
   * region it is for through this.
   */
  async handle(
    serviceId: string,
    command: string,
    input: Record<string, unknown>,
  ): Promise<DeserializeHandlerOutput<object>> {
    const requestId = this.requestIds.uuid();
    const record: CallRecord = { service: serviceId, command, input: summarize(input) };
    this.calls.push(record);
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    return answer(serviceId, requestId, record, () => {
      this.takeInjectedFailure(command);
      this.takeRateLimitToken(command);
      const commandHandler = this.handlers[serviceId]?.[command];
      if (commandHandler === undefined) throw unsupportedOperation(serviceId, command);
      return commandHandler(input);
    });
  }

  // -------------------------------------------------------------------------------------------
  // Knobs for tests and benchmarks
  // -------------------------------------------------------------------------------------------

  /**
   * The next `times` calls of `command` (e.g. `DescribeImages`) fail with AWS error `code`
   * (`RequestLimitExceeded`, `InternalError`, `UnauthorizedOperation`, ...). The HTTP status
   * follows AWS (503 for throttling, 500 for internal errors, 403 for access errors), so the SDK's
   * retry strategy treats each exactly as it would treat the real one.
   */
  failNext(
    command: string,
    code: string,
    times = 1,
    options: { readonly message?: string; readonly httpStatusCode?: number } = {},
  ): void {
    const name = commandName(command);
    const queue = this.injected.get(name) ?? [];
    for (let i = 0; i < times; i++) queue.push({ code, ...options });
    this.injected.set(name, queue);
  }

  /** Throttles `command` with a token bucket (RequestLimitExceeded when empty); `undefined` removes it. */
  setRateLimit(command: string, limit: RateLimit | undefined): void {
    const name = commandName(command);
    if (limit === undefined) this.buckets.delete(name);
    else this.buckets.set(name, { ...limit, tokens: limit.capacity, updatedAt: performance.now() });
  }

  /**
   * Applies AWS's EC2 API rate limits (`EC2_RATE_LIMITS`), for benchmarks that must respect them.
   * `timeScale` > 1 runs the buckets on a clock that many times faster (refill × timeScale, the
   * same capacity), so a backlog of hours can be measured in minutes: rates are then compared
   * with the scaled refill.
   */
  useEc2RateLimits(timeScale = 1): void {
    for (const [command, limit] of Object.entries(EC2_RATE_LIMITS)) {
      this.setRateLimit(command, { ...limit, refillPerSecond: limit.refillPerSecond * timeScale });
    }
  }

  /** Delays every answer, to make concurrency visible in benchmarks. */
  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** A fresh uuid-shaped id (message ids, version ids), from the account's seed. */
  uuid(): string {
    return this.requestIds.uuid();
  }

  isMutating(command: string): boolean {
    return isMutatingCommand(command);
  }

  /** The calls that changed (or tried to change) state. */
  mutatingCalls(): CallRecord[] {
    return this.calls.filter((call) => isMutatingCommand(call.command));
  }

  callsTo(command: string): CallRecord[] {
    const name = commandName(command);
    return this.calls.filter((call) => call.command === name);
  }

  /** Every SNS message published, oldest first (the simulated topic's email subscriber's inbox). */
  get sentEmails(): readonly PublishedMessage[] {
    return this.published;
  }

  private takeInjectedFailure(command: string): void {
    const next = this.injected.get(command)?.shift();
    if (next === undefined) return;
    throw new SimulatedAwsError(
      next.code,
      next.message ?? `Injected ${next.code} for ${command}`,
      next.httpStatusCode ?? defaultStatusFor(next.code),
    );
  }

  private takeRateLimitToken(command: string): void {
    const bucket = this.buckets.get(command);
    if (bucket === undefined) return;
    const now = performance.now();
    bucket.tokens = Math.min(
      bucket.capacity,
      bucket.tokens + ((now - bucket.updatedAt) / 1000) * bucket.refillPerSecond,
    );
    bucket.updatedAt = now;
    if (bucket.tokens < 1)
      throw new SimulatedAwsError('RequestLimitExceeded', 'Request limit exceeded.', 503);
    bucket.tokens -= 1;
  }

  // -------------------------------------------------------------------------------------------
  // State: queries used by the handlers
  // -------------------------------------------------------------------------------------------

  /** Ids of the images whose block device mappings name this snapshot. */
  imagesUsingSnapshot(snapshotId: string): readonly string[] {
    return [...(this.snapshotUsers.get(snapshotId) ?? [])];
  }

  findLaunchTemplate(spec: {
    launchTemplateId?: string;
    launchTemplateName?: string;
  }): SimLaunchTemplate | undefined {
    const id = spec.launchTemplateId ?? this.launchTemplateIdsByName.get(spec.launchTemplateName ?? '');
    return id === undefined ? undefined : this.launchTemplates.get(id);
  }

  // -------------------------------------------------------------------------------------------
  // State: mutators (seeds, tests, and the handlers that change state)
  // -------------------------------------------------------------------------------------------

  /**
   * Registers an AMI as CreateImage would: one new snapshot per volume, each described
   * `Created by CreateImage(i-…) for ami-… from vol-…`, plus any existing snapshots named.
   */
  addImage(input: AddImageInput): SimImage {
    const imageId = input.imageId ?? this.ids.next('ami');
    if (input.imageId !== undefined) this.ids.reserve(imageId);
    if (this.images.has(imageId)) throw new Error(`Image ${imageId} already exists`);
    const creationDate = iso(input.creationDate);
    const sourceInstanceId = input.sourceInstanceId ?? this.ids.next('i');
    const devices: SimBlockDevice[] = [];
    for (const sizeGiB of input.volumes ?? [8]) {
      const volumeId = this.ids.next('vol');
      const snapshot = this.addSnapshot({
        sizeGiB,
        volumeId,
        startTime: creationDate,
        description: `Created by CreateImage(${sourceInstanceId}) for ${imageId} from ${volumeId}`,
      });
      devices.push(this.device(devices.length, snapshot.snapshotId, sizeGiB));
    }
    for (const existing of input.existingSnapshots ?? []) {
      const snapshot = this.snapshots.get(existing.snapshotId);
      if (snapshot === undefined) throw new Error(`Snapshot ${existing.snapshotId} does not exist`);
      devices.push(
        this.device(devices.length, snapshot.snapshotId, existing.sizeGiB ?? snapshot.volumeSizeGiB),
      );
    }
    const image: SimImage = {
      imageId,
      name: input.name,
      description: input.description ?? '',
      creationDate,
      state: input.state ?? 'available',
      ownerId: this.accountId,
      tags: { ...input.tags },
      blockDeviceMappings: devices,
      rootDeviceName: INSTANCE_DEVICE_NAMES[0] as string,
      architecture: 'x86_64',
      launchPermissions: [...(input.launchPermissions ?? [])],
      deregistrationProtection: input.deregistrationProtection ?? 'disabled',
      sourceInstanceId,
    };
    this.images.set(imageId, image);
    for (const device of devices) this.snapshotUsersOf(device.snapshotId).add(imageId);
    return image;
  }

  /** Removes an image (DeregisterImage); its snapshots stay, as in AWS. */
  removeImage(imageId: string): SimImage | undefined {
    const image = this.images.get(imageId);
    if (image === undefined) return undefined;
    this.images.delete(imageId);
    for (const device of image.blockDeviceMappings) {
      const users = this.snapshotUsers.get(device.snapshotId);
      users?.delete(imageId);
      if (users?.size === 0) this.snapshotUsers.delete(device.snapshotId);
    }
    return image;
  }

  /** Registers again an image taken out of the Recycle Bin (same id, mappings and tags). */
  restoreImage(image: SimImage): void {
    if (this.images.has(image.imageId)) throw new Error(`Image ${image.imageId} already exists`);
    this.images.set(image.imageId, image);
    for (const device of image.blockDeviceMappings)
      this.snapshotUsersOf(device.snapshotId).add(image.imageId);
  }

  /** Puts back a snapshot taken out of the Recycle Bin. */
  restoreSnapshot(snapshot: SimSnapshot): void {
    if (this.snapshots.has(snapshot.snapshotId))
      throw new Error(`Snapshot ${snapshot.snapshotId} already exists`);
    this.snapshots.set(snapshot.snapshotId, snapshot);
  }

  addSnapshot(input: AddSnapshotInput): SimSnapshot {
    const snapshotId = input.snapshotId ?? this.ids.next('snap');
    if (input.snapshotId !== undefined) this.ids.reserve(snapshotId);
    if (this.snapshots.has(snapshotId)) throw new Error(`Snapshot ${snapshotId} already exists`);
    const snapshot: SimSnapshot = {
      snapshotId,
      volumeId: input.volumeId ?? this.ids.next('vol'),
      volumeSizeGiB: input.sizeGiB,
      description: input.description ?? '',
      state: input.state ?? 'completed',
      startTime: iso(input.startTime),
      ownerId: this.accountId,
      tags: { ...input.tags },
      encrypted: false,
    };
    this.snapshots.set(snapshotId, snapshot);
    return snapshot;
  }

  removeSnapshot(snapshotId: string): SimSnapshot | undefined {
    const snapshot = this.snapshots.get(snapshotId);
    this.snapshots.delete(snapshotId);
    return snapshot;
  }

  addInstance(input: AddInstanceInput): SimInstance {
    const instanceId = input.instanceId ?? this.ids.next('i');
    if (input.instanceId !== undefined) this.ids.reserve(instanceId);
    const instance: SimInstance = {
      instanceId,
      reservationId: this.ids.next('r'),
      imageId: input.imageId,
      state: input.state ?? 'running',
      instanceType: input.instanceType ?? 't3.micro',
      launchTime: iso(input.launchTime),
      tags: { ...input.tags },
    };
    this.instances.set(instanceId, instance);
    return instance;
  }

  addLaunchTemplate(input: AddLaunchTemplateInput): SimLaunchTemplate {
    if (input.versions.length === 0) throw new Error('A launch template needs at least one version');
    if (this.launchTemplateIdsByName.has(input.name)) throw new Error(`Launch template ${input.name} exists`);
    const launchTemplateId = input.launchTemplateId ?? this.ids.next('lt');
    const createTime = iso(input.createTime);
    const template: SimLaunchTemplate = {
      launchTemplateId,
      launchTemplateName: input.name,
      createTime,
      defaultVersion: input.defaultVersion ?? 1,
      latestVersion: input.versions.length,
      versions: input.versions.map((version, index) => ({
        versionNumber: index + 1,
        createTime,
        ...version,
      })),
      tags: { ...input.tags },
    };
    if (template.defaultVersion < 1 || template.defaultVersion > template.latestVersion) {
      throw new Error(`Default version ${template.defaultVersion} does not exist`);
    }
    this.launchTemplates.set(launchTemplateId, template);
    this.launchTemplateIdsByName.set(input.name, launchTemplateId);
    return template;
  }

  /** CreateLaunchTemplateVersion (and ModifyLaunchTemplate when `makeDefault`). */
  addLaunchTemplateVersion(
    spec: { launchTemplateId?: string; launchTemplateName?: string },
    version: LaunchTemplateVersionInput,
    options: { readonly makeDefault?: boolean; readonly createTime?: string | Date } = {},
  ): SimLaunchTemplateVersion {
    const template = this.findLaunchTemplate(spec);
    if (template === undefined) throw new Error('No such launch template');
    const created: SimLaunchTemplateVersion = {
      versionNumber: template.latestVersion + 1,
      createTime: iso(options.createTime ?? this.now()),
      ...version,
    };
    template.versions.push(created);
    template.latestVersion = created.versionNumber;
    if (options.makeDefault) template.defaultVersion = created.versionNumber;
    return created;
  }

  addLaunchConfiguration(input: AddLaunchConfigurationInput): SimLaunchConfiguration {
    const configuration: SimLaunchConfiguration = {
      name: input.name,
      imageId: input.imageId,
      instanceType: input.instanceType ?? 't3.micro',
      createdTime: iso(input.createdTime),
    };
    this.launchConfigurations.set(input.name, configuration);
    return configuration;
  }

  addAutoScalingGroup(input: AddAutoScalingGroupInput): SimAutoScalingGroup {
    const group: SimAutoScalingGroup = {
      name: input.name,
      desiredCapacity: input.desiredCapacity,
      minSize: input.minSize ?? 0,
      maxSize: input.maxSize ?? Math.max(1, input.desiredCapacity),
      createdTime: iso(input.createdTime),
      tags: { ...input.tags },
      ...(input.launchConfigurationName === undefined
        ? {}
        : { launchConfigurationName: input.launchConfigurationName }),
      ...(input.launchTemplate === undefined ? {} : { launchTemplate: input.launchTemplate }),
      ...(input.mixedInstancesPolicy === undefined
        ? {}
        : { mixedInstancesPolicy: input.mixedInstancesPolicy }),
    };
    this.autoScalingGroups.set(input.name, group);
    return group;
  }

  /** PutParameter (overwrite): AMI ids get the `aws:ec2:image` data type, as SSM sets it. */
  putParameter(
    name: string,
    value: string,
    options: { readonly type?: string; readonly dataType?: string; readonly at?: string | Date } = {},
  ): SimParameter {
    const previous = this.parameters.get(name);
    const parameter: SimParameter = {
      name,
      value,
      type: options.type ?? 'String',
      dataType: options.dataType ?? (/^ami-[0-9a-f]+$/.test(value) ? 'aws:ec2:image' : 'text'),
      version: (previous?.version ?? 0) + 1,
      lastModifiedDate: iso(options.at ?? this.now()),
    };
    this.parameters.set(name, parameter);
    return parameter;
  }

  /** A rotation: the value becomes AWSCURRENT and the one it replaces AWSPREVIOUS. */
  rotateSecret(name: string, value: string): SimSecret {
    const existing = this.secrets.get(name);
    if (existing === undefined) throw new Error(`no secret ${name} to rotate`);
    const previous = { value: existing.value, versionId: existing.versionId };
    const rotated = this.putSecret(name, value);
    rotated.previous = previous;
    return rotated;
  }

  putSecret(name: string, value: string): SimSecret {
    const existing = this.secrets.get(name);
    if (existing !== undefined) {
      existing.previous = undefined;
      existing.value = value;
      existing.versionId = this.requestIds.uuid();
      return existing;
    }
    const secret: SimSecret = {
      name,
      arn: `arn:aws:secretsmanager:${this.region}:${this.accountId}:secret:${name}-${this.ids.next('x', 6).slice(2)}`,
      value,
      versionId: this.requestIds.uuid(),
      createdDate: iso(this.now()),
    };
    this.secrets.set(name, secret);
    return secret;
  }

  /** Stores an S3 object directly (what PutObject does). */
  putObject(bucket: string, key: string, body: string | Uint8Array, contentType?: string): SimObject {
    const buffer = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
    const object: SimObject = {
      body: buffer,
      etag: `"${md5Hex(buffer)}"`,
      lastModified: iso(this.now()),
      metadata: {},
      ...(contentType === undefined ? {} : { contentType }),
    };
    this.objects.set(`${bucket}/${key}`, object);
    return object;
  }

  /** The text of an S3 object, or undefined. */
  readObject(bucket: string, key: string): string | undefined {
    return this.objects.get(`${bucket}/${key}`)?.body.toString('utf8');
  }

  private device(index: number, snapshotId: string, volumeSizeGiB: number): SimBlockDevice {
    return {
      deviceName: INSTANCE_DEVICE_NAMES[index] ?? `/dev/sd${String.fromCharCode(98 + index)}`,
      snapshotId,
      volumeSizeGiB,
      volumeType: 'gp3',
      deleteOnTermination: true,
      encrypted: false,
    };
  }

  private snapshotUsersOf(snapshotId: string): Set<string> {
    let users = this.snapshotUsers.get(snapshotId);
    if (users === undefined) {
      users = new Set();
      this.snapshotUsers.set(snapshotId, users);
    }
    return users;
  }
}

function md5Hex(buffer: Buffer): string {
  return createHash('md5').update(buffer).digest('hex');
}

/** The call log keeps inputs readable but never holds bodies or task tokens. */
function summarize(input: Record<string, unknown>): Record<string, unknown> {
  const summary: Record<string, unknown> = { ...input };
  if ('Body' in summary) summary.Body = '[body]';
  if ('taskToken' in summary) summary.taskToken = '[task token]';
  if ('SecretString' in summary) summary.SecretString = '[secret]';
  return summary;
}
