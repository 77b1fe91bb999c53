/**
 * The construct's public props and their synth-time validation. A bad value throws here, with a
 * message naming the prop, before any resource is created.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { checkRequiredApprovals, normalizeApprovers } from '../../functions/core/approvers.ts';
import {
  DEFAULT_MAX_DELETIONS_PER_RUN,
  deletionTreeProblem,
  maxItemsWithinTree,
} from '../../functions/core/quotas.ts';
import { type RecycleBinRetention, validateRecycleBinRetention } from '../../functions/core/recycle-bin.ts';
import { type PlanSettings, resolvePlanSettings } from '../../functions/core/settings.ts';
import { definitionHistoryBudget } from './definition.ts';
import type { FunctionFactory } from './function-factory.ts';
import {
  type ResolvedOrganizationProps,
  resolveOrganization,
  type TargetsProps,
} from './organization-props.ts';
import { fail, wholeNumberIn } from './prop-checks.ts';

export type { TargetsProps } from './organization-props.ts';
export { DEFAULT_TARGET_MAX_CONCURRENCY } from './organization-props.ts';

/**
 * The planning settings a deployment may set (the CLI's planning flags). Every field is optional;
 * a missing one takes the CLI's default. Validated at synth with the core's own validator.
 */
export interface PlanSettingsProps {
  /**
   * `tags` (group by the ordered tag keys in `mappingValues`) or `name` (by substrings of the AMI name).
   * @default 'tags'
   */
  readonly mappingKey?: string;
  /**
   * Tag keys (mappingKey `tags`) or name substrings (mappingKey `name`).
   * @default ['environment', 'role']
   */
  readonly mappingValues?: string[];
  /**
   * AMIs whose mapped value is one of these go to `no-tags (excluded)` and are never deleted.
   * @default []
   */
  readonly excludedMappingValues?: string[];
  /**
   * The newest not-in-use AMIs kept in each group.
   * @default 4
   */
  readonly keepPrevious?: number;
  /**
   * AMIs younger than this many days are kept; 0 turns the rule off.
   * @default 0
   */
  readonly minAgeDays?: number;
  /**
   * AMIs carrying this tag key (any value) are kept.
   * @default 'amicleaner:keep'
   */
  readonly optOutTagKey?: string;
  /**
   * Also delete public AMIs and AMIs shared with other accounts.
   * @default false
   */
  readonly includeShared?: boolean;
  /**
   * Shared AMIs: `'keep'` them, or `'delete-when-unused'`: delete a shared candidate only when
   * AWS's image usage report (instances and launch templates in every account it is shared with)
   * and the references read in every consumer account the hub can assume into say nobody uses it.
   * A report not ready in time, an error or an unreadable consumer keeps the AMI, with the reason.
   * Not together with `includeShared`.
   * @default 'keep'
   */
  readonly sharedAmis?: 'keep' | 'delete-when-unused';
  /**
   * Include orphan snapshots (left by CreateImage or CopyImage) in the plan.
   * @default false
   */
  readonly checkOrphans?: boolean;
  /**
   * Only these AMIs may be candidates.
   * @default - every AMI the account owns
   */
  readonly fromIds?: string[];
  /**
   * SSM parameter paths whose values (AMI ids) mark AMIs as in use.
   * @default []
   */
  readonly ssmParameterPaths?: string[];
}

// Every core setting must be a prop (this line stops compiling when one is missing).
const everyPlanSettingIsAProp: [Exclude<keyof PlanSettings, keyof PlanSettingsProps>] extends [never]
  ? true
  : never = true;
void everyPlanSettingIsAProp;

