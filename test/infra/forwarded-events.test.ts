/**
 * The hub's side of the forwarded AMI trigger: its default bus admits AMI-available events from
 * the target accounts (listed, or under the selected OUs of the given organization) and no one
 * else, only with `targets`; and the props that choose it.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { AmiCleaner, type AmiCleanerProps, InlineCodeFunctionFactory } from '../../infra/ami-cleaner.ts';
import { propsFromContext } from '../../infra/lib/context.ts';
import {
  busPolicyProblem,
  EVENT_BUS_POLICY_MAX_BYTES,
  ForwardedAmiEvents,
} from '../../infra/lib/forwarded-events.ts';
import { type Json, render, resourcesOfType, violations } from '../helpers/cfn.ts';

const HUB = '123456789012';
const REGION = 'eu-west-1';
const MEMBERS = ['210987654321', '333333333333'];
const OU = 'ou-ab12-abcdefgh';
const ORG = 'o-abcdefghij';
const REFS = { 'AWS::Partition': 'aws', 'AWS::Region': REGION, 'AWS::AccountId': HUB };
const HUB_BUS = `arn:aws:events:${REGION}:${HUB}:event-bus/default`;
const AMI_EVENT_KEYS = {
  'events:source': ['aws.ec2'],
  'events:detail-type': ['EC2 AMI State Change'],
};
const ONLY_AMI_EVENTS = { StringEquals: AMI_EVENT_KEYS };

function synth(props: Partial<AmiCleanerProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  // Environment-agnostic, as infra/app.ts deploys it: the bus ARN is the deploying account's.
  const stack = new Stack(app, 'Hub');
  const cleaner = new AmiCleaner(stack, 'Cleaner', {
    approvalEmail: 'ops@example.com',
    functionFactory: new InlineCodeFunctionFactory(),
    ...props,
  });
  return { stack, cleaner, template: Template.fromStack(stack).toJSON() as Json };
}

/** The bus policy statements, rendered, by their construct id. */
function busStatements(template: Json): Record<string, Json> {
  const policies = Object.values(resourcesOfType(template, 'AWS::Events::EventBusPolicy'));
  for (const p of policies) expect(p.Properties.EventBusName).toBe('default');
  return Object.fromEntries(
    policies.map((p) => [
      (p.Properties.StatementId as string).replace(/^HubCleanerForwardedAmiEvents[0-9A-F]{8}/, ''),
      render(p.Properties.Statement, REFS) as Json,
    ]),
  );
}

