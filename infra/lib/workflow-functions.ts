/**
 * One Lambda function per handler in DESIGN.md, each with its own log group, environment and
 * IAM. Access is declared per function below, so a reviewer reads least privilege in one table.
 */
import { type CfnElement, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { FunctionFactory } from './function-factory.ts';
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
import type { MemberRoleScope } from './iam.ts';
import {
  allowAssumeMemberRole,
  allowCreateImageUsageReport,
  allowDeleteSnapshot,
  allowDeregisterImage,
  allowDescribe,
  allowImageReferenceReads,
  allowLedger,
  allowListOrganization,
  allowReadSsmParameters,
  allowTagForRecycleBin,
  allowWorkspace,
} from './iam.ts';
import { HANDLER_LEDGER_METHODS } from './ledger-access.ts';
import { acknowledge, nagName } from './nag.ts';

export interface Access {
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly workspace?: 'read' | 'readWrite';
  readonly describe?: 'ec2' | 'ec2AndAutoScaling';
  readonly ssm?: boolean;
  /** Image Builder recipes and DescribeImageReferences' own reads (see `allowImageReferenceReads`). */
  readonly imageReferences?: boolean;
  /** CreateImageUsageReport (`sharedAmis: delete-when-unused`); the describes come with `describe`. */
  readonly usageReports?: boolean;
  readonly deregister?: boolean;
  readonly deleteSnapshot?: boolean;
  /** With Recycle Bin retention on: what it tags right before deleting (see `allowTagForRecycleBin`). */
  readonly recycleBinTags?: 'imagesAndSnapshots' | 'snapshots';
  readonly requestApproval?: boolean;
  /** Lists the selected OUs' accounts through AWS Organizations (only when OUs are selected). */
  readonly organizations?: boolean;
}

const SHORT = Duration.seconds(30);
// Three re-check reads (every page of launch template versions, DescribeImageReferences) plus the
// delete, under throttling.
const DELETION = Duration.minutes(3);
const PLANNING = Duration.minutes(5);

/** What each state machine handler may touch. Nothing else gets EC2 write access. */
export const HANDLER_ACCESS: Readonly<Record<StateMachineHandlerId, Access>> = {
  // Reads the target run and its lock from the ledger; nothing else.
  ResumeTargetRun: { timeout: SHORT, memorySize: 256 },
  AcquireLock: { timeout: SHORT, memorySize: 256 },
  // Up to 200 earlier AMIs: re-checks and deletes their snapshots at EC2's 5 deletions a second.
  FinishEarlierRuns: {
    timeout: PLANNING,
    memorySize: 256,
    describe: 'ec2',
    deleteSnapshot: true,
    recycleBinTags: 'snapshots',
  },
  // Every page of every source for up to 100,000 AMIs: give it Lambda's full 15 minutes and 1 vCPU.
  Inventory: {
    timeout: Duration.minutes(15),
    memorySize: 1769,
    workspace: 'readWrite',
    describe: 'ec2AndAutoScaling',
    ssm: true,
    imageReferences: true,
  },
  MapGroups: { timeout: PLANNING, memorySize: 1024, workspace: 'readWrite' },
  FilterInUse: { timeout: PLANNING, memorySize: 1024, workspace: 'readWrite' },
  // DescribeImageAttribute (launch permissions) for the would-be candidates only, then
  // DescribeImageReferences for the candidates, up to maxDeletionsPerRun launch-permission reads at
  // the describe bucket's 20/s, and (delete-when-unused) a usage report per shared candidate, waited
  // for up to 3 minutes (`usageReports`: CreateImageUsageReport on images and reports of this
  // region; the describes are in ec2:Describe*).
  Rotate: {
    timeout: Duration.minutes(15),
    memorySize: 1024,
    workspace: 'readWrite',
    describe: 'ec2',
    imageReferences: true,
    usageReports: true,
  },
  RecordPlan: { timeout: Duration.minutes(15), memorySize: 1024, workspace: 'read' },
  RequestApproval: {
    timeout: Duration.minutes(1),
    memorySize: 512,
    workspace: 'read',
    requestApproval: true,
  },
  // Re-reads every reference source at approval time (the plan may be a day old by then).
  LoadApproved: {
    // The same reference reads as Inventory (every page of every source), minus the AMIs.
    timeout: Duration.minutes(15),
    memorySize: 1024,
    // Reads the plan's items, writes the verified deletion set's batches.
    workspace: 'readWrite',
    describe: 'ec2AndAutoScaling',
    ssm: true,
    imageReferences: true,
  },
  // Reads one batch of the verified deletion set and checks its hash; no AWS call besides S3.
  LoadBatch: { timeout: SHORT, memorySize: 256, workspace: 'read' },
  // Re-checks instances and launch templates, and asks DescribeImageReferences (which reads SSM
  // parameters and Image Builder recipes on its behalf), right before deregistering.
  DeregisterImage: {
    timeout: DELETION,
    memorySize: 256,
    describe: 'ec2AndAutoScaling',
    imageReferences: true,
    deregister: true,
    // One CreateTags per AMI, covering the AMI and its snapshots.
    recycleBinTags: 'imagesAndSnapshots',
  },
  DeleteImageSnapshots: {
    timeout: DELETION,
    memorySize: 256,
    describe: 'ec2',
    deleteSnapshot: true,
  },
  DeleteOrphanSnapshot: {
    timeout: DELETION,
    memorySize: 256,
    describe: 'ec2',
    deleteSnapshot: true,
    recycleBinTags: 'snapshots',
  },
  RecordFailure: { timeout: SHORT, memorySize: 256 },
  Finalize: { timeout: PLANNING, memorySize: 512, workspace: 'read' },
  ReleaseLock: { timeout: SHORT, memorySize: 256 },
};

/** The organization run's own functions (only with `targets`). */
export const ORGANIZATION_ACCESS: Readonly<Record<OrganizationHandlerId, Access>> = {
  // Up to 100 OUs, 5 levels deep, 20 a page at Organizations' few requests a second.
  ResolveTargets: { timeout: PLANNING, memorySize: 256, organizations: true },
  // The same reads as Inventory, minus the AMIs and snapshots, in one target account.
  CollectReferences: {
    timeout: Duration.minutes(15),
    memorySize: 1769,
    workspace: 'readWrite',
    describe: 'ec2AndAutoScaling',
    ssm: true,
    imageReferences: true,
  },
  // Reads every target run's plan, writes the organization run's one plan.
  CombinePlans: { timeout: PLANNING, memorySize: 1024, workspace: 'readWrite' },
  FinalizeOrganizationRun: { timeout: PLANNING, memorySize: 512 },
};

/**
 * Functions that read or change EC2, Auto Scaling or SSM resources act in other accounts through
 * the member role: its trust lists exactly their roles (`AmiCleaner.memberRoleCallers`).
 */
export function actsInTargets(access: Access): boolean {
  return access.describe !== undefined;
}

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

export interface OrganizationFunctionsProps {
  /** Which member roles may be assumed. */
  readonly memberRole: MemberRoleScope;
  /** Added to every function that acts in targets (`HUB_ACCOUNT_ID`, `MEMBER_ROLE_NAME`). */
  readonly memberEnvironment: Readonly<Record<string, string>>;
  /** ResolveTargets only (`TARGETS`, the organization run's history budget). */
  readonly resolveTargetsEnvironment: Readonly<Record<string, string>>;
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
    if (props.organization) this.applyOrganizationAccess(fn, access, props.organization);
  }

  private applyOrganizationAccess(
    fn: lambda.Function,
    access: Access,
    organization: OrganizationFunctionsProps,
  ): void {
    const { memberRole } = organization;
    if (actsInTargets(access)) {
      allowAssumeMemberRole(this, fn, memberRole);
      if (memberRole.organizationalUnits.length > 0) {
        acknowledge(
          fn,
          "The accounts of the selected OUs are only known at run time: the member role's name in any account, only where aws:ResourceOrgPaths passes through a selected OU or root.",
          `AwsSolutions-IAM5[Resource::arn:${nagName(this, Stack.of(this).partition)}:iam::*:role/${memberRole.roleName}]`,
        );
      }
    }
    if (access.organizations && memberRole.organizationalUnits.length > 0) {
      allowListOrganization(fn);
      acknowledge(
        fn,
        'Organizations list actions are scoped by OU ARNs that carry the organization id, unknown to the deployment; read-only, and answered only to the management account or a delegated administrator.',
        'AwsSolutions-IAM5[Resource::*]',
      );
    }
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
