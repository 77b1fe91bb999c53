/**
 * The role the hub assumes in each target account (`AmiCleanerMemberRole`), and a way to roll it
 * out to whole OUs (`AmiCleanerMemberRoleStackSet`, a service-managed StackSet with
 * auto-deployment, so an account that joins an OU gets the role without anyone deploying).
 *
 * Trust: the hub account as principal, narrowed by `aws:PrincipalArn` to the hub's own function
 * roles (plus any operator roles the caller names for the CLI). No `sts:ExternalId`: it guards a
 * third party that assumes roles for many customers (the confused deputy); here the trusted
 * principals are the customer's own roles, pinned by ARN, and an external id would sit in the
 * template, the StackSet parameters and the function environment, a secret to no one.
 *
 * Permissions: the reads the inventory makes, and only two writes, DeregisterImage and
 * DeleteSnapshot, on images and snapshots the member account owns (`ec2:Owner`), plus the
 * Recycle Bin's CreateTags of the two retention tags only. Image and
 * snapshot ARNs carry no account (`arn:aws:ec2:<region>::image/ami-…`), so a resource pattern with
 * the account id would match nothing; the owner condition is what scopes them to the account.
 */
import { CfnParameter, Fn, Stack, Token } from 'aws-cdk-lib';
import type * as cloudformation from 'aws-cdk-lib/aws-cloudformation';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { DEFAULT_MEMBER_ROLE_NAME } from '../functions/core/target.ts';
import { recycleBinTagConditions } from './lib/iam.ts';
import {
  checkOrganizationalUnitIds,
  hubAccountParameter,
  serviceManagedStackSet,
  synthMemberTemplate,
  TEMPLATE_BODY_MAX_BYTES,
  templateBody,
} from './lib/member-template.ts';
import { acknowledge, nagName } from './lib/nag.ts';
import { AmiCleanerAmiEventForwardingStackSet } from './member-events.ts';

export { DEFAULT_MEMBER_ROLE_NAME, TEMPLATE_BODY_MAX_BYTES };

/** Describe calls take no resource-level permissions, so these are granted on `*`. */
export const MEMBER_DESCRIBE_ACTIONS = [
  'autoscaling:DescribeAutoScalingGroups',
  'autoscaling:DescribeLaunchConfigurations',
  'ec2:DescribeImageAttribute',
  'ec2:DescribeImageReferences',
  'ec2:DescribeImageUsageReportEntries',
  'ec2:DescribeImageUsageReports',
  'ec2:DescribeImages',
  'ec2:DescribeInstances',
  'ec2:DescribeLaunchTemplateVersions',
  'ec2:DescribeLaunchTemplates',
  'ec2:DescribeSnapshots',
  'imagebuilder:ListContainerRecipes',
  'imagebuilder:ListImageRecipes',
] as const;

/** Reads that do take resources: scoped to the member account (any region). */
export const MEMBER_SCOPED_READ_ACTIONS = {
  ssm: ['ssm:GetParametersByPath'],
  imageBuilder: ['imagebuilder:GetContainerRecipe', 'imagebuilder:GetImageRecipe'],
} as const;

/** The only writes, each on resources the member account owns. */
export const MEMBER_WRITE_ACTIONS = ['ec2:DeleteSnapshot', 'ec2:DeregisterImage'] as const;

/**
 * Recycle Bin retention (`recycleBin` prop): the deletion steps tag an AMI and its snapshots
 * right before deleting them, in the member as in the hub, under the hub's very conditions (only
 * the two retention tags, only the rules' value), so no other tag can be set or changed.
 */
export const MEMBER_TAG_ACTIONS = ['ec2:CreateTags'] as const;

/**
 * Asks AWS who uses an AMI the member shares (`sharedAmis: delete-when-unused`): creates a report
 * resource and changes nothing else; on the member's own images and its own reports only.
 */
export const MEMBER_USAGE_REPORT_ACTIONS = ['ec2:CreateImageUsageReport'] as const;

export interface MemberRoleTrust {
  /** The hub account (where the `AmiCleaner` construct runs). */
  readonly hubAccountId: string;
  /**
   * The hub principals that may assume the role: the hub's function roles (`AmiCleaner.memberRoleCallers`)
   * and any operator roles for the CLI. Role ARNs of the hub account; `*` may stand for part of a
   * name (an SSO role's suffix), never for the whole name.
   */
  readonly hubPrincipalArns: readonly string[];
}

