/**
 * Everything the workflow's handlers need, wired for one machine: the account (simulated, or the
 * real one the SDK configuration names), a ledger (dynalite, or a DynamoDB table), an in-memory
 * run workspace, and a "control plane" for what a laptop has no AWS for: Step Functions task
 * tokens, the approval email (SNS) and the link-signing secret. The control plane is a simulated
 * account too, so the real handlers call the real SDK clients unchanged.
 */
import { randomBytes } from 'node:crypto';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { createAcquireLockHandler } from '../../functions/acquire-lock.ts';
import { signingKeysFromSecret } from '../../functions/adapters/approval-link.ts';
import type { AwsClients } from '../../functions/adapters/clients.ts';
import type { ImageUsageOptions } from '../../functions/adapters/image-usage-report.ts';
import type { Ledger } from '../../functions/adapters/ledger/index.ts';
import { MemoryWorkspace, type RunWorkspace } from '../../functions/adapters/workspace.ts';
import { createApprovalPageHandler } from '../../functions/approval-page.ts';
import { createCloseAbandonedRunHandler } from '../../functions/close-abandoned-run.ts';
import { createCollectReferencesHandler } from '../../functions/collect-references.ts';
import { createCombinePlansHandler } from '../../functions/combine-plans.ts';
import type { MemberClientsFor, TargetClientsDeps } from '../../functions/commons/target-clients.ts';
import { organizationHistoryBudget } from '../../functions/core/organization-run.ts';
import type { RecycleBinRetention } from '../../functions/core/recycle-bin.ts';
import type { PlanSettings } from '../../functions/core/settings.ts';
import { DEFAULT_SNAPSHOT_PRICE_PER_GIB_MONTH } from '../../functions/core/summary.ts';
import type { Target, ValidTargetSelection } from '../../functions/core/target.ts';
import { createDeleteImageSnapshotsHandler } from '../../functions/delete-image-snapshots.ts';
import { createDeleteOrphanSnapshotHandler } from '../../functions/delete-orphan-snapshot.ts';
import { createDeregisterImageHandler } from '../../functions/deregister-image.ts';
import { createFilterInUseHandler } from '../../functions/filter-in-use.ts';
import { createFinalizeHandler } from '../../functions/finalize.ts';
import { createFinalizeOrganizationRunHandler } from '../../functions/finalize-organization-run.ts';
import { createFinishEarlierRunsHandler } from '../../functions/finish-earlier-runs.ts';
import { createInventoryHandler } from '../../functions/inventory.ts';
import { createLoadApprovedHandler } from '../../functions/load-approved.ts';
import { createLoadBatchHandler } from '../../functions/load-batch.ts';
import { createMapGroupsHandler } from '../../functions/map-groups.ts';
import { createRecordFailureHandler } from '../../functions/record-failure.ts';
import { createRecordPlanHandler } from '../../functions/record-plan.ts';
import { createReleaseLockHandler } from '../../functions/release-lock.ts';
import { createRequestApprovalHandler } from '../../functions/request-approval.ts';
import { createResolveTargetsHandler } from '../../functions/resolve-targets.ts';
import { createResumeTargetRunHandler } from '../../functions/resume-target-run.ts';
import { createRotateHandler } from '../../functions/rotate.ts';
import {
  definitionHistoryBudget,
  loadDefinitionTemplate,
  ORGANIZATION_DEFINITION_PATH,
} from '../../infra/lib/definition.ts';
import type { OrganizationHandlerId, StateMachineHandlerId } from '../../infra/lib/handlers.ts';
import { SimulatedAccount } from '../simulated-account/account.ts';

const SIGNING_SECRET_ID = 'ami-cleaner/approval-signing-key';
const TOPIC_ARN_SUFFIX = 'ami-cleaner-approvals';

