import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { LEDGER_TTL_ATTRIBUTE, ledgerTableDefinition } from '../../functions/adapters/ledger/index.ts';
import { AmiCleaner, type AmiCleanerProps, InlineCodeFunctionFactory } from '../../infra/ami-cleaner.ts';
import { handlersOf, STATE_MACHINE_HANDLERS } from '../../infra/lib/handlers.ts';

// biome-ignore lint/suspicious/noExplicitAny: these tests walk parsed ASL and CloudFormation JSON.
type Json = Record<string, any>;
const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';

function synth(props: Partial<AmiCleanerProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'TestStack', { env: { account: ACCOUNT, region: REGION } });
  const cleaner = new AmiCleaner(stack, 'Cleaner', {
    approvalEmail: 'ops@example.com',
    functionFactory: new InlineCodeFunctionFactory(),
    ...props,
  });
  const template = Template.fromStack(stack);
  return { stack, cleaner, template, resources: template.toJSON().Resources as Json };
}

/** Renders the intrinsic functions the CDK uses in ARNs, so assertions read like real ARNs. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Json;
  if (v['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map(flatten).join(v['Fn::Join'][0]);
  if (v.Ref === 'AWS::Partition') return 'aws';
  if (v.Ref === 'AWS::Region') return REGION;
  if (v.Ref === 'AWS::AccountId') return ACCOUNT;
  if (v.Ref) return `<${v.Ref}>`;
  if (v['Fn::GetAtt']) return `<${v['Fn::GetAtt'].join('.')}>`;
  return JSON.stringify(v);
}

const list = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

interface Statement {
  readonly role: string;
  readonly actions: string[];
  readonly resources: string[];
}

/** Every Allow statement of every IAM policy, with the role it is attached to. */
function statements(resources: Json): Statement[] {
  const out: Statement[] = [];
  for (const resource of Object.values(resources) as Json[]) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    for (const role of resource.Properties.Roles as Json[]) {
      for (const s of resource.Properties.PolicyDocument.Statement as Json[]) {
        out.push({ role: role.Ref, actions: list(s.Action), resources: list(s.Resource).map(flatten) });
      }
    }
  }
  return out;
}

function roleOf(cleaner: AmiCleaner, stack: Stack, fn: 'approvalPage' | 'startExecution' | string): string {
  const f =
    fn === 'approvalPage'
      ? cleaner.approvalPageFunction
      : fn === 'startExecution'
        ? cleaner.startExecutionFunction
        : cleaner.functions[fn as keyof AmiCleaner['functions']];
  return stack.resolve(f.role?.roleName).Ref;
}