export interface AmiCleanerMemberRoleProps extends MemberRoleTrust {
  /** The same name in every account: the hub builds the ARN from it. @default AmiCleanerMemberRole */
  readonly roleName?: string;
}

const ACCOUNT_ID = /^[0-9]{12}$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const HUB_ROLE_ARN = /^arn:aws[a-z-]*:iam::([0-9]{12}):role\/([\w+=,.@/*?-]+)$/;

function checkTrust(trust: MemberRoleTrust, roleName: string): void {
  if (!Token.isUnresolved(roleName) && !ROLE_NAME.test(roleName)) {
    throw new Error(`AmiCleanerMemberRole: roleName ${JSON.stringify(roleName)} is not an IAM role name`);
  }
  if (!Token.isUnresolved(trust.hubAccountId) && !ACCOUNT_ID.test(trust.hubAccountId)) {
    throw new Error(
      `AmiCleanerMemberRole: hubAccountId ${JSON.stringify(trust.hubAccountId)} is not a 12-digit account id`,
    );
  }
  if (trust.hubPrincipalArns.length === 0) {
    throw new Error(
      'AmiCleanerMemberRole: hubPrincipalArns is empty; the role would trust no one, or everyone in the hub',
    );
  }
  if (Token.isUnresolved(trust.hubPrincipalArns)) return; // a list parameter, checked by its users
  for (const arn of trust.hubPrincipalArns) {
    if (Token.isUnresolved(arn)) continue;
    const match = HUB_ROLE_ARN.exec(arn);
    if (match === null)
      throw new Error(`AmiCleanerMemberRole: ${JSON.stringify(arn)} is not an IAM role ARN`);
    const [, account, path] = match as unknown as [string, string, string];
    if (!Token.isUnresolved(trust.hubAccountId) && account !== trust.hubAccountId) {
      throw new Error(`AmiCleanerMemberRole: ${arn} is not in the hub account ${trust.hubAccountId}`);
    }
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (name.replace(/[*?]/g, '').length === 0) {
      throw new Error(`AmiCleanerMemberRole: ${arn} would trust every role of the hub; name the roles`);
    }
  }
}

/**
 * The member role, for a stack deployed in each target account. Also the body of the StackSet's
 * template (`memberRoleTemplate`), so both ways of shipping it give the same role.
 */
export class AmiCleanerMemberRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: AmiCleanerMemberRoleProps) {
    super(scope, id);
    const roleName = props.roleName ?? DEFAULT_MEMBER_ROLE_NAME;
    checkTrust(props, roleName);
    const { partition, account } = Stack.of(this);
    this.role = new iam.Role(this, 'Role', {
      roleName,
      description:
        "Assumed by the ami-cleaner hub: reads AMI references, deregisters and deletes only this account's own AMIs and snapshots",
      assumedBy: new iam.AccountPrincipal(props.hubAccountId).withConditions({
        ArnLike: { 'aws:PrincipalArn': [...props.hubPrincipalArns] },
      }),
      inlinePolicies: {
        AmiCleanerMember: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'DescribeImageReferences',
              actions: [...MEMBER_DESCRIBE_ACTIONS],
              resources: ['*'],
            }),
            new iam.PolicyStatement({
              sid: 'ReadAmiParameters',
              actions: [...MEMBER_SCOPED_READ_ACTIONS.ssm],
              resources: [`arn:${partition}:ssm:*:${account}:parameter/*`],
            }),
            new iam.PolicyStatement({
              sid: 'ReadImageBuilderRecipes',
              actions: [...MEMBER_SCOPED_READ_ACTIONS.imageBuilder],
              resources: [
                `arn:${partition}:imagebuilder:*:${account}:container-recipe/*`,
                `arn:${partition}:imagebuilder:*:${account}:image-recipe/*`,
              ],
            }),
            new iam.PolicyStatement({
              sid: 'DeregisterOwnImages',
              actions: ['ec2:DeregisterImage'],
              resources: [`arn:${partition}:ec2:*::image/*`],
              conditions: { StringEquals: { 'ec2:Owner': account } },
            }),
            new iam.PolicyStatement({
              sid: 'ReportUsageOfOwnImages',
              actions: [...MEMBER_USAGE_REPORT_ACTIONS],
              resources: [`arn:${partition}:ec2:*::image/*`],
              conditions: { StringEquals: { 'ec2:Owner': account } },
            }),
            new iam.PolicyStatement({
              sid: 'CreateOwnUsageReports',
              actions: [...MEMBER_USAGE_REPORT_ACTIONS],
              resources: [`arn:${partition}:ec2:*:${account}:image-usage-report/*`],
            }),
            new iam.PolicyStatement({
              sid: 'TagForRecycleBin',
              actions: [...MEMBER_TAG_ACTIONS],
              resources: [`arn:${partition}:ec2:*::image/*`, `arn:${partition}:ec2:*::snapshot/*`],
              conditions: recycleBinTagConditions(),
            }),
            new iam.PolicyStatement({
              sid: 'DeleteOwnSnapshots',
              actions: ['ec2:DeleteSnapshot'],
              resources: [`arn:${partition}:ec2:*::snapshot/*`],
              conditions: { StringEquals: { 'ec2:Owner': account } },
            }),
          ],
        }),
      },
    });
    const [p, a] = [nagName(this, partition), nagName(this, account)];
    acknowledge(
      this.role,
      'EC2, Auto Scaling and Image Builder list/describe calls support no resource-level permissions; read-only.',
      'AwsSolutions-IAM5[Resource::*]',
    );
    acknowledge(
      this.role,
      'The SSM paths and recipes that mark AMIs in use are settings chosen per run; read-only, this account only.',
      `AwsSolutions-IAM5[Resource::arn:${p}:ssm:*:${a}:parameter/*]`,
      `AwsSolutions-IAM5[Resource::arn:${p}:imagebuilder:*:${a}:container-recipe/*]`,
      `AwsSolutions-IAM5[Resource::arn:${p}:imagebuilder:*:${a}:image-recipe/*]`,
    );
    acknowledge(
      this.role,
      "Candidate AMIs and snapshots are known only at run time; their ARNs carry no account, so ec2:Owner limits them to this account's own.",
      `AwsSolutions-IAM5[Resource::arn:${p}:ec2:*::image/*]`,
      `AwsSolutions-IAM5[Resource::arn:${p}:ec2:*::snapshot/*]`,
      `AwsSolutions-IAM5[Resource::arn:${p}:ec2:*:${a}:image-usage-report/*]`,
    );
  }
}

