/**
 * The planning core's data model. Plain data only: no SDK types cross this line, so every rule
 * in `functions/core/` can be tested on literals and reused by the Lambdas, the CLI and the
 * local runner alike.
 */

/** One EBS snapshot behind an AMI's block device mapping. */
export interface ImageSnapshot {
  readonly deviceName: string;
  readonly snapshotId: string;
  /** Volume size from the block device mapping, in GiB (what the snapshot is billed against at most). */
  readonly sizeGiB: number;
}

/** An AMI owned by the account, as DescribeImages reports it. */
export interface Image {
  readonly imageId: string;
  readonly name: string;
  /** ISO-8601, as EC2 reports it. */
  readonly creationDate: string;
  /** EC2 image state: available, pending, failed, disabled, ... */
  readonly state: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly snapshots: readonly ImageSnapshot[];
  /** True when the image is public (launch permission group `all`). */
  readonly isPublic: boolean;
  /** True when deregistration protection is enabled (with or without cooldown). */
  readonly deregistrationProtection: boolean;
}

/** A snapshot owned by the account, as DescribeSnapshots reports it. Used for the orphan sweep. */
export interface Snapshot {
  readonly snapshotId: string;
  readonly sizeGiB: number;
  readonly description: string;
  /** EC2 snapshot state: pending, completed, error, ... */
  readonly state: string;
  /** ISO-8601. */
  readonly startTime: string;
}

// ---------------------------------------------------------------------------------------------
// Places an AMI can be referenced from. The inventory reads them raw; `in-use.ts` resolves them.
// ---------------------------------------------------------------------------------------------

export interface InstanceRecord {
  readonly instanceId: string;
  readonly imageId: string;
  /** pending, running, shutting-down, stopping, stopped (terminated ones are never read). */
  readonly state: string;
}

export interface LaunchTemplateRecord {
  readonly launchTemplateId: string;
  readonly launchTemplateName: string;
  readonly defaultVersion: number;
  readonly latestVersion: number;
}

export interface LaunchTemplateVersionRecord {
  readonly launchTemplateId: string;
  readonly launchTemplateName: string;
  readonly versionNumber: number;
  /** Resolved AMI id (the inventory asks EC2 to resolve `resolve:ssm:` aliases); absent if the version sets none. */
  readonly imageId?: string;
}

export interface LaunchConfigurationRecord {
  readonly name: string;
  readonly imageId: string;
}

/** How an Auto Scaling group names a launch template: by id or name, and a version ($Default, $Latest or a number). */
export interface LaunchTemplateSpec {
  readonly launchTemplateId?: string;
  readonly launchTemplateName?: string;
  /** `$Default`, `$Latest` or a version number as a string. AWS treats a missing version as `$Default`. */
  readonly version?: string;
}

export interface AutoScalingGroupRecord {
  readonly name: string;
  readonly desiredCapacity: number;
  readonly launchConfigurationName?: string;
  readonly launchTemplate?: LaunchTemplateSpec;
  /** MixedInstancesPolicy: the base template and every override's own template. */
  readonly mixedInstancesLaunchTemplate?: LaunchTemplateSpec;
  readonly mixedInstancesOverrideTemplates?: readonly LaunchTemplateSpec[];
}

export interface SsmParameterRecord {
  readonly name: string;
  readonly value: string;
}

/**
 * An EC2 Image Builder image or container recipe, as far as it can name an AMI. Only AMI ids are
 * matched; an Image Builder image ARN, an `ssm:` parameter or a Marketplace
 * product as parent is not resolved to an AMI (see DESIGN.md, "Image Builder recipes").
 */
export interface ImageBuilderRecipeRecord {
  readonly kind: 'image-recipe' | 'container-recipe';
  readonly arn: string;
  /**
   * What the recipe builds on, as written (`ami-…`, an image ARN, `ssm:…`, a container URI): an
   * image recipe's `parentImage`, a container recipe's `instanceConfiguration.image` (the AMI its
   * build instance runs). Absent if the recipe names none.
   */
  readonly baseImage?: string;
}