describe('IAM', () => {
  const { stack, cleaner, resources } = synth();
  const all = statements(resources);
  const withAction = (action: string) => all.filter((s) => s.actions.includes(action));

  it('lets only the deregister function deregister, and only images of this region', () => {
    // Act
    const grants = withAction('ec2:DeregisterImage');

    // Assess
    expect(grants).toEqual([
      {
        role: roleOf(cleaner, stack, 'DeregisterImage'),
        actions: ['ec2:DeregisterImage'],
        resources: [`arn:aws:ec2:${REGION}::image/*`],
      },
    ]);
  });

  it('lets only the three snapshot functions delete snapshots, and only snapshots of this region', () => {
    // Act
    const grants = withAction('ec2:DeleteSnapshot');

    // Assess
    const roles = ['DeleteImageSnapshots', 'DeleteOrphanSnapshot', 'FinishEarlierRuns'].map((id) =>
      roleOf(cleaner, stack, id),
    );
    expect(grants.map((g) => g.role).sort()).toEqual(roles.sort());
    for (const g of grants) {
      expect(g.actions).toEqual(['ec2:DeleteSnapshot']);
      expect(g.resources).toEqual([`arn:aws:ec2:${REGION}::snapshot/*`]);
    }
  });

  it('lets only Rotate ask for image usage reports, on images and reports of this region and account', () => {
    // Act: sharedAmis 'delete-when-unused' asks AWS who launches a shared candidate.
    const grants = withAction('ec2:CreateImageUsageReport');

    // Assess
    expect(grants).toEqual([
      {
        role: roleOf(cleaner, stack, 'Rotate'),
        actions: ['ec2:CreateImageUsageReport'],
        resources: [
          `arn:aws:ec2:${REGION}::image/*`,
          expect.stringMatching(new RegExp(`^arn:aws:ec2:${REGION}:[^:]+:image-usage-report/\\*$`)),
        ],
      },
    ]);
  });

  it('grants no other EC2 write and no wildcard action beyond read-only Describe', () => {
    // Act
    const writes = all
      .flatMap((s) => s.actions)
      .filter((a) => a.startsWith('ec2:') && !a.startsWith('ec2:Describe'));
    const wildcards = all.flatMap((s) => s.actions).filter((a) => a.includes('*'));

    // Assess
    expect(new Set(writes)).toEqual(
      new Set(['ec2:DeregisterImage', 'ec2:DeleteSnapshot', 'ec2:CreateImageUsageReport']),
    );
    expect(new Set(wildcards)).toEqual(new Set(['ec2:Describe*', 'autoscaling:Describe*']));
  });

  it('allows on resource * only actions that support no resource scoping', () => {
    // Act
    const onStar = new Set(all.filter((s) => s.resources.includes('*')).flatMap((s) => s.actions));

    // Assess
    const unscopable =
      /^(ec2:Describe\*|autoscaling:Describe\*|imagebuilder:List(Image|Container)Recipes|ssm:DescribeParameters|xray:[A-Za-z]+|logs:[A-Za-z]+Deliver(y|ies)|logs:(PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups))$/;
    expect([...onStar].filter((a) => !unscopable.test(a))).toEqual([]);
  });

  it('resumes executions only through grantTaskResponse on this state machine, from the approval page', () => {
    // Prepare
    const stateMachine = `<${stack.resolve(cleaner.stateMachine.stateMachineArn).Ref}>`;

    // Act
    const statesGrants = all.filter((s) => s.actions.some((a) => a.startsWith('states:')));

    // Assess
    expect(statesGrants).toEqual(
      expect.arrayContaining([
        {
          role: roleOf(cleaner, stack, 'approvalPage'),
          actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
          resources: [stateMachine],
        },
        {
          role: roleOf(cleaner, stack, 'startExecution'),
          actions: ['states:StartExecution'],
          resources: [stateMachine],
        },
      ]),
    );
    expect(statesGrants).toHaveLength(4);
  });

  it('lets the run start, follow and stop only its DeleteBatch children (.sync:2)', () => {
    // Prepare
    const stateMachineRole = stack.resolve(cleaner.stateMachine.role.roleName).Ref;
    const child = `<${stack.resolve(cleaner.deleteBatchStateMachine.stateMachineArn).Ref}>`;

    // Act
    const grants = all.filter(
      (s) => s.role === stateMachineRole && s.actions.some((a) => /^(states|events):/.test(a)),
    );

    // Assess
    expect(grants).toEqual(
      expect.arrayContaining([
        { role: stateMachineRole, actions: ['states:StartExecution'], resources: [child] },
        {
          role: stateMachineRole,
          actions: ['states:DescribeExecution', 'states:StopExecution'],
          resources: [expect.stringMatching(/:execution:<CleanerDeleteBatchStateMachine\w+\.Name>:\*$/)],
        },
        {
          role: stateMachineRole,
          actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
          resources: [expect.stringMatching(/:rule\/StepFunctionsGetEventsForStepFunctionsExecutionRule$/)],
        },
      ]),
    );
    expect(grants).toHaveLength(3);
  });

  it.each([
    ['run', 'target', 12],
    ['DeleteBatch child', 'deleteBatch', 5],
  ] as const)(
    'lets the %s state machine invoke exactly the functions its definition uses',
    (_, id, count) => {
      // Prepare
      const machine = id === 'target' ? cleaner.stateMachine : cleaner.deleteBatchStateMachine;
      const role = stack.resolve(machine.role.roleName).Ref;

      // Act
      const invoke = all.filter((s) => s.role === role && s.actions.includes('lambda:InvokeFunction'));

      // Assess
      const expected = handlersOf(id).map((h) =>
        flatten(stack.resolve(cleaner.functions[h.id as keyof AmiCleaner['functions']].functionArn)),
      );
      expect(expected).toHaveLength(count);
      expect(invoke).toHaveLength(1);
      expect(invoke[0]?.resources.sort()).toEqual(expected.sort());
    },
  );

  it('gives the ledger only to the functions that record, and the workspace only under runs/', () => {
    // Act
    const ledgerRoles = new Set(withAction('dynamodb:PutItem').map((s) => s.role));
    const workspace = all.filter((s) => s.actions.some((a) => a.startsWith('s3:')));

    // Assess
    for (const id of ['Inventory', 'MapGroups', 'FilterInUse', 'Rotate']) {
      expect(ledgerRoles.has(roleOf(cleaner, stack, id)), id).toBe(false);
    }
    expect(ledgerRoles.has(roleOf(cleaner, stack, 'startExecution'))).toBe(false);
    for (const s of workspace.filter((w) => !w.actions.includes('s3:ListBucket'))) {
      expect(s.resources).toEqual([expect.stringMatching(/^<CleanerWorkspace\w+\.Arn>\/runs\/\*$/)]);
      expect(s.actions.every((a) => a === 's3:GetObject' || a === 's3:PutObject')).toBe(true);
    }
    expect(workspace.flatMap((s) => s.actions)).not.toContain('s3:DeleteObject');
  });
});

