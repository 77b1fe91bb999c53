import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { AmiCleaner, InlineCodeFunctionFactory } from '../../infra/ami-cleaner.ts';
import {
  AmiCleanerMemberRole,
  AmiCleanerMemberRoleStackSet,
  memberRoleTemplate,
  TEMPLATE_BODY_MAX_BYTES,
} from '../../infra/member-role.ts';
import { type Json, render, violations } from '../helpers/cfn.ts';

const HUB = '111111111111';
const MEMBER = '222222222222';
const HUB_ROLES = [`arn:aws:iam::${HUB}:role/Inventory`, `arn:aws:iam::${HUB}:role/Deregister`];

function onlyRole(template: Json): Json {
  const roles = Object.values(template.Resources as Json).filter((r: Json) => r.Type === 'AWS::IAM::Role');
  expect(roles).toHaveLength(1);
  return (roles[0] as Json).Properties;
}

/** What the member role must allow, exactly, with `account` the member account. */
function expectedPermissions(account: string): Json[] {
  return [
    {
      Sid: 'DescribeImageReferences',
      Effect: 'Allow',
      Action: [
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
      ],
      Resource: '*',
    },
    {
      Sid: 'ReadAmiParameters',
      Effect: 'Allow',
      Action: 'ssm:GetParametersByPath',
      Resource: `arn:aws:ssm:*:${account}:parameter/*`,
    },
    {
      Sid: 'ReadImageBuilderRecipes',
      Effect: 'Allow',
      Action: ['imagebuilder:GetContainerRecipe', 'imagebuilder:GetImageRecipe'],
      Resource: [
        `arn:aws:imagebuilder:*:${account}:container-recipe/*`,
        `arn:aws:imagebuilder:*:${account}:image-recipe/*`,
      ],
    },
    {
      Sid: 'DeregisterOwnImages',
      Effect: 'Allow',
      Action: 'ec2:DeregisterImage',
      Resource: 'arn:aws:ec2:*::image/*',
      Condition: { StringEquals: { 'ec2:Owner': account } },
    },
    {
      Sid: 'ReportUsageOfOwnImages',
      Effect: 'Allow',
      Action: 'ec2:CreateImageUsageReport',
      Resource: 'arn:aws:ec2:*::image/*',
      Condition: { StringEquals: { 'ec2:Owner': account } },
    },
    {
      Sid: 'CreateOwnUsageReports',
      Effect: 'Allow',
      Action: 'ec2:CreateImageUsageReport',
      Resource: `arn:aws:ec2:*:${account}:image-usage-report/*`,
    },
    {
      // The Recycle Bin's tags only (what the hub's TagForRecycleBin allows), nothing else.
      Sid: 'TagForRecycleBin',
      Effect: 'Allow',
      Action: 'ec2:CreateTags',
      Resource: ['arn:aws:ec2:*::image/*', 'arn:aws:ec2:*::snapshot/*'],
      Condition: {
        StringEquals: { 'aws:RequestTag/amicleaner:retain': 'recycle-bin' },
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['amicleaner:retain', 'amicleaner:run-id'] },
      },
    },
    {
      Sid: 'DeleteOwnSnapshots',
      Effect: 'Allow',
      Action: 'ec2:DeleteSnapshot',
      Resource: 'arn:aws:ec2:*::snapshot/*',
      Condition: { StringEquals: { 'ec2:Owner': account } },
    },
  ];
}

function memberStack(props: Partial<ConstructorParameters<typeof AmiCleanerMemberRole>[2]> = {}) {
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Member', { env: { account: MEMBER, region: 'eu-west-1' } });
  const member = new AmiCleanerMemberRole(stack, 'Member', {
    hubAccountId: HUB,
    hubPrincipalArns: HUB_ROLES,
    ...props,
  });
  return { stack, member, template: Template.fromStack(stack).toJSON() as Json };
}

const MEMBER_REFS = { 'AWS::Partition': 'aws', 'AWS::AccountId': MEMBER };

