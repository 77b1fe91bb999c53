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
import type { Ledger } from '../../functions/adapters/ledger/index.ts';
import { MemoryWorkspace, type RunWorkspace } from '../../functions/adapters/workspace.ts';
import { createApprovalPageHandler } from '../../functions/approval-page.ts';
import { createCloseAbandonedRunHandler } from '../../functions/close-abandoned-run.ts';
import type { RecycleBinRetention } from '../../functions/core/recycle-bin.ts';
import type { PlanSettings } from '../../functions/core/settings.ts';
import { DEFAULT_SNAPSHOT_PRICE_PER_GIB_MONTH } from '../../functions/core/summary.ts';
import { createDeleteImageSnapshotsHandler } from '../../functions/delete-image-snapshots.ts';
import { createDeleteOrphanSnapshotHandler } from '../../functions/delete-orphan-snapshot.ts';
import { createDeregisterImageHandler } from '../../functions/deregister-image.ts';
import { createFilterInUseHandler } from '../../functions/filter-in-use.ts';
import { createFinalizeHandler } from '../../functions/finalize.ts';
import { createFinishEarlierRunsHandler } from '../../functions/finish-earlier-runs.ts';
import { createInventoryHandler } from '../../functions/inventory.ts';
import { createLoadApprovedHandler } from '../../functions/load-approved.ts';
import { createLoadBatchHandler } from '../../functions/load-batch.ts';
import { createMapGroupsHandler } from '../../functions/map-groups.ts';
import { createRecordFailureHandler } from '../../functions/record-failure.ts';
import { createRecordPlanHandler } from '../../functions/record-plan.ts';
import { createReleaseLockHandler } from '../../functions/release-lock.ts';
import { createRequestApprovalHandler } from '../../functions/request-approval.ts';
import { createResumeTargetRunHandler } from '../../functions/resume-target-run.ts';
import { createRotateHandler } from '../../functions/rotate.ts';
import { definitionHistoryBudget } from '../../infra/lib/definition.ts';
import type { StateMachineHandlerId } from '../../infra/lib/handlers.ts';
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
  /** Recycle Bin retention on (`--recycle-bin-days`): the deletion steps tag before deleting. */
  readonly recycleBin?: RecycleBinRetention;
}

/** Lambda handlers by the construct's handler id, as the state machine invokes them. */
export type StepHandlers = Readonly<Record<StateMachineHandlerId, (event: never) => Promise<unknown>>>;

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
  const retention = options.recycleBin ? { recycleBin: options.recycleBin } : {};
  const workspace = options.workspace ?? new MemoryWorkspace();
  const handlers = {
    // Wiring stub (orgwire) until the lead's handler lands: phases delete/close only.
    ResumeTargetRun: createResumeTargetRunHandler({ ledger }),
    AcquireLock: createAcquireLockHandler({
      ledger,
      region,
      defaultSettings: options.defaultSettings,
      maxDeletionsPerRun: options.maxDeletionsPerRun ?? 500,
      lockTtlSeconds: options.approvalTimeoutSeconds + 3 * 3600,
      historyBudget: definitionHistoryBudget(),
      now,
    }),
    FinishEarlierRuns: createFinishEarlierRunsHandler({ ledger, clients, region, now, ...retention }),
    Inventory: createInventoryHandler({ clients, workspace, region, now }),
    MapGroups: createMapGroupsHandler({ workspace }),
    FilterInUse: createFilterInUseHandler({ workspace }),
    Rotate: createRotateHandler({ clients, workspace }),
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
      clients,
      region,
      now,
    }),
    LoadBatch: createLoadBatchHandler({ workspace, region }),
    DeregisterImage: createDeregisterImageHandler({ ledger, clients, region, now, ...retention }),
    DeleteImageSnapshots: createDeleteImageSnapshotsHandler({ ledger, clients, region, now }),
    DeleteOrphanSnapshot: createDeleteOrphanSnapshotHandler({ ledger, clients, region, now, ...retention }),
    RecordFailure: createRecordFailureHandler({ ledger }),
    Finalize: createFinalizeHandler({
      ledger,
      pricePerGibMonth: DEFAULT_SNAPSHOT_PRICE_PER_GIB_MONTH,
      now,
      ...retention,
    }),
    ReleaseLock: createReleaseLockHandler({ ledger, region }),
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
  };
}