/** The run's definition and its DeleteBatch child's, from a synthesized template. */
function definitions(resources: Json): { run: Json; child: Json } {
  const parsed = Object.values(resources)
    .filter((r: Json) => r.Type === 'AWS::StepFunctions::StateMachine')
    .map((r: Json) => JSON.parse(r.Properties.DefinitionString) as Json);
  const run = parsed.find((d) => d.States.RequestApproval);
  const child = parsed.find((d) => d.States.LoadBatch);
  expect(parsed).toHaveLength(2);
  if (!run || !child) throw new Error('the run or its DeleteBatch child is missing');
  return { run, child };
}

describe('state machine', () => {
  it('puts the approval timeout, the Map concurrency and the lock TTL into the deployed definition', () => {
    // Act
    const { resources } = synth({ approvalTimeout: Duration.hours(2), deletionMaxConcurrency: 8 });

    // Assess
    const { run: definition, child } = definitions(resources as Json);
    expect(definition.States.RequestApproval.TimeoutSeconds).toBe(7200);
    expect(child.States.DeleteImages.MaxConcurrency).toBe(8);
    expect(definition.TimeoutSeconds).toBe(7200 + 3 * 3600);
  });

  it('defaults to a 24 h approval and a concurrency of 5', () => {
    // Act
    const { resources } = synth();

    // Assess
    const { run: definition, child } = definitions(resources as Json);
    expect(definition.States.RequestApproval.TimeoutSeconds).toBe(86_400);
    expect(child.States.DeleteOrphans.MaxConcurrency).toBe(5);
  });

  it('substitutes each function placeholder with that function ARN', () => {
    // Prepare
    const { stack, cleaner, template } = synth();

    // Act
    const substitutionsOf = (id: 'target' | 'deleteBatch') =>
      Object.fromEntries(
        handlersOf(id).map((h) => [
          h.stateMachinePlaceholder,
          stack.resolve(cleaner.functions[h.id as keyof AmiCleaner['functions']].functionArn),
        ]),
      );

    // Assess
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      DefinitionSubstitutions: Match.objectEquals({
        ...substitutionsOf('target'),
        DeleteBatchStateMachineArn: stack.resolve(cleaner.deleteBatchStateMachine.stateMachineArn),
      }),
    });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      DefinitionSubstitutions: Match.objectEquals(substitutionsOf('deleteBatch')),
    });
    expect(STATE_MACHINE_HANDLERS.every((h) => h.usedBy.length > 0)).toBe(true);
  });

  it('logs to a vended log group without execution data (task tokens), and traces', () => {
    // Act
    const { template } = synth();

    // Assess
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
      TracingConfiguration: { Enabled: true },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: Match.stringLikeRegexp('^/aws/vendedlogs/states/'),
    });
  });

  it('alarms on failed, timed-out and aborted executions', () => {
    // Act
    const { template } = synth();

    // Assess
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: metric,
        Dimensions: [{ Name: 'StateMachineArn', Value: Match.anyValue() }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
  });
});