export interface LocalStackOptions {
  readonly clients: AwsClients;
  readonly region: string;
  readonly ledger: Ledger;
  /** Reused as the control plane when the account itself is simulated. */
  readonly simulated?: SimulatedAccount;
  readonly defaultSettings: PlanSettings;
  readonly maxDeletionsPerRun?: number;
  readonly approvalTimeoutSeconds: number;
  /** Where the approval page is served; the emailed link points here. */
  readonly approvalBaseUrl: string;
  readonly now?: () => Date;
  /** Named approvers (personal links) and the quorum, as the construct's props. Default: one shared link. */
  readonly approvers?: readonly string[];
  readonly requiredApprovals?: number;
  /** Default: a fresh in-memory workspace (tests may pass an S3 one on the simulated account). */
  readonly workspace?: RunWorkspace;
  /** Rotate's describe calls per pass (default `ROTATE_PASS_CALLS`); lower it to run the pass loop on a small account. */
  readonly rotateCallsPerPass?: number;
  /** Recycle Bin retention on (`--recycle-bin-days`): the deletion steps tag before deleting. */
  readonly recycleBin?: RecycleBinRetention;
  /**
   * Organization runs: the hub's account (a run's target equal to it and `region` uses
   * `clients`), and clients acting in any other target through the member role (e.g.
   * `memberClients` with the simulated organization's `plugin()` for STS). Without it a run with
   * another target fails closed (TargetConfigurationError) before any call.
   */
  readonly hubAccountId?: string;
  readonly memberClientsFor?: MemberClientsFor;
  /** Rotate's wait for image usage reports (tests shorten it; default: the production wait). */
  readonly usageReports?: Omit<ImageUsageOptions, 'runId'>;
  /** Targets (`--accounts`, `--ou`, `--regions`): the organization workflow runs, one target run each. */
  readonly organization?: LocalOrganization;
}

/** What an organization run needs on this machine: the selection and how to act in a target. */
export interface LocalOrganization {
  readonly selection: ValidTargetSelection;
  /** Accounts × regions, OUs resolved through AWS Organizations. */
  readonly resolve: (selection: ValidTargetSelection) => Promise<Target[]>;
  /** The account the hub runs as (the caller's, or the simulated management account). */
  readonly hubAccountId: string;
  /** Clients acting in another target through the member role. */
  readonly memberClientsFor: MemberClientsFor;
  readonly roleName?: string;
}

/** Lambda handlers by the construct's handler id, as the state machine invokes them. */
export type StepHandlers = Readonly<
  Record<StateMachineHandlerId, (event: never) => Promise<unknown>> &
    Partial<Record<OrganizationHandlerId, (event: never) => Promise<unknown>>>
>;

export interface LocalStack {
  readonly handlers: StepHandlers;
  readonly approvalPage: ReturnType<typeof createApprovalPageHandler>;
  /** What the execution status change rule invokes when an execution fails, times out or is stopped. */
  readonly closeAbandonedRun: ReturnType<typeof createCloseAbandonedRunHandler>;
  readonly control: SimulatedAccount;
  readonly ledger: Ledger;
  readonly workspace: RunWorkspace;
  readonly region: string;
  readonly approvalTimeoutSeconds: number;
  /** As given in the options: the local executions' ARNs name it (cli/local-runner/run-workflow.ts). */
  readonly hubAccountId?: string;
  /** Set: runs execute the organization workflow, one target run per account and region. */
  readonly organization?: LocalOrganization;
}