/** Everything one run read from the account, complete or not at all (adapters throw on any gap). */
export interface Inventory {
  readonly region: string;
  /** ISO-8601 time the reads finished. */
  readonly readAt: string;
  readonly images: readonly Image[];
  /** Completed, owned snapshots whose description says CreateImage or CopyImage made them. */
  readonly snapshots: readonly Snapshot[];
  readonly instances: readonly InstanceRecord[];
  readonly launchTemplates: readonly LaunchTemplateRecord[];
  readonly launchTemplateVersions: readonly LaunchTemplateVersionRecord[];
  readonly launchConfigurations: readonly LaunchConfigurationRecord[];
  readonly autoScalingGroups: readonly AutoScalingGroupRecord[];
  readonly ssmParameters: readonly SsmParameterRecord[];
  /** Image Builder image and container recipes owned by or shared with the account. */
  readonly imageBuilderRecipes: readonly ImageBuilderRecipeRecord[];
}

/** Where an in-use AMI is referenced from. */
export type ReferenceKind =
  | 'instance'
  | 'launch-template'
  | 'launch-configuration'
  | 'auto-scaling-group'
  | 'ssm-parameter'
  | 'image-builder-recipe';

export interface ImageReference {
  readonly imageId: string;
  readonly kind: ReferenceKind;
  /** Human-readable source, e.g. `instance i-123 (stopped)` or `launch-template lt-1 v3 ($Default)`. */
  readonly source: string;
}

// ---------------------------------------------------------------------------------------------
// The plan
// ---------------------------------------------------------------------------------------------

/** Why an AMI is not a candidate. Machine-readable; the CLI and the approval page render them. */
export const KEEP_REASONS = [
  'NO_MAPPING', // lacks the mapping (tags or name): lives in `no-tags (excluded)`
  'EXCLUDED_MAPPING_VALUE', // matched an excluded mapping value
  'IN_USE', // referenced by an instance, template, configuration, group or parameter
  'KEEP_PREVIOUS', // among the newest `keepPrevious` of its group
  'MIN_AGE', // younger than `minAgeDays`
  'OPT_OUT_TAG', // carries the opt-out tag
  'DEREGISTRATION_PROTECTION',
  'SHARED', // public or shared with other accounts, and `includeShared` is off
  'NOT_AVAILABLE', // state is not `available` (pending, failed, ...)
  'NOT_REQUESTED', // `--from-ids` was given and this AMI was not named
  // Our inventory found no reference, but EC2's DescribeImageReferences names one: the two
  // opinions disagree, so the AMI is kept and both answers are recorded.
  'AWS_REPORTS_IN_USE',
  // A would-be candidate left for a later run because this run's cap (`maxDeletionsPerRun`) is
  // reached: its launch permissions were not read, so it cannot be one. The ledger records it
  // DEFERRED, as it does candidates beyond the cap.
  'MAX_DELETIONS_PER_RUN',
  // Another account uses it: a target of the same region references it, or AWS's image usage
  // report names an account (the detail names each account and what there uses it).
  'IN_USE_BY_ACCOUNT',
  // Shared, `sharedAmis: delete-when-unused`: the image usage report was still pending when the
  // bounded wait ended, so nobody could say it is unused.
  'USAGE_REPORT_NOT_READY',
  // Shared, `delete-when-unused`: the usage report failed, or a call about it failed or answered wrongly.
  'USAGE_REPORT_FAILED',
  // Shared, `delete-when-unused`: a consumer account of the region could not be read.
  'CONSUMER_UNREADABLE',
] as const;

export type KeepReason = (typeof KEEP_REASONS)[number];

export function isKeepReason(value: unknown): value is KeepReason {
  return (KEEP_REASONS as readonly unknown[]).includes(value);
}

export interface PlannedSnapshot {
  readonly snapshotId: string;
  readonly sizeGiB: number;
  /**
   * AMIs outside this run's deletions that also map the snapshot when the plan was made: it is
   * kept, and not part of the deletion set (see `deletion-set.ts`).
   */
  readonly sharedWith?: readonly string[];
}