describe('AmiCleanerMemberRole', () => {
  const { stack, template } = memberStack();
  const role = onlyRole(template);

  it('is trusted by the hub account only, narrowed to the named hub roles', () => {
    expect(role.RoleName).toBe('AmiCleanerMemberRole');
    expect(render(role.AssumeRolePolicyDocument, MEMBER_REFS)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { AWS: `arn:aws:iam::${HUB}:root` },
          Condition: { ArnLike: { 'aws:PrincipalArn': HUB_ROLES } },
        },
      ],
    });
  });

  it('reads, and deregisters and deletes only what the member account owns', () => {
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.Policies).toHaveLength(1);
    expect(render(role.Policies[0].PolicyDocument, MEMBER_REFS)).toEqual({
      Version: '2012-10-17',
      Statement: expectedPermissions(MEMBER),
    });
    const otherPolicies = Object.values(template.Resources as Json).filter(
      (r: Json) => r.Type.startsWith('AWS::IAM::') && r.Type !== 'AWS::IAM::Role',
    );
    expect(otherPolicies).toEqual([]);
  });

  it('has no unacknowledged cdk-nag finding', () => {
    expect(violations(stack)).toEqual([]);
  });

  it.each([
    [{ hubAccountId: '11111111111' }, /not a 12-digit account id/],
    [{ hubPrincipalArns: [] }, /hubPrincipalArns is empty/],
    [{ hubPrincipalArns: [`arn:aws:iam::${HUB}:role/*`] }, /would trust every role of the hub/],
    [{ hubPrincipalArns: [`arn:aws:iam::${HUB}:role/path/*`] }, /would trust every role of the hub/],
    [{ hubPrincipalArns: ['arn:aws:iam::333333333333:role/Inventory'] }, /is not in the hub account/],
    [{ hubPrincipalArns: [`arn:aws:iam::${HUB}:user/alice`] }, /is not an IAM role ARN/],
    [{ hubPrincipalArns: ['*'] }, /is not an IAM role ARN/],
    [{ roleName: '../Admin' }, /is not an IAM role name/],
  ])('refuses %j', (props, message) => {
    expect(() => memberStack(props)).toThrow(message);
  });

  it('accepts a role-name pattern for operators (an SSO role\u2019s random suffix)', () => {
    const arn = `arn:aws:iam::${HUB}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_PlatformAdmin_*`;
    const trust = render(
      onlyRole(memberStack({ hubPrincipalArns: [arn] }).template).AssumeRolePolicyDocument,
      MEMBER_REFS,
    ) as Json;
    expect(trust.Statement[0].Condition).toEqual({ ArnLike: { 'aws:PrincipalArn': [arn] } });
  });
});

describe('memberRoleTemplate', () => {
  const template = memberRoleTemplate() as Json;

  it('takes the trust from parameters and keeps the same permissions', () => {
    // Prepare
    const role = onlyRole(template);
    const refs = {
      ...MEMBER_REFS,
      HubAccountId: HUB,
      HubPrincipalArns: HUB_ROLES,
      RoleName: 'AmiCleanerMemberRole',
    };

    // Assess
    expect(Object.keys(template.Parameters)).toEqual(['HubAccountId', 'HubPrincipalArns', 'RoleName']);
    expect(template.Parameters.HubPrincipalArns.Type).toBe('CommaDelimitedList');
    expect(template.Parameters.HubAccountId.AllowedPattern).toBe('^[0-9]{12}$');
    expect(render(role.AssumeRolePolicyDocument, refs)).toEqual(
      render(onlyRole(memberStack().template).AssumeRolePolicyDocument, MEMBER_REFS),
    );
    expect(render(role.Policies[0].PolicyDocument.Statement, refs)).toEqual(expectedPermissions(MEMBER));
  });

  it('deploys into accounts that were never CDK-bootstrapped', () => {
    expect(template.Rules).toBeUndefined();
    expect(JSON.stringify(template)).not.toMatch(/BootstrapVersion|CDKMetadata|cdk-hnb659fds|aws:cdk:path/);
    expect(Buffer.byteLength(JSON.stringify(template))).toBeLessThan(TEMPLATE_BODY_MAX_BYTES);
  });
});