export function createLocalStack(options: LocalStackOptions): LocalStack {
  const now = options.now ?? (() => new Date());
  const control = options.simulated ?? new SimulatedAccount({ region: options.region });
  // A fresh key per process: links from an earlier run cannot be replayed against this one.
  control.putSecret(SIGNING_SECRET_ID, randomBytes(32).toString('base64url'));
  const local = {
    region: control.region,
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
  };
  const sfn = control.attach(new SFNClient(local));
  const sns = control.attach(new SNSClient(local));
  const secrets = control.attach(new SecretsManagerClient(local));
  const signingKeys = signingKeysFromSecret(secrets, SIGNING_SECRET_ID);
  const signingKey = signingKeys.current;
  const topicArn = `arn:aws:sns:${control.region}:${control.accountId}:${TOPIC_ARN_SUFFIX}`;

  const { ledger, clients, region } = options;
  // Every handler that acts in a run's account gets the same way to reach it.
  // An organization brings its own: the hub's account and its way into the member accounts.
  const hubAccountId = options.organization?.hubAccountId ?? options.hubAccountId;
  const memberClientsFor = options.organization?.memberClientsFor ?? options.memberClientsFor;
  const reach: TargetClientsDeps = {
    clients,
    region,
    ...(hubAccountId === undefined ? {} : { hubAccountId }),
    ...(memberClientsFor === undefined ? {} : { memberClientsFor }),
  };
  const retention = options.recycleBin ? { recycleBin: options.recycleBin } : {};
  const workspace = options.workspace ?? new MemoryWorkspace();
  const handlers = {
    AcquireLock: createAcquireLockHandler({
      ledger,
      region,
      defaultSettings: options.defaultSettings,
      maxDeletionsPerRun: options.maxDeletionsPerRun ?? 500,
      lockTtlSeconds: options.approvalTimeoutSeconds + 3 * 3600,
      historyBudget: definitionHistoryBudget(),
      now,
    }),
    FinishEarlierRuns: createFinishEarlierRunsHandler({ ledger, ...reach, now, ...retention }),
    Inventory: createInventoryHandler({ ...reach, workspace, now }),
    MapGroups: createMapGroupsHandler({ workspace }),
    FilterInUse: createFilterInUseHandler({ workspace }),
    Rotate: createRotateHandler({
      ...reach,
      workspace,
      ...(options.rotateCallsPerPass === undefined ? {} : { callsPerPass: options.rotateCallsPerPass }),
      ...(options.usageReports === undefined ? {} : { usageReports: options.usageReports }),
    }),
    RecordPlan: createRecordPlanHandler({ ledger, workspace }),
    RequestApproval: createRequestApprovalHandler({
      ledger,
      workspace,
      sns,
      topicArn,
      baseUrl: options.approvalBaseUrl,
      signingKey,
      timeoutSeconds: options.approvalTimeoutSeconds,
      ...(options.approvers
        ? { approvers: options.approvers, requiredApprovals: options.requiredApprovals ?? 1 }
        : {}),
      now,
    }),
    LoadApproved: createLoadApprovedHandler({
      ledger,
      workspace,
      historyBudget: definitionHistoryBudget(),
      ...reach,
      now,
    }),
    LoadBatch: createLoadBatchHandler({ workspace, region }),
    DeregisterImage: createDeregisterImageHandler({ ledger, ...reach, workspace, now, ...retention }),
    DeleteImageSnapshots: createDeleteImageSnapshotsHandler({ ledger, ...reach, now }),
    DeleteOrphanSnapshot: createDeleteOrphanSnapshotHandler({ ledger, ...reach, now, ...retention }),
    RecordFailure: createRecordFailureHandler({ ledger }),
    Finalize: createFinalizeHandler({
      ledger,
      pricePerGibMonth: DEFAULT_SNAPSHOT_PRICE_PER_GIB_MONTH,
      now,
      ...retention,
    }),
    ReleaseLock: createReleaseLockHandler({ ledger, region }),
    ResumeTargetRun: createResumeTargetRunHandler({ ledger, now }),
    ...(options.organization
      ? organizationHandlers(options.organization, { ledger, workspace, reach, now, options })
      : {}),
  } as StepHandlers;
  const approvalPage = createApprovalPageHandler({
    ledger,
    workspace,
    sfn,
    signingKey,
    previousSigningKey: signingKeys.previous,
    now,
    region,
    pricePerGibMonth: DEFAULT_SNAPSHOT_PRICE_PER_GIB_MONTH,
    ...retention,
  });
  const closeAbandonedRun = createCloseAbandonedRunHandler({
    ledger,
    region,
    pricePerGibMonth: DEFAULT_SNAPSHOT_PRICE_PER_GIB_MONTH,
    now,
  });
  return {
    handlers,
    approvalPage,
    closeAbandonedRun,
    control,
    ledger,
    workspace,
    region,
    approvalTimeoutSeconds: options.approvalTimeoutSeconds,
    ...(hubAccountId === undefined ? {} : { hubAccountId }),
    ...(options.organization ? { organization: options.organization } : {}),
  };
}

/** The organization workflow's own handlers (RequestApproval is shared with the target workflow). */
function organizationHandlers(
  organization: LocalOrganization,
  context: {
    ledger: Ledger;
    workspace: RunWorkspace;
    reach: TargetClientsDeps;
    now: () => Date;
    options: LocalStackOptions;
  },
) {
  const { ledger, workspace, reach, now, options } = context;
  return {
    ResolveTargets: createResolveTargetsHandler({
      ledger,
      workspace,
      selection: organization.selection,
      resolve: organization.resolve,
      defaultSettings: options.defaultSettings,
      maxDeletionsPerRun: options.maxDeletionsPerRun ?? 500,
      historyBudget: definitionHistoryBudget(),
      organizationBudget: organizationHistoryBudget(
        JSON.parse(loadDefinitionTemplate(ORGANIZATION_DEFINITION_PATH)),
      ),
    }),
    CollectReferences: createCollectReferencesHandler({
      ...reach,
      hubAccountId: organization.hubAccountId,
      workspace,
      now,
    }),
    CombinePlans: createCombinePlansHandler({ ledger, workspace, now }),
    FinalizeOrganizationRun: createFinalizeOrganizationRunHandler({
      ledger,
      pricePerGibMonth: DEFAULT_SNAPSHOT_PRICE_PER_GIB_MONTH,
      now,
    }),
  };
}