describe('the hub bus policy for forwarded AMI events', () => {
  it('is absent without targets: the hub then cleans only its own account and region', () => {
    const { template, cleaner } = synth();
    expect(resourcesOfType(template, 'AWS::Events::EventBusPolicy')).toEqual({});
    expect(cleaner.forwardedAmiEvents).toBeUndefined();
  });

  it('is absent with targets unless acceptForwardedAmiEvents: members then need no organizationId or bus limit', () => {
    // Act: OUs without organizationId and more listed accounts than the bus policy would hold.
    const { template, cleaner } = synth({
      targets: {
        accounts: Array.from({ length: 250 }, (_, i) => String(100_000_000_000 + i)),
        organizationalUnits: [OU],
        regions: [REGION],
      },
    });

    // Assess
    expect(resourcesOfType(template, 'AWS::Events::EventBusPolicy')).toEqual({});
    expect(cleaner.forwardedAmiEvents).toBeUndefined();
  });

  it('names exactly the listed target accounts, for AMI-available events on the default bus only', () => {
    const { template } = synth({
      targets: { accounts: [HUB, ...MEMBERS], regions: [REGION, 'us-east-1'] },
      acceptForwardedAmiEvents: true,
    });
    expect(busStatements(template)).toEqual({
      Accounts: {
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Resource: HUB_BUS,
        Principal: { AWS: [HUB, ...MEMBERS].map((a) => `arn:aws:iam::${a}:root`) },
        Condition: ONLY_AMI_EVENTS,
      },
    });
  });

  it('admits OUs only from accounts of the given organization whose path passes through them', () => {
    // Prepare
    const { template, stack } = synth({
      targets: { accounts: [MEMBERS[0] as string], organizationalUnits: [OU, 'r-ab12'], regions: [REGION] },
      acceptForwardedAmiEvents: true,
      organizationId: ORG,
    });

    // Act
    const statements = busStatements(template);

    // Assess
    expect(statements.Accounts?.Principal).toEqual({ AWS: `arn:aws:iam::${MEMBERS[0]}:root` });
    // A listed account may be outside the organization: it is named, not admitted by organization.
    expect(statements.Accounts?.Condition).toEqual(ONLY_AMI_EVENTS);
    expect(statements.Ous).toEqual({
      Effect: 'Allow',
      Action: 'events:PutEvents',
      Resource: HUB_BUS,
      Principal: { AWS: '*' },
      Condition: {
        StringEquals: { ...AMI_EVENT_KEYS, 'aws:PrincipalOrgID': ORG },
        'ForAnyValue:StringLike': { 'aws:PrincipalOrgPaths': [`${ORG}/*/${OU}/*`, `${ORG}/r-ab12/*`] },
      },
    });
    expect(violations(stack)).toEqual([]);
  });

  it('keeps the statements of two deployments in one hub account and region apart', () => {
    // Prepare
    const app = new App({
      context: { 'aws:cdk:bundling-stacks': [] },
      builtinCloudFormationValidation: false,
    });
    const targets = { accounts: MEMBERS, regions: [REGION] };
    const stacks = ['Blue', 'Green'].map((name) => {
      const stack = new Stack(app, name);
      new AmiCleaner(stack, 'Cleaner', {
        approvalEmail: 'ops@example.com',
        functionFactory: new InlineCodeFunctionFactory(),
        targets,
        acceptForwardedAmiEvents: true,
      });
      return stack;
    });
    const ids = stacks.map((stack) => {
      const policies = resourcesOfType(Template.fromStack(stack).toJSON(), 'AWS::Events::EventBusPolicy');
      return Object.values(policies)[0]?.Properties.StatementId as string;
    });

    // Assess: PutPermission replaces a statement of the same id, so they must differ.
    expect(new Set(ids).size).toBe(2);
    for (const id of ids) expect(id).toMatch(/^[a-zA-Z0-9-_]{1,64}$/);
  });

  it('fits every selection it accepts into the 10 KB bus policy, in the longest partition', () => {
    // Prepare: the most accounts the check lets through, with OUs (and a root) as well.
    const ous = ['r-ab12', ...Array.from({ length: 20 }, (_, i) => `ou-ab12-${String(i).padStart(8, '0')}`)];
    const organizationId = `o-${'a'.repeat(32)}`;
    const most = Array.from({ length: 400 }, (_, i) => i).findLast(
      (n) => busPolicyProblem(n, ous, organizationId) === undefined,
    );
    const accounts = Array.from({ length: most ?? 0 }, (_, i) => String(100_000_000_000 + i));
    const stack = new Stack(new App(), 'Hub', { env: { account: HUB, region: 'us-gov-west-1' } });
    const forwarded = new ForwardedAmiEvents(stack, 'Forwarded', {
      accounts,
      organizationalUnits: ous,
      organizationId,
    });

    // Act
    const statements = forwarded.policies.map((p) =>
      render(stack.resolve(p.statement), { 'AWS::Partition': 'aws-us-gov' }),
    );

    // Assess
    expect(most).toBeGreaterThan(150);
    expect(busPolicyProblem((most ?? 0) + 1, ous, organizationId)).toMatch(/would not fit/);
    expect(Buffer.byteLength(JSON.stringify(statements))).toBeLessThanOrEqual(EVENT_BUS_POLICY_MAX_BYTES);
  });

  it('takes organizationId from the cdk.json context too', () => {
    const props = propsFromContext(
      {
        targets: { organizationalUnits: [OU], regions: [REGION] },
        acceptForwardedAmiEvents: true,
        organizationId: ORG,
      },
      'ops@example.com',
    );
    expect(props.organizationId).toBe(ORG);
    expect(props.acceptForwardedAmiEvents).toBe(true);
  });

  it.each([
    [
      'OUs without organizationId',
      { targets: { organizationalUnits: [OU], regions: [REGION] }, acceptForwardedAmiEvents: true },
      /acceptForwardedAmiEvents with targets\.organizationalUnits needs organizationId \(o-…, from `aws organizations describe-organization`\)/,
    ],
    [
      'an organizationId of the wrong shape',
      {
        targets: { organizationalUnits: [OU], regions: [REGION] },
        acceptForwardedAmiEvents: true,
        organizationId: 'o-short',
      },
      /organizationId must be an organization id \(o- and 10 to 32 letters or digits\), got "o-short"/,
    ],
    ['organizationId without targets', { organizationId: ORG }, /organizationId needs targets/],
    [
      'acceptForwardedAmiEvents without targets',
      { acceptForwardedAmiEvents: true },
      /acceptForwardedAmiEvents needs targets/,
    ],
    [
      'organizationId without acceptForwardedAmiEvents',
      { targets: { organizationalUnits: [OU], regions: [REGION] }, organizationId: ORG },
      /organizationId needs acceptForwardedAmiEvents/,
    ],
    [
      'more listed accounts than the bus policy holds',
      {
        targets: {
          accounts: Array.from({ length: 250 }, (_, i) => String(100_000_000_000 + i)),
          regions: [REGION],
        },
        acceptForwardedAmiEvents: true,
      },
      /250 listed accounts and 0 OUs would not fit the 10240-byte permission policy of the hub event bus .* select OUs instead of many accounts/,
    ],
  ] as const)('rejects %s', (_, props, message) => {
    expect(() => synth(props as Partial<AmiCleanerProps>)).toThrow(message);
  });
});