export interface AmiCleanerProps {
  /**
   * Address that receives the approval emails (an SNS email subscription; the recipient must
   * confirm it once).
   * @default - none; required unless `approvalTopic` or `approvers` is given
   */
  readonly approvalEmail?: string;
  /**
   * Named approvers. Each address gets a personal signed link of its own (one SNS publish per
   * approver, delivered only to that address's filtered email subscription, which the construct
   * creates); the ledger records the address the link was sent to as the approver, and the name
   * typed on the page as a comment. `approvalEmail` is then not subscribed to the approval
   * topic (it would receive every approver's link), only to the alarms. At most 20 addresses;
   * not with `approvalTopic`, whose other subscribers would receive every link.
   * @default - one shared link, emailed to `approvalEmail` / the `approvalTopic` subscribers
   */
  readonly approvers?: string[];
  /**
   * How many different `approvers` must approve the same plan before anything is deleted (four
   * eyes: 2). One rejection ends the run. From 1 to the number of approvers; needs `approvers`.
   * @default 1
   */
  readonly requiredApprovals?: number;
  /**
   * An existing topic for approval emails, e.g. one with several subscribers. The approval
   * function gets `sns:Publish` on it.
   * @default - a new topic, encrypted with the AWS managed key `alias/aws/sns`
   */
  readonly approvalTopic?: sns.ITopic;
  /**
   * How long a plan waits for a decision; then the run ends EXPIRED and nothing is deleted.
   * Also the lifetime of the approval link. Between 5 minutes and 7 days.
   * @default Duration.hours(24)
   */
  readonly approvalTimeout?: Duration;
  /**
   * When to start a full run.
   * @default - weekly, Monday 06:00 UTC
   */
  readonly schedule?: events.Schedule;
  /**
   * Whether `schedule` starts runs at all. With `false`, runs start only on new AMIs and by hand.
   * @default true
   */
  readonly scheduleEnabled?: boolean;
  /**
   * Planning settings for runs that do not override them (validated with the same rules as the
   * CLI flags and the execution input).
   * @default - each setting as the CLI's default (see `PlanSettingsProps`)
   */
  readonly planSettings?: PlanSettingsProps;
  /**
   * Where the workflow's alarms (failed, timed-out, aborted and throttled executions, lost trigger
   * events) notify. CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key,
   * which the approval topic uses, hence a topic of its own.
   * @default - a new topic, with `approvalEmail` subscribed when it is given
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Most AMIs plus orphan snapshots deleted by one run (the blast-radius limit of one approval);
   * the rest are recorded DEFERRED for the next run. With `targets` it applies to each target run,
   * so one organization approval may cover this many in every account and region; the page and
   * the email state the whole plan's totals before anyone approves. The approved set is deleted by DeleteBatch
   * child executions of at most 122 items each, so every execution of the run stays under Step
   * Functions' 25,000 history events even when every step exhausts its retries: between 1 and
   * HISTORY_SAFE_MAX_DELETIONS (README "Quotas" gives the formula). Planning reads the sharing of
   * up to this many AMIs in Rotate passes of 8,000 describe calls (about 400 s each).
   * @default 20000
   */
  readonly maxDeletionsPerRun?: number;
  /**
   * Reserved concurrency of the approval page's function (public Function URL), so a flood of
   * requests cannot use up the account's Lambda concurrency. Between 1 and 100.
   * @default 10 - see DEFAULT_APPROVAL_PAGE_CONCURRENCY
   */
  readonly approvalPageConcurrency?: number;
  /**
   * Map iterations running at once, for both deletion Maps. Between 1 and 40 (inline Map limit).
   * @default 5 - see DEFAULT_DELETION_MAX_CONCURRENCY
   */
  readonly deletionMaxConcurrency?: number;
  /**
   * How long the per-region run lock lives if a run never releases it. Also the state machine's
   * execution timeout, so an execution can never outlive its lock. Must exceed
   * `approvalTimeout`; at most 14 days.
   * @default - approvalTimeout plus 3 hours
   */
  readonly lockTtl?: Duration;
  /**
   * USD per GiB-month of EBS snapshot storage, for the summary's estimated saving.
   * @default 0.05
   */
  readonly snapshotPricePerGibMonth?: number;
  /**
   * Turns on undo through the EC2 Recycle Bin: the construct creates two tag-level retention
   * rules (EC2_IMAGE, EBS_SNAPSHOT), and the deletion steps tag each AMI and its snapshots right
   * before deleting them, so only what this tool deletes is retained (and a failed tag deletes
   * nothing). `amicleaner restore --run ID` brings a run's deletions back. A retained snapshot
   * is billed until its retention ends: the saving starts then.
   * @default - off: deletions are permanent
   */
  readonly recycleBin?: RecycleBinRetentionProps;
  /**
   * Clean other accounts and regions from this one (the hub): a second state machine (the
   * organization run) plans every target in a child execution of its own (its own lock, history
   * and retries), asks for one approval of the whole plan, then deletes in every target. Each
   * target account must have the member role (`AmiCleanerMemberRole` / `AmiCleanerMemberRoleStackSet`,
   * trusting `memberRoleCallers`); the hub's own account may be a target, read with its own role.
   * Organizational units are resolved through AWS Organizations at every run (recursively, ACTIVE
   * accounts only), so the hub must then be the management account or a delegated administrator.
   * Every problem is reported at once. Bounds: 1,000 accounts, 100 OUs, 40 regions, and no more
   * targets than the organization run's history can hold (checked at synth for `accounts`, at
   * run time for OUs).
   * @default - the deployment's own account and region only (no organization run)
   */
  readonly targets?: TargetsProps;
  /**
   * The member role's name in every target account. Needs `targets`.
   * @default 'AmiCleanerMemberRole'
   */
  readonly memberRoleName?: string;
  /**
   * Target child executions (and reference reads) running at once in an organization run: each
   * target has its own EC2 token buckets, so this bounds Lambda and Step Functions use, not EC2.
   * Between 1 and 40: the Maps are DISTRIBUTED and would allow more, but each running target
   * holds Lambda concurrency and its share of the hub's STS calls. Needs `targets`.
   * @default 10 - see DEFAULT_TARGET_MAX_CONCURRENCY
   */
  readonly targetMaxConcurrency?: number;
  /**
   * Lets the hub's default event bus admit the targets' forwarded AMI-available events (deploy
   * `AmiCleanerAmiEventForwarding` in the members, or `forwardAmiEvents` on the StackSet), so a
   * new AMI in a member account starts its scoped run. Needs `targets`; with OUs, `organizationId`.
   * @default false - new AMIs in member accounts are cleaned by the schedule only
   */
  readonly acceptForwardedAmiEvents?: boolean;
  /**
   * The organization (`o-…`) of the targets. The hub's event bus admits forwarded AMI events from
   * its accounts under the selected OUs only. Needs `acceptForwardedAmiEvents`.
   * @default - none; required with `acceptForwardedAmiEvents` and `targets.organizationalUnits`
   */
  readonly organizationId?: string;
  /**
   * Creates the Lambda functions. Tests pass `new InlineCodeFunctionFactory()` to skip bundling.
   * @default - the installed package's pre-built handlers (`PrebundledFunctionFactory`); in a
   * checkout, `NodejsFunctionFactory` bundles functions/<name>.ts with the local esbuild
   */
  readonly functionFactory?: FunctionFactory;
}

