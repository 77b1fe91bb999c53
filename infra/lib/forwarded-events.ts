/**
 * The hub's side of forwarding (only with `targets`): statements on the hub's default event bus
 * that let the target accounts put their AMI-available events there, and nothing else. Listed
 * accounts are named as principals; OUs are admitted by organization (`aws:PrincipalOrgID`, the
 * id given as `organizationId`) and by path (`aws:PrincipalOrgPaths` through a selected OU or
 * root), so an account outside the organization, or outside the OUs, is refused. Either way the
 * event must be an `aws.ec2` "EC2 AMI State Change": members cannot put custom events on a bus
 * that other rules of the hub account may read.
 */
import { Names, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { AMI_AVAILABLE_EVENT_PATTERN } from './triggers.ts';

/** EventBridge's limit on a bus's whole permission policy (every statement, ours and others'). */
export const EVENT_BUS_POLICY_MAX_BYTES = 10_240;

export interface ForwardedAmiEventsProps {
  readonly accounts: readonly string[];
  readonly organizationalUnits: readonly string[];
  /** Required with `organizationalUnits` (checked with the props). */
  readonly organizationId?: string;
}

/** More than an account's principal renders in the longest partition (`"arn:aws-us-gov:iam::123456789012:root",`, 40). */
const ACCOUNT_PRINCIPAL_BYTES = 42;
/** Everything else in our two statements, rounded up: action, resource, conditions, keys. */
const STATEMENTS_OVERHEAD_BYTES = 1_200;

/** `o-…/r-…/ou-…/…/`: the root right after the organization, an OU anywhere below it. */
export function organizationPathPatterns(
  organizationId: string,
  organizationalUnits: readonly string[],
): string[] {
  return organizationalUnits.map((ou) =>
    ou.startsWith('r-') ? `${organizationId}/${ou}/*` : `${organizationId}/*/${ou}/*`,
  );
}

/** Why the selection's statements would not fit the bus policy, or undefined. */
export function busPolicyProblem(
  accounts: number,
  organizationalUnits: readonly string[],
  organizationId = '',
): string | undefined {
  const paths = organizationPathPatterns(organizationId, organizationalUnits);
  const bytes =
    STATEMENTS_OVERHEAD_BYTES +
    accounts * ACCOUNT_PRINCIPAL_BYTES +
    paths.reduce((sum, path) => sum + path.length + 3, 0);
  if (bytes <= EVENT_BUS_POLICY_MAX_BYTES) return undefined;
  return `${accounts} listed accounts and ${organizationalUnits.length} OUs would not fit the ${EVENT_BUS_POLICY_MAX_BYTES}-byte permission policy of the hub event bus that admits their forwarded AMI events; select OUs instead of many accounts, or a parent OU (or the root) instead of many OUs`;
}

export class ForwardedAmiEvents extends Construct {
  /** The statements added to the hub's default bus: listed accounts, then OUs (each when selected). */
  readonly policies: readonly events.CfnEventBusPolicy[];

  constructor(scope: Construct, id: string, props: ForwardedAmiEventsProps) {
    super(scope, id);
    const busArn = Stack.of(this).formatArn({
      service: 'events',
      resource: 'event-bus',
      resourceName: 'default',
    });
    // StringEquals, not ForAllValues: each event has one source and one detail type, and a
    // missing key then refuses the event instead of passing it.
    const amiEventKeys = {
      'events:source': AMI_AVAILABLE_EVENT_PATTERN.source,
      'events:detail-type': AMI_AVAILABLE_EVENT_PATTERN.detailType,
    };
    const onlyAmiEvents = { StringEquals: amiEventKeys };
    // Unique per construct: two deployments in one hub account and region keep their own statements.
    const statementIdBase = Names.uniqueResourceName(this, { maxLength: 48 });
    const policies: events.CfnEventBusPolicy[] = [];
    // The L1: the L2 EventBusPolicy hands its PolicyStatement object to CloudFormation unrendered.
    const add = (name: string, statement: iam.PolicyStatement) => {
      policies.push(
        new events.CfnEventBusPolicy(this, name, {
          eventBusName: 'default',
          statementId: `${statementIdBase}${name}`,
          statement: statement.toStatementJson(),
        }),
      );
    };
    if (props.accounts.length > 0) {
      add(
        'Accounts',
        new iam.PolicyStatement({
          actions: ['events:PutEvents'],
          resources: [busArn],
          principals: props.accounts.map((account) => new iam.AccountPrincipal(account)),
          // Named accounts need no organization: a listed target may be outside it.
          conditions: onlyAmiEvents,
        }),
      );
    }
    if (props.organizationalUnits.length > 0) {
      const organizationId = props.organizationId;
      if (organizationId === undefined) throw new Error('ForwardedAmiEvents: OUs need organizationId');
      add(
        'Ous',
        new iam.PolicyStatement({
          actions: ['events:PutEvents'],
          resources: [busArn],
          principals: [new iam.AnyPrincipal()],
          conditions: {
            StringEquals: { ...amiEventKeys, 'aws:PrincipalOrgID': organizationId },
            'ForAnyValue:StringLike': {
              'aws:PrincipalOrgPaths': organizationPathPatterns(organizationId, props.organizationalUnits),
            },
          },
        }),
      );
    }
    this.policies = policies;
  }
}