describe('storage', () => {
  it('keeps the ledger: retained, point-in-time recovery, TTL and both indexes', () => {
    // Act
    const { template } = synth();

    // Assess
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          Match.objectLike({
            IndexName: 'by-image',
            KeySchema: [
              { AttributeName: 'imageId', KeyType: 'HASH' },
              { AttributeName: 'recordedAt', KeyType: 'RANGE' },
            ],
          }),
          Match.objectLike({
            IndexName: 'runs-by-start',
            KeySchema: [
              { AttributeName: 'entity', KeyType: 'HASH' },
              { AttributeName: 'startedAt', KeyType: 'RANGE' },
            ],
          }),
        ],
      },
    });
  });

  it('builds the same keys and indexes the ledger adapter (and the local runner) use', () => {
    // Prepare
    const local = ledgerTableDefinition('local');
    const { template } = synth();

    // Act
    const [table] = Object.values(template.findResources('AWS::DynamoDB::Table')) as Json[];

    // Assess
    expect(table?.Properties.KeySchema).toEqual(local.KeySchema);
    const keys = (indexes: Json[] | undefined) =>
      Object.fromEntries((indexes ?? []).map((i) => [i.IndexName, i.KeySchema]));
    expect(keys(table?.Properties.GlobalSecondaryIndexes)).toEqual(
      keys(local.GlobalSecondaryIndexes as Json[]),
    );
    expect(table?.Properties.TimeToLiveSpecification.AttributeName).toBe(LEDGER_TTL_ATTRIBUTE);
  });

  it('keeps the workspace private and expires run files after 30 days', () => {
    // Act
    const { template } = synth();

    // Assess
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: [Match.objectLike({ Prefix: 'runs/', ExpirationInDays: 30, Status: 'Enabled' })],
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    expect(Object.keys(template.findResources('Custom::S3AutoDeleteObjects'))).toEqual([]);
  });
});

describe('approval', () => {
  it('serves the approval page on a public Function URL whose address request-approval gets', () => {
    // Prepare
    const { stack, cleaner, template } = synth();

    // Act
    const requestApproval = stack.resolve(cleaner.functions.RequestApproval.functionArn)['Fn::GetAtt'][0];

    // Assess
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      TargetFunctionArn: stack.resolve(cleaner.approvalPageFunction.functionArn),
    });
    const fn = template.toJSON().Resources[requestApproval] as Json;
    expect(fn.Properties.Environment.Variables.APPROVAL_BASE_URL).toEqual(
      stack.resolve(cleaner.approvalPageUrl.url),
    );
  });

  it('emails the configured address through an SSL-only, encrypted topic', () => {
    // Act
    const { template } = synth({ approvalEmail: 'approvers@example.com' });

    // Assess
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'approvers@example.com',
    });
    const [topic] = Object.values(template.findResources('AWS::SNS::Topic')) as Json[];
    expect(flatten(topic?.Properties.KmsMasterKeyId)).toBe(`arn:aws:kms:${REGION}:${ACCOUNT}:alias/aws/sns`);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('publishes to a given topic instead of creating one', () => {
    // Prepare
    const app = new App({
      context: { 'aws:cdk:bundling-stacks': [] },
      builtinCloudFormationValidation: false,
    });
    const stack = new Stack(app, 'TopicStack');
    const topic = sns.Topic.fromTopicArn(stack, 'Existing', `arn:aws:sns:${REGION}:${ACCOUNT}:approvals`);

    // Act
    new AmiCleaner(stack, 'Cleaner', {
      approvalTopic: topic,
      functionFactory: new InlineCodeFunctionFactory(),
    });

    // Assess
    const template = Template.fromStack(stack);
    // The only topic created is the alarms' own (see test/infra/stack.test.ts).
    expect(Object.values(template.findResources('AWS::SNS::Topic'))).toEqual([
      expect.objectContaining({ Properties: expect.objectContaining({ DisplayName: 'ami-cleaner alarms' }) }),
    ]);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{ Action: 'sns:Publish', Effect: 'Allow', Resource: topic.topicArn }]),
      },
    });
  });
});

