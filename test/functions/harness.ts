/**
 * Shared setup for the handler tests: the simulated account behind real SDK clients, the real
 * ledger on dynalite, an in-memory workspace, and every handler wired to them as the Lambda
 * entry points wire them to AWS.
 */

import { SimulatedAccount } from '../../cli/simulated-account/account.ts';
import { createAcquireLockHandler } from '../../functions/acquire-lock.ts';
import { type AwsClients, createAwsClients } from '../../functions/adapters/clients.ts';
import { Ledger } from '../../functions/adapters/ledger/index.ts';
import { MemoryWorkspace } from '../../functions/adapters/workspace.ts';
import type { BatchDescriptor, DeletionBatch } from '../../functions/core/deletion-batches.ts';
import { DEFAULT_PLAN_SETTINGS, type PlanSettings } from '../../functions/core/settings.ts';
import type { RunContext } from '../../functions/core/workflow.ts';
import { createDeleteImageSnapshotsHandler } from '../../functions/delete-image-snapshots.ts';
import { createDeleteOrphanSnapshotHandler } from '../../functions/delete-orphan-snapshot.ts';
import { createDeregisterImageHandler } from '../../functions/deregister-image.ts';
import { createFilterInUseHandler } from '../../functions/filter-in-use.ts';
import { createFinalizeHandler } from '../../functions/finalize.ts';
import { createFinishEarlierRunsHandler } from '../../functions/finish-earlier-runs.ts';
import { createInventoryHandler } from '../../functions/inventory.ts';
import { createLoadApprovedHandler, type LoadApprovedEvent } from '../../functions/load-approved.ts';
import { createLoadBatchHandler } from '../../functions/load-batch.ts';
import { createMapGroupsHandler } from '../../functions/map-groups.ts';
import { createRecordFailureHandler } from '../../functions/record-failure.ts';
import { createRecordPlanHandler } from '../../functions/record-plan.ts';
import { createReleaseLockHandler } from '../../functions/release-lock.ts';
import { createRotateHandler, rotateToPlan } from '../../functions/rotate.ts';
import { definitionHistoryBudget } from '../../infra/lib/definition.ts';
import { type LocalDynamo, startDynalite } from '../helpers/dynalite.ts';

export const NOW = new Date('2026-05-01T12:00:00.000Z');
export const REGION = 'eu-west-1';
/** The simulated account's id, the account of `executionEvent`'s ARN. */
export const HUB_ACCOUNT = '123456789012';
/** The lock (and intent partition) of the harness's runs: `lockKeyOf` of a run without a target. */
export const LOCK_KEY = `${HUB_ACCOUNT}-${REGION}`;

export const SETTINGS: PlanSettings = { ...DEFAULT_PLAN_SETTINGS, keepPrevious: 2, checkOrphans: true };

export interface Harness {
  readonly account: SimulatedAccount;
  readonly clients: AwsClients;
  readonly dynamo: LocalDynamo;
  readonly ledger: Ledger;
  readonly workspace: MemoryWorkspace;
  readonly handlers: ReturnType<typeof createHandlers>;
  stop(): Promise<void>;
}

/** `maxAttempts: 1` (default) makes an injected AWS error reach the handler at once. */
export async function startHarness(options: { maxAttempts?: number } = {}): Promise<Harness> {
  const account = new SimulatedAccount({ region: REGION, clock: () => NOW });
  const clients = createAwsClients({
    region: REGION,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
    maxAttempts: options.maxAttempts ?? 1,
  });
  for (const client of Object.values(clients)) account.attach(client);
  const dynamo = await startDynalite();
  const ledger = new Ledger({ doc: dynamo.docClient, tableName: dynamo.tableName, now: () => NOW });
  const workspace = new MemoryWorkspace();
  const handlers = createHandlers({ clients, ledger, workspace });
  return {
    account,
    clients,
    dynamo,
    ledger,
    workspace,
    handlers,
    stop: () => dynamo.stop(),
  };
}

/** LoadApproved's batch descriptors plus what the DeleteBatch children's LoadBatch hands their Maps. */
export interface ApprovedWork extends DeletionBatch {
  readonly batches: readonly BatchDescriptor[];
}

