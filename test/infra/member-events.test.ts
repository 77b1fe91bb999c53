/**
 * The member side of the AMI trigger: the forwarding rule and its role (by hand and as the
 * StackSet's parameterized template), and the StackSet that rolls it out to every target region.
 */
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { AmiCleaner, InlineCodeFunctionFactory } from '../../infra/ami-cleaner.ts';
import {
  AmiCleanerAmiEventForwarding,
  AmiCleanerAmiEventForwardingStackSet,
  amiEventForwardingTemplate,
} from '../../infra/member-events.ts';
import { AmiCleanerMemberRoleStackSet, TEMPLATE_BODY_MAX_BYTES } from '../../infra/member-role.ts';
import { type Json, render, resourcesOfType, violations } from '../helpers/cfn.ts';

const HUB = '111111111111';
const HUB_REGION = 'eu-west-1';
const MEMBER = '222222222222';
const HUB_BUS = `arn:aws:events:${HUB_REGION}:${HUB}:event-bus/default`;
const OUS = ['ou-ab12-cdef3456', 'r-ab12'];
const HUB_ROLES = [`arn:aws:iam::${HUB}:role/Inventory`];

/** What EventBridge matches for a new AMI: the hub's own rule's pattern, spelled out. */
const AMI_AVAILABLE = {
  source: ['aws.ec2'],
  'detail-type': ['EC2 AMI State Change'],
  detail: { State: ['available'] },
};

function only(template: Json, type: string): [string, Json] {
  const found = Object.entries(resourcesOfType(template, type));
  expect(found).toHaveLength(1);
  return found[0] as [string, Json];
}

/** The forwarding's rule and role, with the intrinsics rendered by `refs`. */
function forwarding(template: Json, refs: Record<string, unknown>) {
  const [roleId, role] = only(template, 'AWS::IAM::Role');
  const [, rule] = only(template, 'AWS::Events::Rule');
  expect(resourcesOfType(template, 'AWS::IAM::Policy')).toEqual({});
  return { roleId, role: render(role.Properties, refs) as Json, rule: render(rule.Properties, refs) as Json };
}

function memberStack(props: Partial<ConstructorParameters<typeof AmiCleanerAmiEventForwarding>[2]> = {}) {
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Member', { env: { account: MEMBER, region: 'us-east-1' } });
  new AmiCleanerAmiEventForwarding(stack, 'Forward', { hubAccountId: HUB, hubRegion: HUB_REGION, ...props });
  return { stack, template: Template.fromStack(stack).toJSON() as Json };
}

function expectForwardsToHub(template: Json, refs: Record<string, unknown>): void {
  const { roleId, role, rule } = forwarding(template, refs);
  expect(rule.EventPattern).toEqual(AMI_AVAILABLE);
  // The member's default bus (no EventBusName), one target: the hub's default bus, through the role.
  expect(rule.EventBusName).toBeUndefined();
  expect(rule.State).toBe('ENABLED');
  expect(rule.Targets).toEqual([{ Id: 'Target0', Arn: HUB_BUS, RoleArn: `<${roleId}.Arn>` }]);
  // EventBridge may assume it, and it may only put events on that one bus.
  expect(role.AssumeRolePolicyDocument).toEqual({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'events.amazonaws.com' } },
    ],
  });
  expect(role.ManagedPolicyArns).toBeUndefined();
  expect(role.Policies).toEqual([
    {
      PolicyName: 'ForwardAmiEvents',
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Sid: 'PutEventsOnHubBus', Effect: 'Allow', Action: 'events:PutEvents', Resource: HUB_BUS },
        ],
      },
    },
  ]);
  // Named by CloudFormation: one stack per region never collides with another (IAM is global).
  expect(role.RoleName).toBeUndefined();
}

