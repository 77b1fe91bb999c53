/**
 * `AmiCleaner`: the approval-gated AMI cleanup workflow. Storage, the approval channel, one
 * Lambda per step, the state machines loaded from `statemachine/` (with `targets`, the
 * organization run too), triggers and alarms. Props are validated at synth (see `lib/props.ts`).
 */
import { Annotations, Names, Stack } from 'aws-cdk-lib';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { APPROVER_ATTRIBUTE } from '../functions/core/approvers.ts';
import { AuditDashboard } from './lib/dashboard.ts';
import { createLedgerTable, createWorkspaceBucket } from './lib/data-layer.ts';
import { definitionHistoryBudget, organizationDefinitionBudget } from './lib/definition.ts';
import { ForwardedAmiEvents } from './lib/forwarded-events.ts';
import { defaultFunctionFactory } from './lib/function-factory.ts';
import type { OrganizationHandlerId, StateMachineHandlerId } from './lib/handlers.ts';
import { acknowledge } from './lib/nag.ts';
import { WorkflowAlarms } from './lib/observability.ts';
import type { ResolvedOrganizationProps } from './lib/organization-props.ts';
import { type AmiCleanerProps, resolveAmiCleanerProps } from './lib/props.ts';
import { RecycleBinRules } from './lib/recycle-bin.ts';
import { createWorkflowStateMachines } from './lib/state-machines.ts';
import { Triggers } from './lib/triggers.ts';
import { type OrganizationFunctionsProps, WorkflowFunctions } from './lib/workflow-functions.ts';

export {
  defaultFunctionFactory,
  type FunctionFactory,
  InlineCodeFunctionFactory,
  NodejsFunctionFactory,
  PrebundledFunctionFactory,
  type PrebundledFunctionFactoryProps,
  type WorkflowFunctionProps,
} from './lib/function-factory.ts';
export type { AmiCleanerProps, PlanSettingsProps, TargetsProps } from './lib/props.ts';
export { DEFAULT_DELETION_MAX_CONCURRENCY, DEFAULT_TARGET_MAX_CONCURRENCY } from './lib/props.ts';

export class AmiCleaner extends Construct {
  /** The audit ledger (RETAIN, PITR). */
  readonly ledgerTable: dynamodb.Table;
  /** Per-run working files under `runs/`, expired after 30 days. */
  readonly workspaceBucket: s3.Bucket;
  /** Approval emails (signed links) are published here. */
  readonly approvalTopic: sns.ITopic;
  /** Every alarm in `alarms` notifies this topic. */
  readonly alarmTopic: sns.ITopic;
  /** HMAC key for approval links. */
  readonly signingSecret: secretsmanager.Secret;
  /** The run: planning, the approval, then one DeleteBatch child per batch of the approved set. */
  readonly stateMachine: sfn.StateMachine;
  /** DeleteBatch: deletes one batch of an approved run's verified set; started by `stateMachine` only. */
  readonly deleteBatchStateMachine: sfn.StateMachine;
  /**
   * With `targets`: the organization run. It starts `stateMachine` once per target and phase
   * (plan, then delete or close), asks for one approval of the whole plan, and is what the
   * schedule and the AMI trigger start.
   */
  readonly organizationStateMachine?: sfn.StateMachine;
  /** With `targets`: the organization run's own functions, by handler id (e.g. `ResolveTargets`). */
  readonly organizationFunctions?: Readonly<Record<OrganizationHandlerId, lambda.Function>>;
  readonly stateMachineLogGroup: logs.LogGroup;
  /** The state machine's Lambda functions, by handler id (e.g. `DeregisterImage`). */
  readonly functions: Readonly<Record<StateMachineHandlerId, lambda.Function>>;
  readonly approvalPageFunction: lambda.Function;
  /** The approval page's public URL; emailed links point here. */
  readonly approvalPageUrl: lambda.FunctionUrl;
  readonly startExecutionFunction: lambda.Function;
  /** Closes runs whose execution failed, timed out or was stopped outside the definition's Catch paths. */
  readonly closeAbandonedRunFunction: lambda.Function;
  /**
   * The roles of the functions that read or change EC2 resources (with `targets`, CollectReferences
   * too): the hub principals a member role (`AmiCleanerMemberRole`, `infra/member-role.ts`) trusts,
   * and, with `targets`, the only ones allowed to assume it. The approval page and the ledger-only
   * functions are not among them.
   */
  readonly memberRoleCallers: readonly iam.IRole[];
  readonly triggers: Triggers;
  /**
   * With `acceptForwardedAmiEvents`: the hub's default event bus admits the targets' forwarded AMI
   * events (see `AmiCleanerAmiEventForwarding`), from the listed accounts and the OUs of `organizationId`.
   */
  readonly forwardedAmiEvents?: ForwardedAmiEvents;
  readonly alarms: WorkflowAlarms;
  /** The Recycle Bin retention rules, when `recycleBin` is set. */
  readonly recycleBinRules?: RecycleBinRules;
  /** Runs, deletions, savings, failures and approval latency over time, with links to the executions. */
  readonly dashboard: AuditDashboard;