describe('triggers', () => {
  it('starts a run on every AMI that becomes available, with retries and a dead-letter queue', () => {
    // Prepare
    const { stack, cleaner, template } = synth();

    // Act
    const rules = template.findResources('AWS::Events::Rule', {
      Properties: { EventPattern: Match.objectLike({ source: ['aws.ec2'] }) },
    });

    // Assess
    const [rule] = Object.values(rules) as Json[];
    expect(rule?.Properties.EventPattern).toEqual({
      source: ['aws.ec2'],
      'detail-type': ['EC2 AMI State Change'],
      detail: { State: ['available'] },
    });
    expect(rule?.Properties.Targets).toEqual([
      expect.objectContaining({
        Arn: stack.resolve(cleaner.startExecutionFunction.functionArn),
        DeadLetterConfig: { Arn: stack.resolve(cleaner.triggers.deadLetterQueue.queueArn) },
        RetryPolicy: expect.objectContaining({ MaximumRetryAttempts: 8 }),
      }),
    ]);
  });

  it('keeps events the start function rejects in the same dead-letter queue', () => {
    // Act
    const { stack, cleaner, template } = synth();

    // Assess
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: stack.resolve(cleaner.startExecutionFunction.functionName),
      MaximumRetryAttempts: 2,
      DestinationConfig: {
        OnFailure: { Destination: stack.resolve(cleaner.triggers.deadLetterQueue.queueArn) },
      },
    });
  });

  it('closes runs whose execution failed, timed out or was stopped, for this state machine only', () => {
    // Act
    const { stack, cleaner, template } = synth();

    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [stack.resolve(cleaner.stateMachine.stateMachineArn)],
          status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
        },
      },
      Targets: [
        Match.objectLike({
          Arn: stack.resolve(cleaner.closeAbandonedRunFunction.functionArn),
          DeadLetterConfig: { Arn: stack.resolve(cleaner.triggers.deadLetterQueue.queueArn) },
        }),
      ],
    });
  });

  it('runs weekly by default, on a custom schedule, or not at all', () => {
    // Act
    const byDefault = synth().template;
    const disabled = synth({ scheduleEnabled: false }).template;

    // Assess
    byDefault.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 6 ? * MON *)',
      Targets: [Match.objectLike({ DeadLetterConfig: Match.anyValue() })],
    });
    expect(
      Object.keys(
        disabled.findResources('AWS::Events::Rule', { Properties: { ScheduleExpression: Match.anyValue() } }),
      ),
    ).toEqual([]);
  });
});

describe('functions', () => {
  it('run on Node.js 24, ARM64, with active tracing and the Powertools service name', () => {
    // Act
    const { template } = synth();

    // Assess
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as Json[];
    // Plus the approval page, the trigger function and the closer of abandoned runs.
    expect(functions).toHaveLength(STATE_MACHINE_HANDLERS.length + 3);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        Environment: { Variables: expect.objectContaining({ POWERTOOLS_SERVICE_NAME: 'ami-cleaner' }) },
      });
    }
  });

  it('passes the validated settings to the handlers as DESIGN.md names them', () => {
    // Prepare
    const { stack, cleaner, template } = synth({
      planSettings: { keepPrevious: 2 },
      maxDeletionsPerRun: 300,
    });

    // Act
    const logicalId = stack.resolve(cleaner.functions.AcquireLock.functionArn)['Fn::GetAtt'][0];
    const env = (template.toJSON().Resources[logicalId] as Json).Properties.Environment.Variables;

    // Assess
    expect(JSON.parse(env.DEFAULT_PLAN_SETTINGS)).toMatchObject({ keepPrevious: 2, mappingKey: 'tags' });
    expect(env).toMatchObject({
      MAX_DELETIONS_PER_RUN: '300',
      LOCK_TTL_SECONDS: String(27 * 3600),
      APPROVAL_TIMEOUT_SECONDS: '86400',
      SNAPSHOT_PRICE_PER_GIB_MONTH: '0.05',
      LEDGER_TABLE_NAME: stack.resolve(cleaner.ledgerTable.tableName),
      WORKSPACE_BUCKET_NAME: stack.resolve(cleaner.workspaceBucket.bucketName),
    });
  });
});