/** LoadApproved, then every batch through the real LoadBatch, as the run and its children would. */
function approvedWork(
  loadApproved: ReturnType<typeof createLoadApprovedHandler>,
  loadBatch: ReturnType<typeof createLoadBatchHandler>,
) {
  return async (event: LoadApprovedEvent): Promise<ApprovedWork> => {
    const { batches } = await loadApproved(event);
    const loaded = [];
    for (const batch of batches)
      loaded.push(await loadBatch({ runId: event.run.runId, planHash: event.planHash, batch }));
    return {
      batches,
      images: loaded.flatMap((b) => b.images),
      orphanSnapshots: loaded.flatMap((b) => b.orphanSnapshots),
    };
  };
}

function createHandlers(deps: { clients: AwsClients; ledger: Ledger; workspace: MemoryWorkspace }) {
  const { clients, ledger, workspace } = deps;
  const now = () => NOW;
  const loadBatch = createLoadBatchHandler({ workspace, region: REGION });
  return {
    acquireLock: createAcquireLockHandler({
      ledger,
      region: REGION,
      defaultSettings: SETTINGS,
      maxDeletionsPerRun: 100,
      lockTtlSeconds: 3600,
      historyBudget: definitionHistoryBudget(),
      now,
    }),
    finishEarlierRuns: createFinishEarlierRunsHandler({ ledger, clients, region: REGION, now }),
    inventory: createInventoryHandler({ clients, workspace, region: REGION, now }),
    mapGroups: createMapGroupsHandler({ workspace }),
    filterInUse: createFilterInUseHandler({ workspace }),
    rotate: createRotateHandler({ clients, region: REGION, workspace }),
    recordPlan: createRecordPlanHandler({ ledger, workspace }),
    loadApproved: approvedWork(
      createLoadApprovedHandler({
        ledger,
        workspace,
        historyBudget: definitionHistoryBudget(),
        clients,
        region: REGION,
        now,
      }),
      loadBatch,
    ),
    loadBatch,
    deregister: createDeregisterImageHandler({ ledger, clients, region: REGION, now }),
    deleteSnapshots: createDeleteImageSnapshotsHandler({ ledger, clients, region: REGION, now }),
    deleteOrphan: createDeleteOrphanSnapshotHandler({ ledger, clients, region: REGION, now }),
    recordFailure: createRecordFailureHandler({ ledger }),
    finalize: createFinalizeHandler({ ledger, pricePerGibMonth: 0.05, now }),
    releaseLock: createReleaseLockHandler({ ledger, region: REGION }),
  };
}

export interface Scenario {
  /** front.prod candidates, oldest first. */
  readonly frontCandidates: readonly string[];
  /** front.prod AMI a stopped instance uses. */
  readonly frontInUse: string;
  /** back.dev's candidate: its only snapshot is also mapped by `backSharing` (kept). */
  readonly backCandidate: string;
  readonly backSharing: string;
  readonly sharedSnapshot: string;
  readonly orphanSnapshot: string;
  readonly untagged: string;
}

/**
 * front.prod: 5 AMIs, one used by a stopped instance; keep 2 → 2 candidates.
 * back.dev: 3 AMIs, keep 2 → 1 candidate whose snapshot the newest back.dev AMI also maps.
 * One untagged AMI (excluded) and one orphan snapshot of a vanished AMI.
 */