  constructor(scope: Construct, id: string, props: AmiCleanerProps) {
    super(scope, id);
    const settings = resolveAmiCleanerProps(props);

    this.ledgerTable = createLedgerTable(this);
    this.workspaceBucket = createWorkspaceBucket(this);

    this.approvalTopic = settings.approvalTopic ?? this.createApprovalTopic();
    if (settings.approvers) {
      // Each approver's subscription accepts only the publish that carries their own link.
      for (const approver of settings.approvers) {
        this.approvalTopic.addSubscription(
          new subscriptions.EmailSubscription(approver, {
            filterPolicy: {
              [APPROVER_ATTRIBUTE]: sns.SubscriptionFilter.stringFilter({ allowlist: [approver] }),
            },
          }),
        );
      }
    } else if (settings.approvalEmail) {
      this.approvalTopic.addSubscription(new subscriptions.EmailSubscription(settings.approvalEmail));
    }

    this.signingSecret = new secretsmanager.Secret(this, 'ApprovalSigningKey', {
      description: 'HMAC-SHA256 key that signs ami-cleaner approval links',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    acknowledge(
      this.signingSecret,
      'Rotating the key would invalidate pending approval links; a link lives at most approvalTimeout (7 days max) and carries no task token.',
      'AwsSolutions-SMG4',
    );

    const approvalTimeoutSeconds = settings.approvalTimeout.toSeconds();
    const organization = settings.organization;
    const fns = new WorkflowFunctions(this, 'Functions', {
      functionFactory: props.functionFactory ?? defaultFunctionFactory(),
      ledgerTable: this.ledgerTable,
      workspaceBucket: this.workspaceBucket,
      approvalTopic: this.approvalTopic,
      signingSecret: this.signingSecret,
      approvalPageConcurrency: settings.approvalPageConcurrency,
      recycleBin: settings.recycleBin !== undefined,
      commonEnvironment: {
        LEDGER_TABLE_NAME: this.ledgerTable.tableName,
        WORKSPACE_BUCKET_NAME: this.workspaceBucket.bucketName,
        DEFAULT_PLAN_SETTINGS: JSON.stringify(settings.planSettings),
        MAX_DELETIONS_PER_RUN: String(settings.maxDeletionsPerRun),
        // AcquireLock checks execution input against the same worst case the props were checked against.
        HISTORY_BUDGET: JSON.stringify(definitionHistoryBudget()),
        LOCK_TTL_SECONDS: String(settings.lockTtl.toSeconds()),
        APPROVAL_TIMEOUT_SECONDS: String(approvalTimeoutSeconds),
        SNAPSHOT_PRICE_PER_GIB_MONTH: String(settings.snapshotPricePerGibMonth),
        // Addresses, not secrets; "none" is the shared link (see getApproversFromEnv).
        APPROVERS: settings.approvers ? JSON.stringify(settings.approvers) : 'none',
        REQUIRED_APPROVALS: String(settings.requiredApprovals),
        ...(settings.recycleBin ? { RECYCLE_BIN_RETENTION: JSON.stringify(settings.recycleBin) } : {}),
      },
      ...(organization ? { organization: this.organizationFunctionsProps(organization) } : {}),
    });
    this.recycleBinRules = settings.recycleBin
      ? new RecycleBinRules(this, 'RecycleBin', settings.recycleBin)
      : undefined;
    this.functions = fns.byId;
    this.approvalPageFunction = fns.approvalPage;
    this.startExecutionFunction = fns.startExecution;
    this.closeAbandonedRunFunction = fns.closeAbandonedRun;
    if (fns.organizationById) this.organizationFunctions = fns.organizationById;
    this.memberRoleCallers = fns.targetActors.map((fn) => {
      if (!fn.role) throw new Error(`AmiCleaner: the ${fn.node.id} function has no role`);
      return fn.role;
    });

    // The link's HMAC signature is the authentication: approvers are people with an email, not IAM principals.
    this.approvalPageUrl = this.approvalPageFunction.addFunctionUrl({
      authType: lambda.FunctionUrlAuthType.NONE,
    });
    this.functions.RequestApproval.addEnvironment('APPROVAL_BASE_URL', this.approvalPageUrl.url);

    this.stateMachineLogGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 200 })}`,
      retention: logs.RetentionDays.ONE_YEAR,
    });
    const machines = createWorkflowStateMachines(this, {
      functions: { ...this.functions, ...this.organizationFunctions },
      numbers: {
        ApprovalTimeoutSeconds: approvalTimeoutSeconds,
        DeletionMaxConcurrency: settings.deletionMaxConcurrency,
        DeleteBatchMaxConcurrency: 1,
        // An execution must never outlive the run lock, or a second run could start beside it.
        // (StateMachineProps.timeout is ignored for string definitions, so it is set in the ASL.)
        ExecutionTimeoutSeconds: settings.lockTtl.toSeconds(),
        // Only the organization definition uses it (no targets: nothing renders it).
        TargetMaxConcurrency: organization?.targetMaxConcurrency ?? 1,
      },
      logGroup: this.stateMachineLogGroup,
      organization: organization !== undefined,
    });
    this.stateMachine = machines.run;
    this.deleteBatchStateMachine = machines.deleteBatch;
    if (machines.organization) this.organizationStateMachine = machines.organization;

    this.grantTaskResponse();
    // With targets, the triggers start the organization run (the target run is its child).
    const started = this.organizationStateMachine ?? this.stateMachine;
    started.grantStartExecution(this.startExecutionFunction);
    this.startExecutionFunction.addEnvironment('STATE_MACHINE_ARN', started.stateMachineArn);
    if (organization)
      this.startExecutionFunction.addEnvironment('TARGETS', JSON.stringify(organization.targets));

    this.triggers = new Triggers(this, 'Triggers', {
      startExecution: this.startExecutionFunction,
      schedule: settings.schedule,
      stateMachines: [
        this.stateMachine,
        ...(this.organizationStateMachine ? [this.organizationStateMachine] : []),
      ],
      closeAbandonedRun: this.closeAbandonedRunFunction,
    });
    if (organization?.acceptForwardedAmiEvents) {
      this.forwardedAmiEvents = new ForwardedAmiEvents(this, 'ForwardedAmiEvents', {
        accounts: organization.targets.accounts,
        organizationalUnits: organization.targets.organizationalUnits,
        ...(organization.organizationId ? { organizationId: organization.organizationId } : {}),
      });
    }
    this.alarmTopic = settings.alarmTopic ?? this.createAlarmTopic(settings.approvalEmail);
    this.alarms = new WorkflowAlarms(this, 'Alarms', {
      stateMachine: this.stateMachine,
      ...(this.organizationStateMachine ? { organizationStateMachine: this.organizationStateMachine } : {}),
      deadLetterQueue: this.triggers.deadLetterQueue,
      alarmTopic: this.alarmTopic,
    });
    this.dashboard = new AuditDashboard(this, 'Audit', {
      stateMachine: this.stateMachine,
      ledgerTable: this.ledgerTable,
      ...(this.organizationStateMachine ? { organizationStateMachine: this.organizationStateMachine } : {}),
    });
    // A run that ends with failed items still succeeds as an execution: this alarm is what tells.
    this.dashboard.itemsFailedAlarm.addAlarmAction(new cloudwatchActions.SnsAction(this.alarmTopic));
  }

  /**
   * CloudWatch alarms cannot publish to a topic encrypted with the AWS managed key (its key policy
   * admits no service principal), which is why alarms do not share the approval topic.
   */
  private createAlarmTopic(approvalEmail: string | undefined): sns.Topic {
    const topic = new sns.Topic(this, 'AlarmTopic', { displayName: 'ami-cleaner alarms', enforceSSL: true });
    acknowledge(
      topic,
      'Alarm notifications carry only alarm names and states, and CloudWatch cannot publish to a topic encrypted with the AWS managed key.',
      'AwsSolutions-SNS2',
    );
    if (approvalEmail) topic.addSubscription(new subscriptions.EmailSubscription(approvalEmail));
    else {
      Annotations.of(this).addWarningV2(
        'ami-cleaner:alarmTopic',
        'The alarms notify no one: pass alarmTopic, or approvalEmail to subscribe it to the alarms',
      );
    }
    return topic;
  }

  private createApprovalTopic(): sns.Topic {
    return new sns.Topic(this, 'ApprovalTopic', {
      displayName: 'ami-cleaner approvals',
      enforceSSL: true,
      // The AWS managed key: only our Lambda publishes (same account), so no key policy to manage.
      masterKey: kms.Alias.fromAliasName(this, 'SnsManagedKey', 'alias/aws/sns'),
    });
  }

  /** What the organization run's functions and every function acting in targets need. */
  private organizationFunctionsProps(organization: ResolvedOrganizationProps): OrganizationFunctionsProps {
    const hubAccountId = Stack.of(this).account;
    return {
      memberRole: {
        roleName: organization.memberRoleName,
        accounts: organization.targets.accounts,
        organizationalUnits: organization.targets.organizationalUnits,
      },
      memberEnvironment: { HUB_ACCOUNT_ID: hubAccountId, MEMBER_ROLE_NAME: organization.memberRoleName },
      resolveTargetsEnvironment: {
        HUB_ACCOUNT_ID: hubAccountId,
        TARGETS: JSON.stringify(organization.targets),
        // ResolveTargets refuses, at run time, more targets (OUs resolved) than the history holds.
        ORGANIZATION_HISTORY_BUDGET: JSON.stringify(organizationDefinitionBudget()),
      },
    };
  }

  /**
   * The approval page resumes executions through `grantTaskResponse` on the state machines that
   * wait for an approval only (the target run; with `targets`, the organization run).
   * The grant goes into a policy outside the page's role construct: the page's function would
   * otherwise depend on a policy naming the state machine, which names RequestApproval, whose
   * environment names the page's URL (a dependency cycle).
   */
  private grantTaskResponse(): void {
    const role = this.approvalPageFunction.role;
    if (!role) throw new Error('AmiCleaner: the approval page function has no role');
    const responder = iam.Role.fromRoleName(this, 'ApprovalPageTaskResponder', role.roleName, {
      mutable: true,
    });
    this.stateMachine.grantTaskResponse(responder);
    this.organizationStateMachine?.grantTaskResponse(responder);
  }
}