describe('AmiCleanerAmiEventForwarding', () => {
  const { stack, template } = memberStack();

  it("forwards the hub rule's AMI-available events to the hub's default bus, with a PutEvents-only role", () => {
    expectForwardsToHub(template, { 'AWS::Partition': 'aws' });
  });

  it("matches exactly what the hub's own AMI trigger matches", () => {
    // Prepare
    const app = new App({
      context: { 'aws:cdk:bundling-stacks': [] },
      builtinCloudFormationValidation: false,
    });
    const hub = new Stack(app, 'Hub', { env: { account: HUB, region: HUB_REGION } });
    const cleaner = new AmiCleaner(hub, 'Cleaner', {
      approvalEmail: 'ops@example.com',
      functionFactory: new InlineCodeFunctionFactory(),
    });
    const hubRuleId = hub.getLogicalId(cleaner.triggers.amiAvailableRule.node.defaultChild as CfnElement);

    // Assess
    const hubPattern = Template.fromStack(hub).toJSON().Resources[hubRuleId].Properties.EventPattern;
    expect(forwarding(template, { 'AWS::Partition': 'aws' }).rule.EventPattern).toEqual(hubPattern);
    // No account or region in it: the hub's rule matches the events members forward.
    expect(Object.keys(hubPattern).sort()).toEqual(['detail', 'detail-type', 'source']);
  });

  it('has no unacknowledged cdk-nag finding', () => {
    expect(violations(stack)).toEqual([]);
  });

  it.each([
    [{ hubAccountId: '11111111111' }, /hubAccountId "11111111111" is not a 12-digit account id/],
    [{ hubRegion: 'eu-west' }, /hubRegion "eu-west" is not a region code/],
    [{ hubRegion: '../x' }, /is not a region code/],
    [{ hubAccountId: MEMBER, hubRegion: 'us-east-1' }, /is the hub's own bus; its AMIs need no forwarding/],
  ])('refuses %j', (props, message) => {
    expect(() => memberStack(props)).toThrow(message);
  });
});

/** Evaluates the template's conditions (Fn::Not/And/Equals, Condition, Ref) for one stack instance. */
function conditionHolds(template: Json, name: string, refs: Record<string, unknown>): boolean {
  const evaluate = (expr: Json): boolean | unknown => {
    if (expr.Condition) return conditionHolds(template, expr.Condition, refs);
    if (expr['Fn::Not']) return !evaluate(expr['Fn::Not'][0]);
    if (expr['Fn::And']) return (expr['Fn::And'] as Json[]).every((e) => evaluate(e) === true);
    if (expr['Fn::Equals']) {
      const [a, b] = expr['Fn::Equals'] as unknown[];
      return render(a, refs) === render(b, refs);
    }
    throw new Error(`unexpected condition ${JSON.stringify(expr)}`);
  };
  return evaluate(template.Conditions[name]) === true;
}

/** The resource types a stack instance of `template` creates in `account` and `region`. */
function createdIn(template: Json, account: string, region: string): string[] {
  const refs = { 'AWS::AccountId': account, 'AWS::Region': region, HubAccountId: HUB, HubRegion: HUB_REGION };
  return Object.values(template.Resources as Record<string, Json>)
    .filter((r) => r.Condition === undefined || conditionHolds(template, r.Condition, refs))
    .map((r) => r.Type)
    .sort();
}

describe('amiEventForwardingTemplate', () => {
  const template = amiEventForwardingTemplate() as Json;

  it('takes the hub from parameters and forwards as the hand-deployed construct does', () => {
    expect(Object.keys(template.Parameters)).toEqual(['HubAccountId', 'HubRegion']);
    expect(template.Parameters.HubAccountId.AllowedPattern).toBe('^[0-9]{12}$');
    expect(new RegExp(template.Parameters.HubRegion.AllowedPattern).test('ap-southeast-2')).toBe(true);
    expect(new RegExp(template.Parameters.HubRegion.AllowedPattern).test('eu-west-1/../x')).toBe(false);
    expectForwardsToHub(template, { 'AWS::Partition': 'aws', HubAccountId: HUB, HubRegion: HUB_REGION });
  });

  it("creates the rule everywhere but the hub's own account and region, where only a placeholder stands", () => {
    const forwards = ['AWS::Events::Rule', 'AWS::IAM::Role'];
    expect(createdIn(template, MEMBER, HUB_REGION)).toEqual(forwards);
    expect(createdIn(template, MEMBER, 'us-east-1')).toEqual(forwards);
    // The hub account in another target region: its AMIs are forwarded across regions.
    expect(createdIn(template, HUB, 'us-east-1')).toEqual(forwards);
    // A rule targeting its own bus would echo; the hub's rule sees these events already.
    expect(createdIn(template, HUB, HUB_REGION)).toEqual(['AWS::CloudFormation::WaitConditionHandle']);
  });

  it('deploys into accounts that were never CDK-bootstrapped', () => {
    expect(template.Rules).toBeUndefined();
    expect(JSON.stringify(template)).not.toMatch(/BootstrapVersion|CDKMetadata|cdk-hnb659fds|aws:cdk:path/);
    expect(Buffer.byteLength(JSON.stringify(template))).toBeLessThan(TEMPLATE_BODY_MAX_BYTES);
  });
});

describe('forwarding rolled out with the member role StackSet', () => {
  const REGIONS = ['eu-west-1', 'us-east-1', 'ap-southeast-2'];
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  // Environment-agnostic, as infra/app.ts deploys it.
  const hub = new Stack(app, 'Hub');
  const members = new AmiCleanerMemberRoleStackSet(hub, 'Members', {
    hubPrincipalArns: HUB_ROLES,
    organizationalUnitIds: OUS,
    callAs: 'DELEGATED_ADMIN',
    forwardAmiEvents: { regions: REGIONS },
  });
  const stackSets = resourcesOfType(Template.fromStack(hub).toJSON(), 'AWS::CloudFormation::StackSet');
  const byName = Object.fromEntries(
    Object.values(stackSets).map((s) => [s.Properties.StackSetName, s.Properties]),
  );

  it('deploys the rule to every target region of the same OUs, service-managed with auto-deployment', () => {
    expect(Object.keys(byName).sort()).toEqual(['AmiCleanerAmiEventForwarding', 'AmiCleanerMemberRole']);
    const forwardingSet = byName.AmiCleanerAmiEventForwarding;
    expect(forwardingSet).toMatchObject({
      PermissionModel: 'SERVICE_MANAGED',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      CallAs: 'DELEGATED_ADMIN',
      Capabilities: ['CAPABILITY_IAM'],
      StackInstancesGroup: [{ DeploymentTargets: { OrganizationalUnitIds: OUS }, Regions: REGIONS }],
      Parameters: [
        { ParameterKey: 'HubAccountId', ParameterValue: { Ref: 'AWS::AccountId' } },
        { ParameterKey: 'HubRegion', ParameterValue: { Ref: 'AWS::Region' } },
      ],
    });
    expect(JSON.parse(forwardingSet.TemplateBody)).toEqual(amiEventForwardingTemplate());
    expect(members.eventForwarding?.stackSet).toBeDefined();
  });

  it('leaves the role StackSet in its one region (IAM is global)', () => {
    expect(byName.AmiCleanerMemberRole.StackInstancesGroup).toEqual([
      { DeploymentTargets: { OrganizationalUnitIds: OUS }, Regions: [{ Ref: 'AWS::Region' }] },
    ]);
  });

  it('has no unacknowledged cdk-nag finding in the hub stack', () => {
    expect(violations(hub)).toEqual([]);
  });

  it('names a second forwarding StackSet after its role StackSet, passes an explicit hub on, and adds none unasked', () => {
    // Prepare
    const stack = new Stack(new App(), 'Other', { env: { account: HUB, region: HUB_REGION } });
    new AmiCleanerMemberRoleStackSet(stack, 'Named', {
      hubPrincipalArns: ['arn:aws:iam::333333333333:role/Inventory'],
      organizationalUnitIds: OUS,
      stackSetName: 'Platform',
      hubAccountId: '333333333333',
      forwardAmiEvents: { regions: ['us-east-1'], hubRegion: 'us-west-2' },
    });
    new AmiCleanerMemberRoleStackSet(stack, 'RoleOnly', {
      hubPrincipalArns: HUB_ROLES,
      organizationalUnitIds: OUS,
      stackSetName: 'RoleOnly',
    });

    // Assess
    const sets = Object.values(
      resourcesOfType(Template.fromStack(stack).toJSON(), 'AWS::CloudFormation::StackSet'),
    );
    expect(sets.map((s) => s.Properties.StackSetName).sort()).toEqual([
      'Platform',
      'Platform-AmiEvents',
      'RoleOnly',
    ]);
    const named = sets.find((s) => s.Properties.StackSetName === 'Platform-AmiEvents')?.Properties;
    expect(named.Parameters).toEqual([
      { ParameterKey: 'HubAccountId', ParameterValue: '333333333333' },
      { ParameterKey: 'HubRegion', ParameterValue: 'us-west-2' },
    ]);
  });
});

describe('AmiCleanerAmiEventForwardingStackSet', () => {
  const build = (props: Partial<ConstructorParameters<typeof AmiCleanerAmiEventForwardingStackSet>[2]>) => {
    const stack = new Stack(new App(), 'Hub', { env: { account: HUB, region: HUB_REGION } });
    return new AmiCleanerAmiEventForwardingStackSet(stack, 'Forward', {
      organizationalUnitIds: OUS,
      regions: ['us-east-1'],
      ...props,
    });
  };

  it('takes an explicit hub (a StackSet administered outside the hub account)', () => {
    const set = build({
      hubAccountId: '333333333333',
      hubRegion: 'us-west-2',
      regions: ['us-east-1', 'us-west-2'],
    });
    const props = Stack.of(set).resolve(set.stackSet.parameters);
    expect(props).toEqual([
      { parameterKey: 'HubAccountId', parameterValue: '333333333333' },
      { parameterKey: 'HubRegion', parameterValue: 'us-west-2' },
    ]);
  });

  it.each([
    [{ regions: [] }, /regions is empty; name every target region/],
    [{ regions: ['us-east-1', 'mars-north-1'] }, /"mars-north-1" is not a region code/],
    [{ regions: ['us-east-1', 'us-east-1'] }, /regions lists a region twice/],
    [{ organizationalUnitIds: [] }, /organizationalUnitIds is empty/],
    [{ organizationalUnitIds: ['ou-../x'] }, /"ou-..\/x" is not an OU or root id/],
    [{ hubAccountId: 'hub' }, /hubAccountId "hub" is not a 12-digit account id/],
    [{ hubRegion: 'EU-WEST-1' }, /hubRegion "EU-WEST-1" is not a region code/],
  ])('refuses %j', (props, message) => {
    expect(() => build(props)).toThrow(message);
  });
});
