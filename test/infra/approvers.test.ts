import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { AmiCleaner, type AmiCleanerProps, InlineCodeFunctionFactory } from '../../infra/ami-cleaner.ts';

// biome-ignore lint/suspicious/noExplicitAny: these tests walk parsed CloudFormation JSON.
type Json = Record<string, any>;

function synth(props: Partial<AmiCleanerProps>) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'TestStack', { env: { account: '123456789012', region: 'eu-west-1' } });
  const cleaner = new AmiCleaner(stack, 'Cleaner', {
    functionFactory: new InlineCodeFunctionFactory(),
    ...props,
  });
  const template = Template.fromStack(stack);
  return { stack, cleaner, template };
}

describe('named approvers in the construct', () => {
  it('subscribes each approver to the approval topic with a filter on their own address', () => {
    // Act
    const { stack, cleaner, template } = synth({
      approvalEmail: 'ops@example.com',
      approvers: ['Ada@Example.com', 'bob@example.com'],
      requiredApprovals: 2,
    });

    // Assess
    const topic = stack.resolve(cleaner.approvalTopic.topicArn);
    const subscriptions = Object.values(template.findResources('AWS::SNS::Subscription')) as Json[];
    const onApprovals = subscriptions.filter(
      (s) => JSON.stringify(s.Properties.TopicArn) === JSON.stringify(topic),
    );
    expect(onApprovals.map((s) => [s.Properties.Endpoint, s.Properties.FilterPolicy])).toEqual([
      ['ada@example.com', { approver: ['ada@example.com'] }],
      ['bob@example.com', { approver: ['bob@example.com'] }],
    ]);
    // approvalEmail would receive every approver's link: it gets the alarms only.
    expect(subscriptions.filter((s) => s.Properties.Endpoint === 'ops@example.com')).toHaveLength(1);
    expect(onApprovals.every((s) => s.Properties.FilterPolicyScope !== 'MessageBody')).toBe(true);
  });

  it('hands the approvers and the quorum to request-approval, and "none" without approvers', () => {
    // Act
    const named = synth({ approvers: ['ada@example.com', 'bob@example.com'], requiredApprovals: 2 });
    const shared = synth({ approvalEmail: 'ops@example.com' });

    // Assess
    const env = (s: typeof named) => {
      const fn = s.cleaner.functions.RequestApproval.node.defaultChild as never;
      return s.template.toJSON().Resources[s.stack.getLogicalId(fn)].Properties.Environment.Variables as Json;
    };
    expect(env(named)).toMatchObject({
      APPROVERS: JSON.stringify(['ada@example.com', 'bob@example.com']),
      REQUIRED_APPROVALS: '2',
    });
    expect(env(shared)).toMatchObject({ APPROVERS: 'none', REQUIRED_APPROVALS: '1' });
    expect(
      shared.template.findResources('AWS::SNS::Subscription', { Properties: { FilterPolicy: {} } }),
    ).toEqual({});
  });

  it.each([
    [
      'more approvals required than approvers',
      { approvers: ['a@example.com'], requiredApprovals: 2 },
      /requiredApprovals must be a whole number from 1 to the number of approvers \(1\), got 2/,
    ],
    [
      'zero approvals required',
      { approvers: ['a@example.com'], requiredApprovals: 0 },
      /requiredApprovals must be a whole number from 1/,
    ],
    [
      'a fractional quorum',
      { approvers: ['a@example.com', 'b@example.com'], requiredApprovals: 1.5 },
      /got 1\.5/,
    ],
    [
      'a quorum without approvers',
      { approvalEmail: 'ops@example.com', requiredApprovals: 2 },
      /requiredApprovals needs approvers/,
    ],
    ['an empty approvers list', { approvers: [] }, /approvers must be a non-empty list/],
    [
      'the same approver twice (case differs)',
      { approvers: ['a@example.com', 'A@example.com'] },
      /approver a@example.com is listed twice/,
    ],
    [
      'an approver that is no address',
      { approvers: ['a@example.com', 'not an address'] },
      /approver "not an address" is not an email address/,
    ],
    ['21 approvers', { approvers: Array.from({ length: 21 }, (_, i) => `a${i}@example.com`) }, /at most 20/],
  ] as const)('rejects %s at synth', (_what, props, message) => {
    // Act
    const act = () => synth(props as Partial<AmiCleanerProps>);

    // Assess
    expect(act).toThrow(message);
    expect(act).toThrow(/^AmiCleaner: /);
  });

  it('rejects approvers with an existing topic, whose other subscribers would receive every link', () => {
    // Prepare
    const app = new App({
      context: { 'aws:cdk:bundling-stacks': [] },
      builtinCloudFormationValidation: false,
    });
    const stack = new Stack(app, 'TopicStack');
    const topic = sns.Topic.fromTopicArn(stack, 'Existing', 'arn:aws:sns:eu-west-1:123456789012:approvals');

    // Act
    const act = () =>
      new AmiCleaner(stack, 'Cleaner', {
        approvalTopic: topic,
        approvers: ['a@example.com'],
        functionFactory: new InlineCodeFunctionFactory(),
      });

    // Assess
    expect(act).toThrow(/approvers cannot be used with approvalTopic/);
  });
});
