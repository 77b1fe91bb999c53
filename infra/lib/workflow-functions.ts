/**
 * One Lambda function per handler in DESIGN.md, each with its own log group, environment and
 * IAM. Access is declared per function below, so a reviewer reads least privilege in one table.
 */
import { type CfnElement, type Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { FunctionFactory } from './function-factory.ts';
import {
  type Access,
  actsInTargets,
  HANDLER_ACCESS,
  ORGANIZATION_ACCESS,
  PLANNING,
  SHORT,
} from './handler-access.ts';
import {
  APPROVAL_PAGE_HANDLER,
  CLOSE_ABANDONED_RUN_HANDLER,
  type HandlerSpec,
  ORGANIZATION_HANDLERS,
  type OrganizationHandlerId,
  START_EXECUTION_HANDLER,
  STATE_MACHINE_HANDLERS,
  type StateMachineHandlerId,
} from './handlers.ts';
import {
  allowCreateImageUsageReport,
  allowDeleteSnapshot,
  allowDeregisterImage,
  allowDescribe,
  allowImageReferenceReads,
  allowLedger,
  allowReadSsmParameters,
  allowTagForRecycleBin,
  allowWorkspace,
} from './iam.ts';
import { HANDLER_LEDGER_METHODS } from './ledger-access.ts';
import { acknowledge, nagName } from './nag.ts';
import { applyOrganizationAccess, type OrganizationFunctionsProps } from './organization-access.ts';

export { type Access, HANDLER_ACCESS, ORGANIZATION_ACCESS } from './handler-access.ts';
export type { OrganizationFunctionsProps } from './organization-access.ts';

/** The approval page renders a plan of up to maxDeletionsPerRun rows. */
export const APPROVAL_PAGE_MEMORY_SIZE = 512;

export interface WorkflowFunctionsProps {
  readonly functionFactory: FunctionFactory;
  readonly ledgerTable: dynamodb.Table;
  readonly workspaceBucket: s3.Bucket;
  readonly approvalTopic: sns.ITopic;
  readonly signingSecret: secretsmanager.ISecret;
  /** Settings every workflow handler may read (names, not secrets). */
  readonly commonEnvironment: Readonly<Record<string, string>>;
  /** Reserved concurrency of the public approval page function. */
  readonly approvalPageConcurrency: number;
  /** Recycle Bin retention is on: the deletion steps may tag for it. */
  readonly recycleBin: boolean;
  /** With `targets`: the organization run's functions, and the member role for every function acting in targets. */
  readonly organization?: OrganizationFunctionsProps;
}

export class WorkflowFunctions extends Construct {
  /** The state machine's handlers, by handler id. */
  readonly byId: Readonly<Record<StateMachineHandlerId, lambda.Function>>;
  /** The organization run's handlers, by handler id; only with `targets`. */
  readonly organizationById?: Readonly<Record<OrganizationHandlerId, lambda.Function>>;
  /** Every function that reads or changes resources in a target (assumes the member role with `targets`). */
  readonly targetActors: readonly lambda.Function[];
  readonly approvalPage: lambda.Function;
  readonly startExecution: lambda.Function;
  /** Target of the execution status change rule: closes runs the state machine could not. */
  readonly closeAbandonedRun: lambda.Function;

  private readonly factory: FunctionFactory;
  private readonly workspaceLogicalId: string;

  constructor(scope: Construct, id: string, props: WorkflowFunctionsProps) {
    super(scope, id);
    this.factory = props.functionFactory;
    this.workspaceLogicalId = logicalId(props.workspaceBucket);

    const targetActors: lambda.Function[] = [];
    const createHandler = (
      spec: HandlerSpec & { id: keyof typeof HANDLER_LEDGER_METHODS },
      access: Access,
    ) => {
      const environment: Record<string, string> = { ...props.commonEnvironment };
      if (access.requestApproval) {
        environment.APPROVAL_TOPIC_ARN = props.approvalTopic.topicArn;
        environment.APPROVAL_SIGNING_SECRET_ARN = props.signingSecret.secretArn;
      }
      if (props.organization && actsInTargets(access))
        Object.assign(environment, props.organization.memberEnvironment);
      if (props.organization && access.organizations)
        Object.assign(environment, props.organization.resolveTargetsEnvironment);
      const fn = this.create(spec, access.timeout, access.memorySize, environment);
      this.applyAccess(fn, access, props);
      allowLedger(props.ledgerTable, fn, HANDLER_LEDGER_METHODS[spec.id]);
      if (actsInTargets(access)) targetActors.push(fn);
      return fn;
    };
    const byId = {} as Record<StateMachineHandlerId, lambda.Function>;
    for (const spec of STATE_MACHINE_HANDLERS) byId[spec.id] = createHandler(spec, HANDLER_ACCESS[spec.id]);
    this.byId = byId;
    if (props.organization) {
      const organizationById = {} as Record<OrganizationHandlerId, lambda.Function>;
      for (const spec of ORGANIZATION_HANDLERS)
        organizationById[spec.id] = createHandler(spec, ORGANIZATION_ACCESS[spec.id]);
      this.organizationById = organizationById;
    }
    this.targetActors = targetActors;

    this.approvalPage = this.create(APPROVAL_PAGE_HANDLER, SHORT, APPROVAL_PAGE_MEMORY_SIZE, {
      ...props.commonEnvironment,
      APPROVAL_SIGNING_SECRET_ARN: props.signingSecret.secretArn,
    });
    allowLedger(props.ledgerTable, this.approvalPage, HANDLER_LEDGER_METHODS.ApprovalPage);
    allowWorkspace(props.workspaceBucket, this.approvalPage, 'read');
    props.signingSecret.grantRead(this.approvalPage);
    // A public URL: a flood of requests can use these, and never the account's whole concurrency.
    (this.approvalPage.node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions =
      props.approvalPageConcurrency;
    this.acknowledgeWorkspaceObjects(this.approvalPage);

    // STATE_MACHINE_ARN and grantStartExecution are added by the construct once the state machine exists.
    this.startExecution = this.create(START_EXECUTION_HANDLER, SHORT, 256, {});

    this.closeAbandonedRun = this.create(CLOSE_ABANDONED_RUN_HANDLER, PLANNING, 512, {
      ...props.commonEnvironment,
    });
    allowLedger(props.ledgerTable, this.closeAbandonedRun, HANDLER_LEDGER_METHODS.CloseAbandonedRun);

    for (const fn of [
      ...Object.values(byId),
      ...Object.values(this.organizationById ?? {}),
      this.approvalPage,
      this.startExecution,
      this.closeAbandonedRun,
    ]) {
      this.acknowledgeCommon(fn);
    }
  }

  private create(
    spec: HandlerSpec,
    timeout: Duration,
    memorySize: number,
    environment: Record<string, string>,
  ): lambda.Function {
    const logGroup = new logs.LogGroup(this, `${spec.id}Logs`, {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    return this.factory.createFunction(this, spec.id, {
      handler: spec,
      environment,
      timeout,
      memorySize,
      logGroup,
    });
  }

  private applyAccess(fn: lambda.Function, access: Access, props: WorkflowFunctionsProps): void {
    const stack = Stack.of(this);
    const [p, r, a] = [stack.partition, stack.region, stack.account].map((value) => nagName(this, value));
    if (access.workspace) {
      allowWorkspace(props.workspaceBucket, fn, access.workspace);
      this.acknowledgeWorkspaceObjects(fn);
    }
    if (access.describe) {
      allowDescribe(fn, { autoScaling: access.describe === 'ec2AndAutoScaling' });
      const ids = ['AwsSolutions-IAM5[Action::ec2:Describe*]', 'AwsSolutions-IAM5[Resource::*]'];
      if (access.describe === 'ec2AndAutoScaling')
        ids.push('AwsSolutions-IAM5[Action::autoscaling:Describe*]');
      acknowledge(
        fn,
        'EC2 and Auto Scaling Describe actions support no resource-level permissions; read-only.',
        ...ids,
      );
    }
    if (access.ssm) {
      allowReadSsmParameters(this, fn);
      acknowledge(
        fn,
        'The SSM paths that mark AMIs in use are settings that each execution may override; read-only.',
        `AwsSolutions-IAM5[Resource::arn:${p}:ssm:${r}:${a}:parameter/*]`,
      );
    }
    if (access.imageReferences) {
      allowImageReferenceReads(this, fn);
      acknowledge(
        fn,
        'Image Builder List actions and ssm:DescribeParameters support no resource-level permissions, and shared container recipes belong to other accounts; read-only.',
        'AwsSolutions-IAM5[Resource::*]',
        `AwsSolutions-IAM5[Resource::arn:${p}:imagebuilder:${r}:*:container-recipe/*]`,
      );
    }
    if (access.usageReports) {
      allowCreateImageUsageReport(this, fn);
      acknowledge(
        fn,
        'Shared candidates are only known at run time; a usage report changes nothing but itself.',
        `AwsSolutions-IAM5[Resource::arn:${p}:ec2:${r}::image/*]`,
        `AwsSolutions-IAM5[Resource::arn:${p}:ec2:${r}:${a}:image-usage-report/*]`,
      );
    }
    if (access.deregister) {
      allowDeregisterImage(this, fn);
      acknowledge(
        fn,
        'Candidate AMIs are only known at run time; scoped to images of this region, and only the approved plan is acted on.',
        `AwsSolutions-IAM5[Resource::arn:${p}:ec2:${r}::image/*]`,
      );
    }
    if (access.deleteSnapshot) {
      allowDeleteSnapshot(this, fn);
      acknowledge(
        fn,
        'Snapshots to delete are only known at run time; scoped to snapshots of this region (snapshot ARNs carry no account).',
        `AwsSolutions-IAM5[Resource::arn:${p}:ec2:${r}::snapshot/*]`,
      );
    }
    if (access.recycleBinTags && props.recycleBin) {
      allowTagForRecycleBin(this, fn, access.recycleBinTags);
      acknowledge(
        fn,
        'Resources to tag are only known at run time; scoped to this region, to the two retention tag keys and to the value the Recycle Bin rules match.',
        ...(access.recycleBinTags === 'imagesAndSnapshots'
          ? [`AwsSolutions-IAM5[Resource::arn:${p}:ec2:${r}::image/*]`]
          : []),
        `AwsSolutions-IAM5[Resource::arn:${p}:ec2:${r}::snapshot/*]`,
      );
    }
    if (access.requestApproval) {
      props.approvalTopic.grantPublish(fn);
      props.signingSecret.grantRead(fn);
    }
    if (props.organization) applyOrganizationAccess(this, fn, access, props.organization);
  }

  private acknowledgeWorkspaceObjects(fn: lambda.Function): void {
    acknowledge(
      fn,
      "Run workspace objects are keyed by run id; access is limited to this bucket's runs/ prefix.",
      `AwsSolutions-IAM5[Resource::<${this.workspaceLogicalId}.Arn>/runs/*]`,
    );
  }

  private acknowledgeCommon(fn: lambda.Function): void {
    acknowledge(
      fn,
      'AWSLambdaBasicExecutionRole only allows writing to CloudWatch Logs.',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    );
    acknowledge(
      fn,
      'X-Ray trace segments cannot be scoped to a resource (added by tracing: Active).',
      'AwsSolutions-IAM5[Resource::*]',
    );
  }
}

/** cdk-nag names a referenced resource in a finding by its logical id, e.g. `<LedgerABC123.Arn>`. */
function logicalId(resource: dynamodb.Table | s3.Bucket): string {
  return Stack.of(resource).getLogicalId(resource.node.defaultChild as CfnElement);
}