/** Recycle Bin retention periods, in days (1 to 365). */
export interface RecycleBinRetentionProps {
  /** Days a deregistered AMI stays restorable. */
  readonly imageRetentionDays: number;
  /**
   * Days a deleted snapshot stays restorable; at least `imageRetentionDays`, or a restored AMI
   * could have no snapshots (checked at synth).
   * @default - imageRetentionDays
   */
  readonly snapshotRetentionDays?: number;
}

/**
 * One iteration of the image Map is two Lambda tasks (re-check and deregister, then snapshot
 * deletes), roughly 0.6–1 s end to end with 100–300 ms of handler time each plus Step Functions
 * transitions. DeregisterImage and DeleteSnapshot each refill 5 tokens/s per account and region,
 * and each iteration also spends 3–5 describe calls (refill 20/s). At concurrency 5 the Map
 * runs at about 5–8 iterations/s: right at the deregister refill, with the 100-token burst
 * absorbing the overshoot, and describes at or below their refill. Higher values only buy
 * throttling, and every throttled retry costs 3 history events of the 25,000 budget and tokens
 * other tools in the account share.
 */
export const DEFAULT_DELETION_MAX_CONCURRENCY = 5;
/** A person clicks one link; 10 at once is plenty and leaves the account's pool alone. */
export const DEFAULT_APPROVAL_PAGE_CONCURRENCY = 10;
export { DEFAULT_MAX_DELETIONS_PER_RUN };
export const DEFAULT_APPROVAL_TIMEOUT = Duration.hours(24);
export const DEFAULT_SNAPSHOT_PRICE_PER_GIB_MONTH = 0.05;
export const DEFAULT_SCHEDULE = events.Schedule.cron({ weekDay: 'MON', hour: '6', minute: '0' });
/**
 * The most deletions one run can hold when every step fails as often as the definitions' Retry
 * lists allow: the run's execution within 25,000 events and 256 KiB of batch descriptors, each
 * DeleteBatch child within 20,000 events (functions/core/quotas.ts, derived from the ASL).
 */
export const HISTORY_SAFE_MAX_DELETIONS = maxItemsWithinTree(definitionHistoryBudget());

const MIN_APPROVAL_SECONDS = Duration.minutes(5).toSeconds();
const MAX_APPROVAL_SECONDS = Duration.days(7).toSeconds();
const MAX_LOCK_TTL_SECONDS = Duration.days(14).toSeconds();
const LOCK_MARGIN = Duration.hours(3);
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export interface ResolvedAmiCleanerProps {
  readonly approvalEmail?: string;
  /** Normalized (lower case); undefined for the shared link. */
  readonly approvers?: readonly string[];
  readonly requiredApprovals: number;
  readonly approvalTopic?: sns.ITopic;
  readonly alarmTopic?: sns.ITopic;
  readonly approvalTimeout: Duration;
  readonly schedule?: events.Schedule;
  readonly planSettings: PlanSettings;
  readonly maxDeletionsPerRun: number;
  readonly deletionMaxConcurrency: number;
  readonly approvalPageConcurrency: number;
  readonly lockTtl: Duration;
  readonly snapshotPricePerGibMonth: number;
  readonly recycleBin?: RecycleBinRetention;
  /** Present only with `targets`. */
  readonly organization?: ResolvedOrganizationProps;
}

