/** The construct's `recycleBin` prop: the two rules, the CreateTags grant, the environment, synth checks. */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { AmiCleaner, type AmiCleanerProps, InlineCodeFunctionFactory } from '../../infra/ami-cleaner.ts';
import { propsFromContext } from '../../infra/lib/context.ts';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
type Json = Record<string, any>;

function synth(props: Partial<AmiCleanerProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'TestStack', { env: { account: '123456789012', region: 'eu-west-1' } });
  const cleaner = new AmiCleaner(stack, 'Cleaner', {
    approvalEmail: 'ops@example.com',
    functionFactory: new InlineCodeFunctionFactory(),
    ...props,
  });
  return { stack, cleaner, template: Template.fromStack(stack) };
}

/** Statements granting `action`, by the role's logical id. */
function grants(template: Template, action: string): Map<string, Json[]> {
  const out = new Map<string, Json[]>();
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy')) as Json[]) {
    for (const statement of policy.Properties.PolicyDocument.Statement as Json[]) {
      if (![statement.Action].flat().includes(action)) continue;
      for (const role of policy.Properties.Roles as Json[])
        out.set(role.Ref, [...(out.get(role.Ref) ?? []), statement]);
    }
  }
  return out;
}

describe('recycleBin prop', () => {
  it('is off by default: no rule, no CreateTags, no retention in any environment', () => {
    // Act
    const { template } = synth();

    // Assess
    template.resourceCountIs('AWS::Rbin::Rule', 0);
    expect(grants(template, 'ec2:CreateTags').size).toBe(0);
    const envs = Object.values(template.findResources('AWS::Lambda::Function')).map(
      (f) => (f as Json).Properties.Environment?.Variables ?? {},
    );
    expect(envs.some((vars) => 'RECYCLE_BIN_RETENTION' in vars)).toBe(false);
  });

  it('creates one tag-level rule per resource type, matching only the tag the deletion steps set', () => {
    // Act
    const { template } = synth({ recycleBin: { imageRetentionDays: 7, snapshotRetentionDays: 30 } });

    // Assess
    const rules = Object.values(template.findResources('AWS::Rbin::Rule')).map((r) => (r as Json).Properties);
    expect(rules.map((r) => [r.ResourceType, r.RetentionPeriod, r.ResourceTags])).toEqual([
      [
        'EC2_IMAGE',
        { RetentionPeriodUnit: 'DAYS', RetentionPeriodValue: 7 },
        [{ ResourceTagKey: 'amicleaner:retain', ResourceTagValue: 'recycle-bin' }],
      ],
      [
        'EBS_SNAPSHOT',
        { RetentionPeriodUnit: 'DAYS', RetentionPeriodValue: 30 },
        [{ ResourceTagKey: 'amicleaner:retain', ResourceTagValue: 'recycle-bin' }],
      ],
    ]);
  });

  it('lets only the three deleting functions tag, only with the retention tags, on images only for Deregister', () => {
    // Prepare
    const { stack, cleaner, template } = synth({ recycleBin: { imageRetentionDays: 7 } });
    const roleOf = (id: keyof AmiCleaner['functions']) =>
      stack.resolve(cleaner.functions[id].role?.roleName).Ref;

    // Act
    const tagging = grants(template, 'ec2:CreateTags');

    // Assess
    expect([...tagging.keys()].sort()).toEqual(
      [roleOf('DeregisterImage'), roleOf('DeleteOrphanSnapshot'), roleOf('FinishEarlierRuns')].sort(),
    );
    const resourcesOf = (id: keyof AmiCleaner['functions']) =>
      JSON.stringify((tagging.get(roleOf(id)) ?? []).map((s) => s.Resource));
    expect(resourcesOf('DeregisterImage')).toMatch(/image\/\*.*snapshot\/\*/);
    expect(resourcesOf('DeleteOrphanSnapshot')).not.toMatch(/image/);
    for (const statements of tagging.values()) {
      for (const s of statements) {
        expect(s.Action).toBe('ec2:CreateTags');
        expect(s.Condition).toEqual({
          StringEquals: { 'aws:RequestTag/amicleaner:retain': 'recycle-bin' },
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['amicleaner:retain', 'amicleaner:run-id'] },
        });
      }
    }
  });

  it('tells the deletion steps, Finalize and the page the retention (snapshot days default to image days)', () => {
    // Act
    const { stack, cleaner } = synth({ recycleBin: { imageRetentionDays: 10 } });

    // Assess
    for (const fn of [
      cleaner.functions.DeregisterImage,
      cleaner.functions.Finalize,
      cleaner.approvalPageFunction,
    ]) {
      const vars = stack.resolve((fn.node.defaultChild as Json).environment).variables;
      expect(JSON.parse(vars.RECYCLE_BIN_RETENTION)).toEqual({ imageDays: 10, snapshotDays: 10 });
    }
  });

  it.each([
    [
      { imageRetentionDays: 14, snapshotRetentionDays: 7 },
      /snapshotRetentionDays \(7\) must be >= recycleBin.imageRetentionDays \(14\)/,
    ],
    [{ imageRetentionDays: 0 }, /recycleBin.imageRetentionDays must be a whole number of days from 1 to 365/],
    [{ imageRetentionDays: 400 }, /from 1 to 365, got 400/],
  ])('stops the synth for %j with a clear message', (recycleBin, message) => {
    expect(() => synth({ recycleBin })).toThrow(message);
  });

  it('reads recycleBin from cdk.json context and refuses unknown keys in it', () => {
    expect(propsFromContext({ recycleBin: { imageRetentionDays: 3 } }, 'a@b.co').recycleBin).toEqual({
      imageRetentionDays: 3,
    });
    expect(() => propsFromContext({ recycleBin: { days: 3 } }, 'a@b.co')).toThrow(
      'unknown "recycleBin" key "days"',
    );
  });

  it('leaves cdk-nag with nothing unacknowledged', () => {
    // Prepare
    const { stack } = synth({ recycleBin: { imageRetentionDays: 7, snapshotRetentionDays: 14 } });

    // Act
    const found = new AwsSolutionsChecks()
      .validateScope(stack)
      .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));

    // Assess
    expect(found).toEqual([]);
  });
});
