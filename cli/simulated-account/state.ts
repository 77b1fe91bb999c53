/**
 * The simulated account's resources: plain, mutable records, close to what AWS stores. Handlers
 * render them into the SDK's output shapes; tests and seeds create them through the account's
 * `add…` mutators, which keep the indexes (snapshot users, ids) consistent.
 */

export type DeregistrationProtection = 'disabled' | 'enabled-without-cooldown' | 'enabled-with-cooldown';

export interface SimBlockDevice {
  readonly deviceName: string;
  readonly snapshotId: string;
  readonly volumeSizeGiB: number;
  readonly volumeType: string;
  readonly deleteOnTermination: boolean;
  readonly encrypted: boolean;
}

/**
 * `{ userId }` shares with one account, `{ organizationArn }` with every account of the
 * organization, `{ organizationalUnitArn }` with every account under that OU (at any depth);
 * `{ group: 'all' }` makes the image public.
 */
export type SimLaunchPermission =
  | { readonly userId: string }
  | { readonly organizationArn: string }
  | { readonly organizationalUnitArn: string }
  | { readonly group: 'all' };

export interface SimImage {
  readonly imageId: string;
  name: string;
  description: string;
  /** ISO-8601 with milliseconds, as EC2 reports it. */
  creationDate: string;
  /** available, pending, failed, disabled, ... */
  state: string;
  readonly ownerId: string;
  tags: Record<string, string>;
  readonly blockDeviceMappings: SimBlockDevice[];
  readonly rootDeviceName: string;
  readonly architecture: string;
  launchPermissions: SimLaunchPermission[];
  deregistrationProtection: DeregistrationProtection;
  readonly sourceInstanceId?: string;
  lastLaunchedTime?: string;
}

export interface SimSnapshot {
  readonly snapshotId: string;
  readonly volumeId: string;
  readonly volumeSizeGiB: number;
  description: string;
  /** pending, completed, error, ... */
  state: string;
  /** ISO-8601. */
  readonly startTime: string;
  readonly ownerId: string;
  tags: Record<string, string>;
  readonly encrypted: boolean;
}

export interface SimInstance {
  readonly instanceId: string;
  readonly reservationId: string;
  readonly imageId: string;
  /** pending, running, shutting-down, terminated, stopping, stopped */
  state: string;
  readonly instanceType: string;
  readonly launchTime: string;
  tags: Record<string, string>;
}

export interface SimLaunchTemplateVersion {
  readonly versionNumber: number;
  /** An AMI id, or an alias such as `resolve:ssm:/amicleaner/golden-ami`; absent if the version sets none. */
  readonly imageId?: string;
  readonly instanceType?: string;
  readonly description?: string;
  readonly createTime: string;
}

export interface SimLaunchTemplate {
  readonly launchTemplateId: string;
  readonly launchTemplateName: string;
  readonly createTime: string;
  defaultVersion: number;
  latestVersion: number;
  /** Ordered by version number (versions are only ever appended). */
  readonly versions: SimLaunchTemplateVersion[];
  tags: Record<string, string>;
}

export interface SimLaunchConfiguration {
  readonly name: string;
  readonly imageId: string;
  readonly instanceType: string;
  readonly createdTime: string;
}

/** How a group names a template: by id or by name, and a version (`$Default`, `$Latest` or a number). */
export interface SimLaunchTemplateSpec {
  readonly launchTemplateId?: string;
  readonly launchTemplateName?: string;
  readonly version?: string;
}

export interface SimMixedInstancesPolicy {
  readonly launchTemplate: SimLaunchTemplateSpec;
  readonly overrides: readonly {
    readonly instanceType: string;
    readonly launchTemplate?: SimLaunchTemplateSpec;
  }[];
}

export interface SimAutoScalingGroup {
  readonly name: string;
  desiredCapacity: number;
  minSize: number;
  maxSize: number;
  readonly launchConfigurationName?: string;
  readonly launchTemplate?: SimLaunchTemplateSpec;
  readonly mixedInstancesPolicy?: SimMixedInstancesPolicy;
  readonly createdTime: string;
  tags: Record<string, string>;
}

export interface SimParameter {
  readonly name: string;
  value: string;
  /** String, StringList or SecureString. */
  type: string;
  /** `text`, or `aws:ec2:image` for AMI ids. */
  dataType: string;
  version: number;
  lastModifiedDate: string;
}

export interface SimObject {
  readonly body: Buffer;
  readonly contentType?: string;
  readonly etag: string;
  readonly lastModified: string;
  readonly metadata: Record<string, string>;
}

export interface SimSecret {
  readonly name: string;
  readonly arn: string;
  value: string;
  versionId: string;
  /** The value staged AWSPREVIOUS by the last rotateSecret, if any. */
  previous?: { readonly value: string; readonly versionId: string } | undefined;
  readonly createdDate: string;
}

/** One SNS Publish, as the simulated topic received it (what an email subscriber would get). */
export interface PublishedMessage {
  readonly messageId: string;
  readonly topicArn: string;
  readonly subject?: string;
  readonly message: string;
  readonly messageAttributes: Readonly<Record<string, string>>;
  readonly publishedAt: string;
}