describe('AmiCleanerMemberRoleStackSet', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  // Environment-agnostic, as infra/app.ts deploys it (the hub's own nag acknowledgements name `<AWS::Region>`).
  const hub = new Stack(app, 'Hub');
  const cleaner = new AmiCleaner(hub, 'Cleaner', {
    approvalEmail: 'ops@example.com',
    functionFactory: new InlineCodeFunctionFactory(),
  });
  new AmiCleanerMemberRoleStackSet(hub, 'Members', {
    hubPrincipalArns: cleaner.memberRoleCallers.map((role) => role.roleArn),
    organizationalUnitIds: ['ou-ab12-cdef3456', 'ou-ab12-ghij7890'],
  });
  const resources = Template.fromStack(hub).toJSON().Resources as Json;
  const stackSets = Object.values(resources).filter((r: Json) => r.Type === 'AWS::CloudFormation::StackSet');
  const stackSet = stackSets[0] as Json;
  const roleOf = (fn: keyof AmiCleaner['functions']) => hub.resolve(cleaner.functions[fn].role?.roleArn);

  it('is service-managed, auto-deploys to the OUs, in one region (IAM is global)', () => {
    expect(stackSet.Properties).toMatchObject({
      PermissionModel: 'SERVICE_MANAGED',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      StackInstancesGroup: [
        {
          DeploymentTargets: { OrganizationalUnitIds: ['ou-ab12-cdef3456', 'ou-ab12-ghij7890'] },
          Regions: [{ Ref: 'AWS::Region' }],
        },
      ],
    });
    expect(JSON.parse(stackSet.Properties.TemplateBody)).toEqual(memberRoleTemplate());
  });

  it('trusts exactly the hub functions that touch EC2, not the approval page or the ledger-only ones', () => {
    // Prepare
    const parameters = Object.fromEntries(
      (stackSet.Properties.Parameters as Json[]).map((p) => [p.ParameterKey, p.ParameterValue]),
    );

    // Assess
    expect(parameters.HubAccountId).toEqual({ Ref: 'AWS::AccountId' });
    expect(parameters.RoleName).toBe('AmiCleanerMemberRole');
    expect(parameters.HubPrincipalArns).toEqual({
      'Fn::Join': [
        ',',
        (
          [
            'FinishEarlierRuns',
            'Inventory',
            'Rotate',
            'LoadApproved',
            'DeregisterImage',
            'DeleteImageSnapshots',
            'DeleteOrphanSnapshot',
          ] as const
        ).map(roleOf),
      ],
    });
    const trusted = JSON.stringify(parameters.HubPrincipalArns);
    expect(trusted).not.toContain(JSON.stringify(hub.resolve(cleaner.approvalPageFunction.role?.roleArn)));
    expect(trusted).not.toContain(JSON.stringify(roleOf('RequestApproval')));
  });

  it('has no unacknowledged cdk-nag finding in the hub stack', () => {
    expect(violations(hub)).toEqual([]);
  });

  it('refuses an empty or malformed OU list', () => {
    const stack = new Stack(new App(), 'Bad', { env: { account: HUB, region: 'eu-west-1' } });
    expect(
      () =>
        new AmiCleanerMemberRoleStackSet(stack, 'A', {
          hubPrincipalArns: HUB_ROLES,
          organizationalUnitIds: [],
        }),
    ).toThrow(/empty/);
    expect(
      () =>
        new AmiCleanerMemberRoleStackSet(stack, 'B', {
          hubPrincipalArns: HUB_ROLES,
          organizationalUnitIds: ['ou-../x'],
        }),
    ).toThrow(/not an OU or root id/);
  });
});
