/**
 * The construct with `targets`: the organization run beside the target run, what it may start
 * and follow, who may assume the member role and where, what the triggers start, and that a
 * deployment without `targets` gets none of it.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { AmiCleaner, type AmiCleanerProps, InlineCodeFunctionFactory } from '../../infra/ami-cleaner.ts';
import { handlersOf, ORGANIZATION_HANDLERS } from '../../infra/lib/handlers.ts';

// biome-ignore lint/suspicious/noExplicitAny: these tests walk parsed CloudFormation JSON.
type Json = Record<string, any>;
const REGION = 'eu-west-1';
const HUB = '123456789012';
const MEMBERS = ['210987654321', '333333333333'];
const OU = 'ou-ab12-abcdefgh';

function synth(props: Partial<AmiCleanerProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'TestStack', { env: { account: HUB, region: REGION } });
  const cleaner = new AmiCleaner(stack, 'Cleaner', {
    approvalEmail: 'ops@example.com',
    functionFactory: new InlineCodeFunctionFactory(),
    ...props,
  });
  const template = Template.fromStack(stack);
  return { stack, cleaner, template, resources: template.toJSON().Resources as Json };
}

const WITH_ACCOUNTS: Partial<AmiCleanerProps> = {
  targets: { accounts: [HUB, ...MEMBERS], regions: [REGION, 'us-east-1'] },
};

/** Renders the intrinsic functions the CDK uses in ARNs, so assertions read like real ARNs. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Json;
  if (v['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map(flatten).join(v['Fn::Join'][0]);
  if (v.Ref === 'AWS::Partition') return 'aws';
  if (v.Ref) return `<${v.Ref}>`;
  if (v['Fn::GetAtt']) return `<${v['Fn::GetAtt'].join('.')}>`;
  return JSON.stringify(v);
}

interface Statement {
  readonly role: string;
  readonly actions: string[];
  readonly resources: string[];
  readonly condition?: Json;
}

function statements(resources: Json): Statement[] {
  const list = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);
  const out: Statement[] = [];
  for (const resource of Object.values(resources) as Json[]) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    for (const role of resource.Properties.Roles as Json[]) {
      for (const s of resource.Properties.PolicyDocument.Statement as Json[]) {
        out.push({
          role: role.Ref,
          actions: list(s.Action),
          resources: list(s.Resource).map(flatten),
          condition: s.Condition,
        });
      }
    }
  }
  return out;
}

const roleRef = (stack: Stack, role: { roleName: string } | undefined): string =>
  stack.resolve(role?.roleName).Ref;

describe('the organization run (targets)', () => {
  const { stack, cleaner, template, resources } = synth(WITH_ACCOUNTS);
  const all = statements(resources);
  const organization = cleaner.organizationStateMachine;
  const functions = cleaner.organizationFunctions;

  it('is a second state machine whose definition names its own functions and the target run', () => {
    // Prepare
    expect(organization).toBeDefined();
    expect(functions).toBeDefined();
    const id = stack.getLogicalId(organization?.node.defaultChild as never);

    // Act
    const machine = resources[id];

    // Assess
    const expected: Json = {
      TargetStateMachineArn: stack.resolve(cleaner.stateMachine.stateMachineArn),
    };
    for (const spec of handlersOf('organization')) {
      const fn =
        spec.id === 'RequestApproval'
          ? cleaner.functions.RequestApproval
          : functions?.[spec.id as keyof NonNullable<typeof functions>];
      expected[spec.stateMachinePlaceholder] = stack.resolve(fn?.functionArn);
    }
    expect(machine.Properties.DefinitionSubstitutions).toEqual(expected);
    const definition = JSON.parse(flatten(machine.Properties.DefinitionString)) as Json;
    expect(definition.States.PlanTargets.MaxConcurrency).toBe(10);
    expect(definition.States.DeleteTargets.ItemProcessor.States.DeleteTarget.Resource).toBe(
      'arn:aws:states:::states:startExecution.sync:2',
    );
  });

  it('creates one function per organization handler, and renders targetMaxConcurrency', () => {
    // Act
    const {
      cleaner: custom,
      stack: customStack,
      resources: customResources,
    } = synth({
      ...WITH_ACCOUNTS,
      targetMaxConcurrency: 3,
    });

    // Assess
    expect(Object.keys(custom.organizationFunctions ?? {}).sort()).toEqual(
      ORGANIZATION_HANDLERS.map((h) => h.id).sort(),
    );
    const id = customStack.getLogicalId(custom.organizationStateMachine?.node.defaultChild as never);
    const definition = JSON.parse(flatten(customResources[id].Properties.DefinitionString)) as Json;
    for (const map of ['CollectReferences', 'PlanTargets', 'DeleteTargets', 'CloseTargets'])
      expect(definition.States[map].MaxConcurrency, map).toBe(3);
  });

  it('may invoke exactly its five functions, start only the target run and its own Map Run children, and follow only those', () => {
    // Prepare
    const role = roleRef(stack, organization?.role);
    const mine = all.filter((s) => s.role === role);

    // Act
    const invoke = mine.filter((s) => s.actions.includes('lambda:InvokeFunction'));
    const start = mine.filter((s) => s.actions.includes('states:StartExecution'));
    const follow = mine.filter((s) => s.actions.includes('states:DescribeExecution'));
    const rule = mine.filter((s) => s.actions.includes('events:PutRule'));

    // Assess
    expect(invoke).toHaveLength(1);
    expect(invoke[0]?.resources).toHaveLength(5);
    const self = stack.getLogicalId(organization?.node.defaultChild as never);
    expect(start.map((s) => s.resources).sort()).toEqual(
      [[`<${stack.resolve(cleaner.stateMachine.stateMachineArn).Ref}>`], [`<${self}>`]].sort(),
    );
    expect(follow).toHaveLength(2);
    for (const s of follow)
      expect(s.actions.sort()).toEqual(['states:DescribeExecution', 'states:StopExecution']);
    expect(follow.flatMap((s) => s.resources).sort()).toEqual(
      [
        // The target runs it starts with .sync:2 ...
        `arn:aws:states:${REGION}:${HUB}:execution:<${stack.getLogicalId(cleaner.stateMachine.node.defaultChild as never)}.Name>:*`,
        // ... and its Distributed Maps' child executions (execution:<name>/<label>:<id>).
        `arn:aws:states:${REGION}:${HUB}:execution:<${self}.Name>/*`,
      ].sort(),
    );
    const definition = JSON.parse(flatten(resources[self].Properties.DefinitionString)) as Json;
    for (const map of ['CollectReferences', 'PlanTargets', 'DeleteTargets', 'CloseTargets'])
      expect(definition.States[map].ItemProcessor.ProcessorConfig, map).toEqual({
        Mode: 'DISTRIBUTED',
        ExecutionType: 'STANDARD',
      });
    expect(rule[0]?.resources).toEqual([
      `arn:aws:events:${REGION}:${HUB}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule`,
    ]);
    // The target run still starts only its DeleteBatch children.
    const runStarts = all.filter(
      (s) =>
        s.role === roleRef(stack, cleaner.stateMachine.role) && s.actions.includes('states:StartExecution'),
    );
    expect(runStarts.flatMap((s) => s.resources)).toEqual([
      `<${stack.resolve(cleaner.deleteBatchStateMachine.stateMachineArn).Ref}>`,
    ]);
  });

  it('lets the approval page resume the organization run as well as a single-target run', () => {
    // Act
    const page = roleRef(stack, cleaner.approvalPageFunction.role);
    const responses = all.filter((s) => s.actions.includes('states:SendTaskSuccess'));

    // Assess
    expect(new Set(responses.map((s) => s.role))).toEqual(new Set([page]));
    expect(responses.flatMap((s) => s.resources).sort()).toEqual(
      [
        `<${stack.resolve(cleaner.stateMachine.stateMachineArn).Ref}>`,
        `<${stack.resolve(organization?.stateMachineArn).Ref}>`,
      ].sort(),
    );
  });

  it('starts the organization run from the schedule and the AMI trigger, never the target run directly', () => {
    // Prepare
    const role = roleRef(stack, cleaner.startExecutionFunction.role);

    // Act
    const starts = all.filter((s) => s.role === role && s.actions.includes('states:StartExecution'));
    const env = template.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp('^Starts a named execution') },
    });

    // Assess
    expect(starts.flatMap((s) => s.resources)).toEqual([
      `<${stack.resolve(organization?.stateMachineArn).Ref}>`,
    ]);
    const variables = (Object.values(env)[0] as Json).Properties.Environment.Variables;
    expect(variables.STATE_MACHINE_ARN).toEqual(stack.resolve(organization?.stateMachineArn));
    expect(JSON.parse(variables.TARGETS)).toEqual({
      accounts: [HUB, ...MEMBERS].sort(),
      organizationalUnits: [],
      regions: ['eu-west-1', 'us-east-1'],
    });
  });

  it('closes abandoned executions of both state machines', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        detail: {
          stateMachineArn: [
            stack.resolve(cleaner.stateMachine.stateMachineArn),
            stack.resolve(organization?.stateMachineArn),
          ],
        },
      },
    });
  });

  it('alarms on failed, timed-out, aborted and throttled organization runs, to the alarm topic', () => {
    // Prepare
    const alarms = Object.values(resources).filter(
      (r: Json) => r.Type === 'AWS::CloudWatch::Alarm',
    ) as Json[];
    const on = (machine: unknown) =>
      alarms
        .filter(
          (a) =>
            JSON.stringify(a.Properties.Dimensions) ===
            JSON.stringify([{ Name: 'StateMachineArn', Value: stack.resolve(machine) }]),
        )
        .map((a) => a.Properties.MetricName)
        .sort();
    const four = ['ExecutionThrottled', 'ExecutionsAborted', 'ExecutionsFailed', 'ExecutionsTimedOut'];

    // Assess
    expect(on(organization?.stateMachineArn)).toEqual(four);
    expect(on(cleaner.stateMachine.stateMachineArn)).toEqual(four);
    const organizationRunAlarms = Object.values(cleaner.alarms.organizationRun ?? {});
    expect(organizationRunAlarms).toHaveLength(4);
    for (const alarm of organizationRunAlarms) {
      const id = stack.getLogicalId(alarm.node.defaultChild as never);
      expect(resources[id].Properties.AlarmActions).toEqual([stack.resolve(cleaner.alarmTopic.topicArn)]);
    }
  });

  it('lets exactly the member role callers assume the member role, and only of the listed accounts', () => {
    // Prepare
    const callers = cleaner.memberRoleCallers.map((role) => roleRef(stack, role)).sort();

    // Act
    const assume = all.filter((s) => s.actions.includes('sts:AssumeRole'));

    // Assess
    expect([...new Set(assume.map((s) => s.role))].sort()).toEqual(callers);
    expect(callers).toContain(roleRef(stack, functions?.CollectReferences.role));
    expect(callers).toContain(roleRef(stack, cleaner.functions.DeregisterImage.role));
    expect(callers).not.toContain(roleRef(stack, cleaner.approvalPageFunction.role));
    expect(callers).not.toContain(roleRef(stack, functions?.ResolveTargets.role));
    for (const statement of assume) {
      expect(statement.actions).toEqual(['sts:AssumeRole']);
      expect(statement.condition).toBeUndefined();
      expect(statement.resources.sort()).toEqual(
        [HUB, ...MEMBERS].map((account) => `arn:aws:iam::${account}:role/AmiCleanerMemberRole`).sort(),
      );
    }
  });

  it('tells every function acting in targets the hub account and the role name; ResolveTargets the selection', () => {
    // Prepare
    const callers = new Set(cleaner.memberRoleCallers.map((role) => roleRef(stack, role)));
    const lambdas = Object.values(resources).filter(
      (r: Json) => r.Type === 'AWS::Lambda::Function',
    ) as Json[];
    const variablesOf = (fn: { node: { defaultChild?: unknown } }) =>
      resources[stack.getLogicalId(fn.node.defaultChild as never)].Properties.Environment.Variables as Json;

    // Act
    const actors = lambdas.filter((fn) => callers.has(fn.Properties.Role['Fn::GetAtt'][0]));
    const others = lambdas.filter((fn) => !callers.has(fn.Properties.Role['Fn::GetAtt'][0]));
    const resolve = variablesOf(functions?.ResolveTargets as never);

    // Assess
    expect(actors).toHaveLength(callers.size);
    for (const fn of actors) {
      expect(fn.Properties.Environment.Variables.HUB_ACCOUNT_ID).toBe(HUB);
      expect(fn.Properties.Environment.Variables.MEMBER_ROLE_NAME).toBe('AmiCleanerMemberRole');
    }
    for (const fn of others) expect(fn.Properties.Environment?.Variables?.MEMBER_ROLE_NAME).toBeUndefined();
    expect(resolve.HUB_ACCOUNT_ID).toBe(HUB);
    expect(JSON.parse(resolve.TARGETS).accounts).toHaveLength(3);
    expect(JSON.parse(resolve.ORGANIZATION_HISTORY_BUDGET)).toEqual({
      fixed: expect.any(Number),
      perTarget: expect.any(Number),
    });
  });

  it('lists no OU when none is selected', () => {
    expect(all.filter((s) => s.actions.some((a) => a.startsWith('organizations:')))).toEqual([]);
  });
});

describe('the organization run with organizational units', () => {
  const { stack, cleaner, resources } = synth({
    targets: { accounts: [MEMBERS[0] as string], organizationalUnits: [OU, 'r-ab12'], regions: [REGION] },
    memberRoleName: 'CleanerRole',
  });
  const all = statements(resources);

  it('assumes the named role in any account only where the org path passes through a selected OU or root', () => {
    // Act
    const assume = all.filter((s) => s.actions.includes('sts:AssumeRole'));
    const inOus = assume.filter((s) => s.condition !== undefined);

    // Assess
    expect(inOus.length).toBe(cleaner.memberRoleCallers.length);
    for (const statement of inOus) {
      expect(statement.resources).toEqual(['arn:aws:iam::*:role/CleanerRole']);
      expect(statement.condition).toEqual({
        'ForAnyValue:StringLike': { 'aws:ResourceOrgPaths': [`o-*/*/${OU}/*`, 'o-*/r-ab12/*'] },
      });
    }
    const listed = assume.filter((s) => s.condition === undefined);
    for (const statement of listed)
      expect(statement.resources).toEqual([`arn:aws:iam::${MEMBERS[0]}:role/CleanerRole`]);
  });

  it('lets only ResolveTargets list the organization, read-only', () => {
    // Act
    const list = all.filter((s) => s.actions.some((a) => a.startsWith('organizations:')));

    // Assess
    expect(list.map((s) => s.role)).toEqual([
      roleRef(stack, cleaner.organizationFunctions?.ResolveTargets.role),
    ]);
    expect(list[0]?.actions.sort()).toEqual([
      'organizations:ListAccountsForParent',
      'organizations:ListOrganizationalUnitsForParent',
    ]);
  });

  it('finds nothing unacknowledged by cdk-nag', () => {
    // Act
    const found = new AwsSolutionsChecks()
      .validateScope(stack)
      .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));

    // Assess
    expect(found).toEqual([]);
  });
});

describe('a deployment without targets', () => {
  const plain = synth();
  const withTargets = synth(WITH_ACCOUNTS);
  const text = JSON.stringify(plain.template.toJSON());

  it('has no organization run, no member role access and none of its settings', () => {
    expect(plain.cleaner.organizationStateMachine).toBeUndefined();
    expect(plain.cleaner.organizationFunctions).toBeUndefined();
    // sts:AssumeRole stays in the Lambda service trust policies; no permission policy grants it.
    expect(statements(plain.resources).filter((s) => s.actions.includes('sts:AssumeRole'))).toEqual([]);
    for (const absent of ['organizations:', 'HUB_ACCOUNT_ID', 'MEMBER_ROLE_NAME', 'TARGETS']) {
      expect(text, absent).not.toContain(absent);
    }
    plain.template.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
  });

  it('keeps every logical id when targets are added, so turning them on replaces nothing', () => {
    // Act
    const before = Object.keys(plain.resources);
    const after = new Set(Object.keys(withTargets.resources));

    // Assess
    expect(before.filter((id) => !after.has(id))).toEqual([]);
    for (const id of before) expect(withTargets.resources[id].Type, id).toBe(plain.resources[id].Type);
  });

  it('finds nothing unacknowledged by cdk-nag with listed accounts either', () => {
    const found = new AwsSolutionsChecks()
      .validateScope(withTargets.stack)
      .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
    expect(found).toEqual([]);
  });
});

describe('targets props validation at synth', () => {
  it.each([
    [
      'every bad value of the selection at once',
      { targets: { accounts: ['12345', 'x'.repeat(12)], regions: ['mars-1'] } },
      /targets: Invalid targets: Not an AWS account id \(12 digits\): "12345"; Not an AWS account id .*; Not an AWS region code: "mars-1"/,
    ],
    [
      'no account and no OU',
      { targets: { regions: [REGION] } },
      /Select at least one account or organizational unit/,
    ],
    ['no region', { targets: { accounts: [HUB], regions: [] } }, /Select at least one region/],
    [
      "more listed targets than the organization run's state holds",
      {
        targets: {
          accounts: Array.from({ length: 400 }, (_, i) => String(100_000_000_000 + i)),
          regions: [REGION, 'us-east-1'],
        },
      },
      /targets: 800 targets could make the organization run's state \d+ KiB, past Step Functions' 256 KiB/,
    ],
    ['memberRoleName without targets', { memberRoleName: 'X' }, /memberRoleName needs targets/],
    [
      'targetMaxConcurrency without targets',
      { targetMaxConcurrency: 2 },
      /targetMaxConcurrency needs targets/,
    ],
    [
      'a role name IAM refuses',
      { ...WITH_ACCOUNTS, memberRoleName: 'bad/name' },
      /memberRoleName must be an IAM role name/,
    ],
    [
      'a target concurrency above 40',
      { ...WITH_ACCOUNTS, targetMaxConcurrency: 41 },
      /targetMaxConcurrency must be a whole number from 1 to 40, got 41/,
    ],
  ] as const)('rejects %s', (_, props, message) => {
    expect(() => synth(props as Partial<AmiCleanerProps>)).toThrow(message);
  });
});