/** Names of the member template's parameters (the StackSet fills them in). */
export const MEMBER_TEMPLATE_PARAMETERS = {
  hubAccountId: 'HubAccountId',
  hubPrincipalArns: 'HubPrincipalArns',
  roleName: 'RoleName',
} as const;

/**
 * Adds the member role to `stack` with its trust taken from CloudFormation parameters, so one
 * template serves every account of every OU. The stack must have no assets and no bootstrap
 * rule: member accounts of a StackSet are not CDK-bootstrapped.
 */
export function addParameterizedMemberRole(stack: Stack): AmiCleanerMemberRole {
  const hubAccountId = hubAccountParameter(stack, MEMBER_TEMPLATE_PARAMETERS.hubAccountId);
  const hubPrincipalArns = new CfnParameter(stack, MEMBER_TEMPLATE_PARAMETERS.hubPrincipalArns, {
    type: 'CommaDelimitedList',
    description: 'Hub role ARNs that may assume the member role',
  });
  const roleName = new CfnParameter(stack, MEMBER_TEMPLATE_PARAMETERS.roleName, {
    type: 'String',
    default: DEFAULT_MEMBER_ROLE_NAME,
    allowedPattern: '^[\\w+=,.@-]{1,64}$',
  });
  return new AmiCleanerMemberRole(stack, 'AmiCleanerMember', {
    hubAccountId: hubAccountId.valueAsString,
    // One list token: it renders as `{ Ref: HubPrincipalArns }`, the whole list.
    hubPrincipalArns: hubPrincipalArns.valueAsList,
    roleName: roleName.valueAsString,
  });
}

/** The member template as CloudFormation JSON: `addParameterizedMemberRole` in a stack of its own. */
export function memberRoleTemplate(): Record<string, unknown> {
  return synthMemberTemplate(
    'AmiCleanerMember',
    "ami-cleaner member role: lets the hub read AMI references and delete this account's own unused AMIs",
    addParameterizedMemberRole,
  );
}

