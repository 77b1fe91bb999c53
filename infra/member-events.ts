/**
 * Forwards a member account's new AMIs to the hub, so the AMI trigger covers every target, not
 * only the hub's own account and region. One rule per account and region, on the default bus,
 * matching the hub's own `AMI_AVAILABLE_EVENT_PATTERN`, with the hub's default bus as target.
 * EventBridge keeps the event's `account` and `region` when it forwards it: the hub's
 * start-execution scopes the run to that target (see DESIGN.md, "Forwarding new AMIs").
 *
 * The rule needs a role (cross-region and organization-admitted targets require one) allowed
 * `events:PutEvents` on that one bus and nothing else. Roles are global and the rule is per
 * region, so CloudFormation names the role: one stack per region never collides with another.
 *
 * `AmiCleanerAmiEventForwarding` is the construct for a stack deployed by hand (in each region);
 * `AmiCleanerAmiEventForwardingStackSet` rolls a parameterized copy out to OUs in every region.
 * No dead-letter queue: a lost event costs one early run, and the schedule still cleans.
 */
import { CfnCondition, CfnParameter, CfnResource, Fn, Stack, Token } from 'aws-cdk-lib';
import type * as cloudformation from 'aws-cdk-lib/aws-cloudformation';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, type IConstruct } from 'constructs';
import { isAccountId, isRegion } from '../functions/core/target.ts';
import {
  checkOrganizationalUnitIds,
  hubAccountParameter,
  serviceManagedStackSet,
  synthMemberTemplate,
  templateBody,
} from './lib/member-template.ts';
import { AMI_AVAILABLE_EVENT_PATTERN } from './lib/triggers.ts';

/** Where forwarded events go: the hub's default bus, in the hub's region. */
export interface HubEventBus {
  /** The hub account (where the `AmiCleaner` construct runs). */
  readonly hubAccountId: string;
  /** The hub's region (where its AMI-available rule is). */
  readonly hubRegion: string;
}

export type AmiCleanerAmiEventForwardingProps = HubEventBus;

function checkHub(owner: string, hub: HubEventBus): void {
  if (!Token.isUnresolved(hub.hubAccountId) && !isAccountId(hub.hubAccountId)) {
    throw new Error(
      `${owner}: hubAccountId ${JSON.stringify(hub.hubAccountId)} is not a 12-digit account id`,
    );
  }
  if (!Token.isUnresolved(hub.hubRegion) && !isRegion(hub.hubRegion)) {
    throw new Error(`${owner}: hubRegion ${JSON.stringify(hub.hubRegion)} is not a region code`);
  }
}

/** `arn:<partition>:events:<hub region>:<hub account>:event-bus/default`. */
export function hubEventBusArn(scope: IConstruct, hub: HubEventBus): string {
  return Stack.of(scope).formatArn({
    service: 'events',
    region: hub.hubRegion,
    account: hub.hubAccountId,
    resource: 'event-bus',
    resourceName: 'default',
  });
}

/**
 * The forwarding rule and its role, in the account and region of the stack it is in. Deploy it
 * in every target region of a member account the StackSet does not reach (the management
 * account, or accounts outside the OUs); the hub's own region of the hub account needs none.
 */
export class AmiCleanerAmiEventForwarding extends Construct {
  readonly rule: events.Rule;
  /** May only put events on the hub's default bus. */
  readonly role: iam.Role;
  readonly hubEventBusArn: string;

  constructor(scope: Construct, id: string, props: AmiCleanerAmiEventForwardingProps) {
    super(scope, id);
    checkHub('AmiCleanerAmiEventForwarding', props);
    const { account, region } = Stack.of(this);
    if (account === props.hubAccountId && region === props.hubRegion) {
      // A rule whose target is its own bus would only echo the event; the hub's rule sees it already.
      throw new Error(
        `AmiCleanerAmiEventForwarding: ${account} ${region} is the hub's own bus; its AMIs need no forwarding`,
      );
    }
    this.hubEventBusArn = hubEventBusArn(this, props);
    this.role = new iam.Role(this, 'Role', {
      description: "Lets EventBridge forward this account's new-AMI events to the ami-cleaner hub",
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      inlinePolicies: {
        ForwardAmiEvents: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'PutEventsOnHubBus',
              actions: ['events:PutEvents'],
              resources: [this.hubEventBusArn],
            }),
          ],
        }),
      },
    });
    const arn = this.hubEventBusArn;
    const role = this.role;
    this.rule = new events.Rule(this, 'Rule', {
      description: 'Forwards new AMIs of this account and region to the ami-cleaner hub',
      eventPattern: AMI_AVAILABLE_EVENT_PATTERN,
      // Not targets.EventBus: it would add a second, default policy to the role.
      targets: [{ bind: () => ({ arn, role }) }],
    });
  }
}

/** Names of the forwarding template's parameters (the StackSet fills them in). */
export const FORWARDING_TEMPLATE_PARAMETERS = {
  hubAccountId: 'HubAccountId',
  hubRegion: 'HubRegion',
} as const;

/** The template's condition: false only in the hub's own region of the hub account. */
export const FORWARDING_CONDITION = 'ForwardsToAnotherBus';

