/**
 * The construct's organization props (`targets`, `memberRoleName`, `targetMaxConcurrency`,
 * `organizationId`) and their synth-time validation. Without `targets` there is no organization
 * run, and the other three are refused rather than ignored.
 */
import {
  organizationHistoryProblem,
  organizationPayloadProblem,
  worstCaseOrganizationState,
} from '../../functions/core/organization-run.ts';
import {
  DEFAULT_MEMBER_ROLE_NAME,
  InvalidTargetError,
  target,
  type ValidTargetSelection,
  validateTargetSelection,
} from '../../functions/core/target.ts';
import { DEFAULT_TARGET_MAX_CONCURRENCY, organizationDefinitionBudget } from './definition.ts';
import { busPolicyProblem } from './forwarded-events.ts';
import { fail, wholeNumberIn } from './prop-checks.ts';

/** What an organization run cleans: accounts and/or organizational units × regions. */
export interface TargetsProps {
  /**
   * 12-digit account ids.
   * @default - none; required unless `organizationalUnits` is given
   */
  readonly accounts?: string[];
  /**
   * OU ids (`ou-…`) or the root id (`r-…`): every ACTIVE account under them, at any depth,
   * resolved at run time (new accounts join without a redeploy).
   * @default - none; required unless `accounts` is given
   */
  readonly organizationalUnits?: string[];
  /** Region codes, e.g. `['eu-west-1', 'us-east-1']`: every selected account in each. */
  readonly regions: string[];
}

/**
 * Ten targets at once by default: each child's Lambdas are short, and EC2's buckets are per
 * target, so more mostly adds concurrent Lambda invocations against the account's pool.
 */
export { DEFAULT_TARGET_MAX_CONCURRENCY };

/** `o-` and 10 to 32 lowercase letters or digits (the Organizations API's pattern). */
const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;

/** IAM role names: what STS AssumeRole and the ARN pattern accept. */
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

export interface ResolvedOrganizationProps {
  readonly targets: ValidTargetSelection;
  readonly memberRoleName: string;
  readonly targetMaxConcurrency: number;
  /** The hub bus admits the targets' forwarded AMI events. */
  readonly acceptForwardedAmiEvents: boolean;
  /** Given with `acceptForwardedAmiEvents` (required then with OUs). */
  readonly organizationId?: string;
}

/** The organization props as the construct reads them (`AmiCleanerProps` holds the same names). */
export interface OrganizationProps {
  readonly targets?: TargetsProps;
  readonly memberRoleName?: string;
  readonly targetMaxConcurrency?: number;
  readonly acceptForwardedAmiEvents?: boolean;
  readonly organizationId?: string;
}

/**
 * `targets` and the props that only mean something with it. Every problem of the selection is
 * reported at once; a listed-accounts selection is also checked against the organization run's
 * worst-case history and state (OUs are counted at run time, by ResolveTargets).
 */
export function resolveOrganization(props: OrganizationProps): ResolvedOrganizationProps | undefined {
  if (props.targets === undefined) {
    for (const name of [
      'memberRoleName',
      'targetMaxConcurrency',
      'acceptForwardedAmiEvents',
      'organizationId',
    ] as const) {
      if (props[name] !== undefined) fail(`${name} needs targets`);
    }
    return undefined;
  }
  let targets: ValidTargetSelection;
  try {
    targets = validateTargetSelection(props.targets);
  } catch (error) {
    if (error instanceof InvalidTargetError) fail(`targets: ${error.message}`);
    throw error;
  }
  const listed = targets.accounts.flatMap((accountId) =>
    targets.regions.map((region) => target(accountId, region)),
  );
  const problem =
    organizationHistoryProblem(organizationDefinitionBudget(), listed.length) ??
    organizationPayloadProblem(worstCaseOrganizationState(listed));
  if (problem) fail(`targets: ${problem}`);
  const memberRoleName = props.memberRoleName ?? DEFAULT_MEMBER_ROLE_NAME;
  if (typeof memberRoleName !== 'string' || !ROLE_NAME.test(memberRoleName)) {
    fail(
      `memberRoleName must be an IAM role name ([\\w+=,.@-], 1 to 64), got ${JSON.stringify(memberRoleName)}`,
    );
  }
  const { organizationId } = props;
  if (
    organizationId !== undefined &&
    (typeof organizationId !== 'string' || !ORGANIZATION_ID.test(organizationId))
  ) {
    fail(
      `organizationId must be an organization id (o- and 10 to 32 letters or digits), got ${JSON.stringify(organizationId)}`,
    );
  }
  const accept = props.acceptForwardedAmiEvents ?? false;
  if (typeof accept !== 'boolean')
    fail(`acceptForwardedAmiEvents must be true or false, got ${JSON.stringify(accept)}`);
  if (organizationId !== undefined && !accept) fail('organizationId needs acceptForwardedAmiEvents');
  if (accept && organizationId === undefined && targets.organizationalUnits.length > 0) {
    fail(
      'acceptForwardedAmiEvents with targets.organizationalUnits needs organizationId (o-…, from `aws organizations describe-organization`): the hub event bus admits forwarded AMI events only from accounts of that organization under the selected OUs',
    );
  }
  if (accept) {
    const problemOfBus = busPolicyProblem(
      targets.accounts.length,
      targets.organizationalUnits,
      organizationId,
    );
    if (problemOfBus) fail(`targets: ${problemOfBus}`);
  }
  return {
    acceptForwardedAmiEvents: accept,
    ...(organizationId === undefined ? {} : { organizationId }),
    targets,
    memberRoleName,
    targetMaxConcurrency: wholeNumberIn(
      'targetMaxConcurrency',
      props.targetMaxConcurrency ?? DEFAULT_TARGET_MAX_CONCURRENCY,
      1,
      40,
    ),
  };
}