export interface AmiCleanerMemberRoleStackSetProps {
  /** The hub principals the role trusts: `cleaner.memberRoleCallers.map((role) => role.roleArn)`, plus operator roles. */
  readonly hubPrincipalArns: readonly string[];
  /** @default the account of the stack this construct is in */
  readonly hubAccountId?: string;
  /** OUs (or the root `r-…`) to deploy to; accounts that join them later get the role automatically. */
  readonly organizationalUnitIds: readonly string[];
  /**
   * The one region the stack instances go to. IAM is global: a second region would try to create
   * the same role again and fail. @default the region of the stack this construct is in
   */
  readonly region?: string;
  /** @default AmiCleanerMemberRole */
  readonly roleName?: string;
  /** @default AmiCleanerMemberRole */
  readonly stackSetName?: string;
  /**
   * `DELEGATED_ADMIN` when the hub is a delegated administrator for StackSets rather than the
   * management account. @default SELF
   */
  readonly callAs?: 'SELF' | 'DELEGATED_ADMIN';
  /**
   * Also forward the OUs' new AMIs to the hub, in these regions (the hub's `targets.regions`): a
   * second StackSet (`AmiCleanerAmiEventForwardingStackSet`, same OUs, hub and `callAs`), since
   * the rule is per region while the role is global. `hubRegion` defaults to this stack's region
   * (give it when the StackSets are administered outside the hub, as `hubAccountId` is).
   * @default - no forwarding: new AMIs of member accounts start no run (the schedule still does)
   */
  readonly forwardAmiEvents?: { readonly regions: readonly string[]; readonly hubRegion?: string };
}

/**
 * Rolls the member role out to OUs with a service-managed StackSet and auto-deployment. Stack
 * instances are not created in the management account itself (AWS never deploys service-managed
 * StackSets there): if it is a target, deploy `AmiCleanerMemberRole` in a stack of its own.
 */
export class AmiCleanerMemberRoleStackSet extends Construct {
  readonly stackSet: cloudformation.CfnStackSet;
  /** With `forwardAmiEvents`: the StackSet of the forwarding rules. */
  readonly eventForwarding?: AmiCleanerAmiEventForwardingStackSet;

  constructor(scope: Construct, id: string, props: AmiCleanerMemberRoleStackSetProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const hubAccountId = props.hubAccountId ?? stack.account;
    const roleName = props.roleName ?? DEFAULT_MEMBER_ROLE_NAME;
    checkTrust({ hubAccountId, hubPrincipalArns: props.hubPrincipalArns }, roleName);
    checkOrganizationalUnitIds('AmiCleanerMemberRoleStackSet', props.organizationalUnitIds);
    this.stackSet = serviceManagedStackSet(this, 'StackSet', {
      stackSetName: props.stackSetName ?? DEFAULT_MEMBER_ROLE_NAME,
      description: 'ami-cleaner member role in every account of the selected OUs',
      callAs: props.callAs ?? 'SELF',
      capabilities: ['CAPABILITY_NAMED_IAM'],
      parameters: {
        [MEMBER_TEMPLATE_PARAMETERS.hubAccountId]: hubAccountId,
        [MEMBER_TEMPLATE_PARAMETERS.hubPrincipalArns]: Fn.join(',', [...props.hubPrincipalArns]),
        [MEMBER_TEMPLATE_PARAMETERS.roleName]: roleName,
      },
      organizationalUnitIds: props.organizationalUnitIds,
      regions: [props.region ?? stack.region],
      templateBody: templateBody('AmiCleanerMemberRoleStackSet', memberRoleTemplate()),
    });
    if (props.forwardAmiEvents) {
      this.eventForwarding = new AmiCleanerAmiEventForwardingStackSet(this, 'AmiEventForwarding', {
        organizationalUnitIds: props.organizationalUnitIds,
        regions: props.forwardAmiEvents.regions,
        hubAccountId,
        ...(props.forwardAmiEvents.hubRegion ? { hubRegion: props.forwardAmiEvents.hubRegion } : {}),
        // A second role StackSet (its own name) gets a forwarding StackSet of its own name too.
        ...(props.stackSetName ? { stackSetName: `${props.stackSetName}-AmiEvents` } : {}),
        ...(props.callAs ? { callAs: props.callAs } : {}),
      });
    }
  }
}