/**
 * Adds the forwarding to `stack` with the hub taken from parameters. In the hub account's own
 * region (a hub that is itself in a selected OU) the condition leaves only a placeholder, since a
 * template must create at least one resource.
 */
export function addParameterizedAmiEventForwarding(stack: Stack): void {
  const hubAccountId = hubAccountParameter(stack, FORWARDING_TEMPLATE_PARAMETERS.hubAccountId);
  const hubRegion = new CfnParameter(stack, FORWARDING_TEMPLATE_PARAMETERS.hubRegion, {
    type: 'String',
    allowedPattern: '^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$',
    description: "The ami-cleaner hub's region",
  });
  const onHubBus = new CfnCondition(stack, 'OnTheHubBus', {
    expression: Fn.conditionAnd(
      Fn.conditionEquals(stack.account, hubAccountId.valueAsString),
      Fn.conditionEquals(stack.region, hubRegion.valueAsString),
    ),
  });
  const forwards = new CfnCondition(stack, FORWARDING_CONDITION, { expression: Fn.conditionNot(onHubBus) });
  const forwarding = new AmiCleanerAmiEventForwarding(stack, 'AmiEventForwarding', {
    hubAccountId: hubAccountId.valueAsString,
    hubRegion: hubRegion.valueAsString,
  });
  for (const child of forwarding.node.findAll()) {
    if (child instanceof CfnResource) child.cfnOptions.condition = forwards;
  }
  new CfnResource(stack, 'NothingToForward', {
    type: 'AWS::CloudFormation::WaitConditionHandle',
  }).cfnOptions.condition = onHubBus;
}

/** The forwarding template as CloudFormation JSON: `addParameterizedAmiEventForwarding` in a stack of its own. */
export function amiEventForwardingTemplate(): Record<string, unknown> {
  return synthMemberTemplate(
    'AmiCleanerAmiEventForwarding',
    "ami-cleaner: forwards this account's new AMIs to the hub's event bus",
    addParameterizedAmiEventForwarding,
  );
}

export interface AmiCleanerAmiEventForwardingStackSetProps {
  /** OUs (or the root `r-…`) to deploy to; accounts that join them later get the rule automatically. */
  readonly organizationalUnitIds: readonly string[];
  /** Every target region (the `targets.regions` of the hub): one stack instance per account and region. */
  readonly regions: readonly string[];
  /** @default the account of the stack this construct is in */
  readonly hubAccountId?: string;
  /** @default the region of the stack this construct is in */
  readonly hubRegion?: string;
  /** @default AmiCleanerAmiEventForwarding */
  readonly stackSetName?: string;
  /**
   * `DELEGATED_ADMIN` when the hub is a delegated administrator for StackSets rather than the
   * management account. @default SELF
   */
  readonly callAs?: 'SELF' | 'DELEGATED_ADMIN';
}

/** The default StackSet name, also the name `AmiCleanerMemberRoleStackSet` gives its forwarding. */
export const DEFAULT_FORWARDING_STACK_SET_NAME = 'AmiCleanerAmiEventForwarding';

/**
 * Rolls the forwarding rule out to OUs in every target region: a service-managed StackSet with
 * auto-deployment, separate from the member role's (that one is in one region, IAM being
 * global; this one must be in all of them). Like every service-managed StackSet it skips the
 * management account: deploy `AmiCleanerAmiEventForwarding` there if it is a target.
 */
export class AmiCleanerAmiEventForwardingStackSet extends Construct {
  readonly stackSet: cloudformation.CfnStackSet;

  constructor(scope: Construct, id: string, props: AmiCleanerAmiEventForwardingStackSetProps) {
    super(scope, id);
    const owner = 'AmiCleanerAmiEventForwardingStackSet';
    const stack = Stack.of(this);
    const hub = {
      hubAccountId: props.hubAccountId ?? stack.account,
      hubRegion: props.hubRegion ?? stack.region,
    };
    checkHub(owner, hub);
    checkOrganizationalUnitIds(owner, props.organizationalUnitIds);
    if (props.regions.length === 0) throw new Error(`${owner}: regions is empty; name every target region`);
    for (const region of props.regions) {
      if (!Token.isUnresolved(region) && !isRegion(region)) {
        throw new Error(`${owner}: ${JSON.stringify(region)} is not a region code`);
      }
    }
    if (new Set(props.regions).size !== props.regions.length) {
      throw new Error(`${owner}: regions lists a region twice`);
    }
    this.stackSet = serviceManagedStackSet(this, 'StackSet', {
      stackSetName: props.stackSetName ?? DEFAULT_FORWARDING_STACK_SET_NAME,
      description: 'ami-cleaner: forwards new AMIs to the hub, in every target region of the selected OUs',
      callAs: props.callAs ?? 'SELF',
      // The role is named by CloudFormation (one per region), so no CAPABILITY_NAMED_IAM.
      capabilities: ['CAPABILITY_IAM'],
      parameters: {
        [FORWARDING_TEMPLATE_PARAMETERS.hubAccountId]: hub.hubAccountId,
        [FORWARDING_TEMPLATE_PARAMETERS.hubRegion]: hub.hubRegion,
      },
      organizationalUnitIds: props.organizationalUnitIds,
      regions: props.regions,
      templateBody: templateBody(owner, amiEventForwardingTemplate()),
    });
  }
}