export interface PlanCandidate {
  /**
   * The target (account and region) this row belongs to. Every row of a plan carries it (plans
   * written before targets existed may lack it: the plan's own `accountId`/`region` stand in).
   */
  readonly accountId?: string;
  readonly region?: string;
  readonly imageId: string;
  readonly name: string;
  readonly creationDate: string;
  readonly group: string;
  readonly snapshots: readonly PlannedSnapshot[];
}

export interface KeptImage {
  /**
   * The target (account and region) this row belongs to. Every row of a plan carries it (plans
   * written before targets existed may lack it: the plan's own `accountId`/`region` stand in).
   */
  readonly accountId?: string;
  readonly region?: string;
  readonly imageId: string;
  readonly name: string;
  readonly creationDate: string;
  readonly group: string;
  readonly reason: KeepReason;
  /** Extra words for a person, e.g. the references of an in-use AMI. */
  readonly detail?: string;
  /** AWS_REPORTS_IN_USE: what each opinion said (our inventory's sources, AWS's resources). */
  readonly referenceAnswers?: ReferenceAnswers;
}

/** The two opinions on whether an AMI is in use, each as the list of what references it. */
export interface ReferenceAnswers {
  /** Sources our inventory resolved (`ImageReference.source`); empty means "unused". */
  readonly inventory: readonly string[];
  /** `<resource type> <arn>` per DescribeImageReferences entry; empty means "unused". */
  readonly aws: readonly string[];
}

/** One entry of EC2's DescribeImageReferences answer. */
export interface AwsImageReference {
  readonly imageId: string;
  /** `ec2:Instance`, `ec2:LaunchTemplate`, `ssm:Parameter`, `imagebuilder:ImageRecipe`, ... */
  readonly resourceType: string;
  readonly arn: string;
}

export interface OrphanSnapshot {
  /**
   * The target (account and region) this row belongs to. Every row of a plan carries it (plans
   * written before targets existed may lack it: the plan's own `accountId`/`region` stand in).
   */
  readonly accountId?: string;
  readonly region?: string;
  readonly snapshotId: string;
  /** The AMI the snapshot's description names, which no longer exists. */
  readonly imageId: string;
  readonly sizeGiB: number;
  readonly description: string;
}

export interface PlanGroup {
  /** The group's target; a multi-target plan has one group per target and name. */
  readonly accountId?: string;
  readonly region?: string;
  readonly name: string;
  /** Newest first. */
  readonly candidates: readonly PlanCandidate[];
  /** Newest first. */
  readonly kept: readonly KeptImage[];
}

export interface PlanTotals {
  readonly candidates: number;
  readonly candidateSnapshots: number;
  readonly candidateSizeGiB: number;
  readonly orphanSnapshots: number;
  readonly orphanSizeGiB: number;
  readonly kept: number;
}

/** A target as a plan names it (a plain pair, so plans stay JSON). */
export interface PlanTargetRef {
  readonly accountId?: string;
  readonly region: string;
}

export interface Plan {
  /** sha256 over what this run would delete (and where): the deletion set, see `deletion-set.ts`. */
  readonly planHash: string;
  /** The cap the deletion set was admitted under; absent: no cap. */
  readonly maxDeletionsPerRun?: number;
  /** One target: its region (as before targets). Many: the first target's (see `targets`). */
  readonly region: string;
  /** One target: its account, when planning knew it (a CLI plan may not). */
  readonly accountId?: string;
  /**
   * Every target of a multi-target plan, each once (rows name theirs). Absent: the one target
   * `accountId`/`region`. See DESIGN.md, "The plan the approval page reads".
   */
  readonly targets?: readonly PlanTargetRef[];
  readonly createdAt: string;
  readonly groups: readonly PlanGroup[];
  readonly orphanSnapshots: readonly OrphanSnapshot[];
  readonly totals: PlanTotals;
}