export function seedScenario(account: SimulatedAccount): Scenario {
  const front = [1, 2, 3, 4, 5].map(
    (day) =>
      account.addImage({
        name: `front-${day}`,
        creationDate: `2026-01-0${day}T00:00:00.000Z`,
        tags: { environment: 'prod', role: 'front' },
        volumes: [8],
      }).imageId,
  );
  const [f1, f2, f3] = front as [string, string, string];
  account.addInstance({ imageId: f2, state: 'stopped', launchTime: '2026-01-10T00:00:00.000Z' });

  const back1 = account.addImage({
    name: 'back-1',
    creationDate: '2026-02-01T00:00:00.000Z',
    tags: { environment: 'dev', role: 'back' },
    volumes: [20],
  });
  const sharedSnapshot = back1.blockDeviceMappings[0]?.snapshotId as string;
  account.addImage({
    name: 'back-2',
    creationDate: '2026-02-02T00:00:00.000Z',
    tags: { environment: 'dev', role: 'back' },
    volumes: [20],
  });
  const back3 = account.addImage({
    name: 'back-3',
    creationDate: '2026-02-03T00:00:00.000Z',
    tags: { environment: 'dev', role: 'back' },
    volumes: [],
    existingSnapshots: [{ snapshotId: sharedSnapshot }],
  });
  const untagged = account.addImage({ name: 'scratch', creationDate: '2026-01-01T00:00:00.000Z' }).imageId;
  const orphan = account.addSnapshot({
    sizeGiB: 30,
    startTime: '2025-12-01T00:00:00.000Z',
    description:
      'Created by CreateImage(i-0123456789abcdef0) for ami-0dead0000000beef0 from vol-0123456789abcdef0',
  });
  return {
    frontCandidates: [f1, f3],
    frontInUse: f2,
    backCandidate: back1.imageId,
    backSharing: back3.imageId,
    sharedSnapshot,
    orphanSnapshot: orphan.snapshotId,
    untagged,
  };
}

export function executionEvent(input: unknown, name = 'run-1') {
  return {
    input,
    execution: {
      id: `arn:aws:states:${REGION}:123456789012:execution:ami-cleaner:${name}`,
      name,
      startTime: NOW.toISOString(),
    },
  };
}

/** AcquireLock → Inventory → MapGroups → FilterInUse → Rotate → RecordPlan, as the ASL chains them. */
export async function planRun(h: Harness, input: unknown = {}, name = 'run-1') {
  const { run, acquired } = await h.handlers.acquireLock(executionEvent(input, name));
  if (!acquired) throw new Error('lock not acquired');
  const inventory = await h.handlers.inventory({ run });
  const groups = await h.handlers.mapGroups({ run, inventoryKey: inventory.inventoryKey });
  const filtered = await h.handlers.filterInUse({
    run,
    inventoryKey: inventory.inventoryKey,
    groupsKey: groups.groupsKey,
  });
  const rotateEvent = {
    run,
    inventoryKey: inventory.inventoryKey,
    groupsKey: groups.groupsKey,
    filteredKey: filtered.filteredKey,
  };
  const plan = await rotateToPlan(h.handlers.rotate, rotateEvent);
  const recorded = await h.handlers.recordPlan({ run, planKey: plan.planKey, planHash: plan.planHash });
  return { run, inventory, groups, filtered, plan, recorded };
}

/** What RequestApproval and the approval page's POST leave in the ledger, minus the email. */
export async function approve(h: Harness, run: RunContext, planHash: string, planKey: string) {
  const approvalId = `approval-${run.runId}`;
  await h.ledger.putApproval({
    approvalId,
    runId: run.runId,
    planHash,
    planKey,
    taskToken: 'secret-task-token',
    expiresAt: new Date(NOW.getTime() + 3600_000),
  });
  await h.ledger.updateRun(run.runId, { status: 'AWAITING_APPROVAL', approvalId });
  const used = await h.ledger.useApproval(approvalId, { decision: 'APPROVED', approver: 'alice', planHash });
  if (!used.used) throw new Error('approval not used');
  return { decision: 'APPROVED' as const, planHash, approver: 'alice' };
}

/** A run planned, approved and loaded: ready for the deletion Maps. */
export async function approvedRun(h: Harness, input: unknown = {}) {
  const planned = await planRun(h, input);
  const approval = await approve(h, planned.run, planned.plan.planHash, planned.plan.planKey);
  const work = await h.handlers.loadApproved({ run: planned.run, planHash: planned.plan.planHash, approval });
  return { ...planned, approval, work };
}

/**
 * The DeleteImages Map item the ASL builds for an AMI from LoadApproved's result: its verified
 * snapshot ids, none if LoadApproved did not hand the AMI over.
 */
export function imageItem(planHash: string, imageId: string, work?: DeletionBatch, runId = 'run-1') {
  const snapshotIds = work?.images.find((image) => image.imageId === imageId)?.snapshotIds ?? [];
  return { runId, planHash, imageId, snapshotIds: [...snapshotIds] };
}