function maxDeletionsWithinHistory(value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    fail(`maxDeletionsPerRun must be a whole number >= 1, got ${JSON.stringify(value)}`);
  }
  const problem = deletionTreeProblem(definitionHistoryBudget(), value);
  if (problem) fail(problem);
  return value;
}

export function resolveAmiCleanerProps(props: AmiCleanerProps): ResolvedAmiCleanerProps {
  if (
    props.approvalEmail === undefined &&
    props.approvalTopic === undefined &&
    props.approvers === undefined
  ) {
    fail('approvalEmail is required unless approvalTopic or approvers is given');
  }
  const { approvers, requiredApprovals } = resolveApprovers(props);
  if (
    props.approvalEmail !== undefined &&
    (typeof props.approvalEmail !== 'string' || !EMAIL.test(props.approvalEmail))
  ) {
    fail(`approvalEmail ${JSON.stringify(props.approvalEmail)} is not an email address`);
  }

  const approvalTimeout = props.approvalTimeout ?? DEFAULT_APPROVAL_TIMEOUT;
  const approvalSeconds = approvalTimeout.toSeconds();
  if (approvalSeconds < MIN_APPROVAL_SECONDS || approvalSeconds > MAX_APPROVAL_SECONDS) {
    fail(`approvalTimeout must be between 5 minutes and 7 days, got ${approvalTimeout.toHumanString()}`);
  }

  const lockTtl = props.lockTtl ?? approvalTimeout.plus(LOCK_MARGIN);
  const lockSeconds = lockTtl.toSeconds();
  if (lockSeconds <= approvalSeconds || lockSeconds > MAX_LOCK_TTL_SECONDS) {
    fail(
      `lockTtl must be longer than approvalTimeout (${approvalTimeout.toHumanString()}) and at most 14 days, got ${lockTtl.toHumanString()}`,
    );
  }

  let planSettings: PlanSettings;
  try {
    planSettings = resolvePlanSettings(props.planSettings);
  } catch (error) {
    fail(`invalid planSettings: ${(error as Error).message}`);
  }

  const price = props.snapshotPricePerGibMonth ?? DEFAULT_SNAPSHOT_PRICE_PER_GIB_MONTH;
  if (typeof price !== 'number' || !Number.isFinite(price) || price < 0) {
    fail(`snapshotPricePerGibMonth must be a number >= 0, got ${JSON.stringify(price)}`);
  }

  let recycleBin: RecycleBinRetention | undefined;
  if (props.recycleBin !== undefined) {
    try {
      recycleBin = validateRecycleBinRetention(
        {
          imageDays: props.recycleBin.imageRetentionDays,
          snapshotDays: props.recycleBin.snapshotRetentionDays,
        },
        { image: 'recycleBin.imageRetentionDays', snapshot: 'recycleBin.snapshotRetentionDays' },
      );
    } catch (error) {
      fail((error as Error).message);
    }
  }

  const organization = resolveOrganization(props);
  return {
    ...(organization ? { organization } : {}),
    ...(recycleBin === undefined ? {} : { recycleBin }),
    approvalEmail: props.approvalEmail,
    ...(approvers ? { approvers } : {}),
    requiredApprovals,
    approvalTopic: props.approvalTopic,
    alarmTopic: props.alarmTopic,
    approvalTimeout,
    schedule: props.scheduleEnabled === false ? undefined : (props.schedule ?? DEFAULT_SCHEDULE),
    planSettings,
    maxDeletionsPerRun: maxDeletionsWithinHistory(props.maxDeletionsPerRun ?? DEFAULT_MAX_DELETIONS_PER_RUN),
    deletionMaxConcurrency: wholeNumberIn(
      'deletionMaxConcurrency',
      props.deletionMaxConcurrency ?? DEFAULT_DELETION_MAX_CONCURRENCY,
      1,
      40,
    ),
    approvalPageConcurrency: wholeNumberIn(
      'approvalPageConcurrency',
      props.approvalPageConcurrency ?? DEFAULT_APPROVAL_PAGE_CONCURRENCY,
      1,
      100,
    ),
    lockTtl,
    snapshotPricePerGibMonth: price,
  };
}

function resolveApprovers(props: AmiCleanerProps): { approvers?: string[]; requiredApprovals: number } {
  if (props.approvers === undefined) {
    if (props.requiredApprovals !== undefined && props.requiredApprovals !== 1)
      fail('requiredApprovals needs approvers: a shared link cannot tell two approvers apart');
    return { requiredApprovals: 1 };
  }
  if (props.approvalTopic !== undefined)
    fail(
      "approvers cannot be used with approvalTopic: the topic's other subscribers would receive every approver's link",
    );
  try {
    const approvers = normalizeApprovers(props.approvers);
    return { approvers, requiredApprovals: checkRequiredApprovals(props.requiredApprovals ?? 1, approvers) };
  } catch (error) {
    fail((error as Error).message);
  }
}
