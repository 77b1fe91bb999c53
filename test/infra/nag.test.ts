import { App, Stack, Validations } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { AmiCleaner, type AmiCleanerProps, InlineCodeFunctionFactory } from '../../infra/ami-cleaner.ts';

function build(
  props: (stack: Stack) => AmiCleanerProps = () => ({ approvalEmail: 'ops@example.com' }),
  env?: { account: string; region: string },
) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'NagStack', { env });
  new AmiCleaner(stack, 'Cleaner', { functionFactory: new InlineCodeFunctionFactory(), ...props(stack) });
  return { app, stack };
}

function violations(scope: IConstruct): string[] {
  return new AwsSolutionsChecks()
    .validateScope(scope)
    .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
}

/** Every acknowledgement recorded in the tree, as `ruleId: reason`. */
function acknowledgements(scope: IConstruct): { id: string; reason: string }[] {
  return scope.node
    .findAll()
    .flatMap((c) =>
      c.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) =>
          Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ id, reason })),
        ),
    );
}

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in the construct', () => {
    // Prepare
    const { stack } = build();

    // Act
    const found = violations(stack);

    // Assess
    expect(found).toEqual([]);
  });

  it('finds nothing unacknowledged in a stack with an explicit account and region', () => {
    // Prepare: a literal region and account appear in ARNs as themselves, not as <AWS::Region>.
    const { stack } = build(undefined, { account: '123456789012', region: 'eu-west-1' });

    // Act
    const found = violations(stack);

    // Assess
    expect(found).toEqual([]);
  });

  it('finds nothing unacknowledged with an existing approval topic and no schedule', () => {
    // Prepare
    const { stack } = build((scope) => ({
      approvalTopic: sns.Topic.fromTopicArn(
        scope,
        'Approvals',
        'arn:aws:sns:eu-west-1:123456789012:approvals',
      ),
      scheduleEnabled: false,
    }));

    // Act
    const found = violations(stack);

    // Assess
    expect(found).toEqual([]);
  });

  it('makes a synth with the plugin registered succeed, as `cdk synth` does', () => {
    // Prepare
    const { app } = build();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

    // Act
    const synth = () => app.synth();

    // Assess
    expect(synth).not.toThrow();
  });

  it('makes that synth fail on an unacknowledged finding', () => {
    // Prepare
    const { app, stack } = build();
    new sns.Topic(stack, 'UnencryptedTopic');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

    // Act
    const synth = () => app.synth();

    // Assess
    expect(synth).toThrow(/AwsSolutions-SNS3/);
  });

  it('acknowledges only exact findings, each with a reason, never a whole IAM rule', () => {
    // Prepare
    const { stack } = build();

    // Act
    const acks = acknowledgements(stack);

    // Assess
    expect(acks.length).toBeGreaterThan(0);
    for (const { id, reason } of acks) {
      expect(reason.length, id).toBeGreaterThan(30);
      if (/IAM[45]/.test(id)) expect(id, 'IAM acknowledgements must name the finding').toMatch(/\[.+\]$/);
      expect(id).not.toMatch(/\[Action::\*\]|\[Action::[a-z0-9]+:\*\]/);
    }
  });

  it('still reports a real new finding next to the acknowledged ones', () => {
    // Prepare
    const { stack } = build();
    new sns.Topic(stack, 'UnencryptedTopic');

    // Act
    const found = violations(stack);

    // Assess
    expect(found).toContain('AwsSolutions-SNS3 at NagStack/UnencryptedTopic/Resource');
  });
});