describe('deployability', () => {
  it('has no dependency cycle between resources (CloudFormation would reject it)', () => {
    // Prepare
    const { resources } = synth();
    const edges = new Map<string, Set<string>>();
    for (const [id, resource] of Object.entries(resources as Json)) {
      const deps = new Set<string>(list(resource.DependsOn ?? []));
      JSON.stringify(resource.Properties ?? {}, (key, value) => {
        if (key === 'Ref' && typeof value === 'string') deps.add(value);
        if (key === 'Fn::GetAtt') deps.add(value[0]);
        return value;
      });
      edges.set(id, new Set([...deps].filter((d) => d in resources)));
    }

    // Act
    const state = new Map<string, 'visiting' | 'done'>();
    const cycle: string[] = [];
    const visit = (id: string, path: string[]): boolean => {
      if (state.get(id) === 'done') return false;
      if (state.get(id) === 'visiting') {
        cycle.push(...path.slice(path.indexOf(id)), id);
        return true;
      }
      state.set(id, 'visiting');
      for (const dep of edges.get(id) ?? []) if (visit(dep, [...path, id])) return true;
      state.set(id, 'done');
      return false;
    };
    for (const id of edges.keys()) if (visit(id, [])) break;

    // Assess
    expect(cycle).toEqual([]);
  });
});

describe('props validation at synth', () => {
  it.each<[string, Partial<AmiCleanerProps>, RegExp]>([
    [
      'a negative keepPrevious',
      { planSettings: { keepPrevious: -1 } },
      /planSettings: keepPrevious must be a whole number >= 0/,
    ],
    [
      'an unknown setting',
      { planSettings: { keepLatest: 3 } as never },
      /planSettings: unknown setting "keepLatest"/,
    ],
    [
      'a 10-day approval timeout',
      { approvalTimeout: Duration.days(10) },
      /approvalTimeout must be between 5 minutes and 7 days, got 10 days/,
    ],
    [
      'a 1-minute approval timeout',
      { approvalTimeout: Duration.minutes(1) },
      /approvalTimeout must be between 5 minutes and 7 days/,
    ],
    [
      'maxDeletionsPerRun 0',
      { maxDeletionsPerRun: 0 },
      /maxDeletionsPerRun must be a whole number >= 1, got 0/,
    ],
    [
      'maxDeletionsPerRun 200,000, whose run could pass 25,000 history events or 256 KiB of batches',
      { maxDeletionsPerRun: 200_000 },
      /maxDeletionsPerRun 200000 needs \d+ DeleteBatch children of \d+; the run's execution could take [\d,]+ history events in the worst case \(\d+ \+ \d+ per batch( \+ \d+ per further Rotate pass of \d+)?, from the definitions' Retry MaxAttempts\), each child [\d,]+; Step Functions allows 25,000; at most \d+ fit/,
    ],
    [
      'a concurrency above the inline Map limit',
      { deletionMaxConcurrency: 41 },
      /deletionMaxConcurrency must be a whole number from 1 to 40/,
    ],
    [
      'a lock shorter than the approval wait',
      { lockTtl: Duration.hours(1) },
      /lockTtl must be longer than approvalTimeout/,
    ],
    [
      'a negative snapshot price',
      { snapshotPricePerGibMonth: -1 },
      /snapshotPricePerGibMonth must be a number >= 0/,
    ],
    [
      'no approval email or topic',
      { approvalEmail: undefined },
      /approvalEmail is required unless approvalTopic or approvers is given/,
    ],
    [
      'a malformed email',
      { approvalEmail: 'ops at example' },
      /approvalEmail "ops at example" is not an email address/,
    ],
  ])('rejects %s with a clear message', (_label, props, message) => {
    // Act
    const act = () => synth(props);

    // Assess
    expect(act).toThrow(message);
    expect(act).toThrow(/^AmiCleaner: /);
  });
});
