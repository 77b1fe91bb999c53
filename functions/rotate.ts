/**
 * Rotate: keeps the newest AMIs of each group (and the young, opted-out, protected and shared
 * ones), adds the orphan sweep, and writes the plan with its hash to the workspace.
 *
 * The plan is computed as of the inventory's `readAt`, not the wall clock, so a retried Rotate
 * builds the identical plan (and plan hash) from the same inventory.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ImageUsageOptions } from './adapters/image-usage-report.ts';
import { rotateWithAwsChecks } from './adapters/reference-checks.ts';
import { type RunWorkspace, runKey } from './adapters/workspace.ts';
import { lazyHandler, targetClientsFromEnv, workspaceFromEnv } from './commons/deps.ts';
import { classifyFailures, InvalidEventError } from './commons/errors.ts';
import { requireRecord, requireRun, requireString } from './commons/events.ts';
import { createLogger, type HandlerLogger, silentLogger } from './commons/logger.ts';
import { type TargetClientsDeps, targetClients } from './commons/target-clients.ts';
import type { Inventory } from './core/model.ts';
import { assemblePlan, type FilteredGroups, orphanStep } from './core/plan.ts';
import type { RunContext } from './core/workflow.ts';

export interface RotateEvent {
  readonly run: RunContext;
  readonly inventoryKey: string;
  readonly groupsKey: string;
  readonly filteredKey: string;
}

export interface RotateResult {
  readonly planKey: string;
  readonly planHash: string;
  /**
   * Candidate AMIs: at most maxDeletionsPerRun (only that many are checked for sharing; further
   * would-be candidates are kept MAX_DELETIONS_PER_RUN). RecordPlan applies the cap to AMIs and
   * orphan snapshots together.
   */
  readonly candidates: number;
  readonly orphanSnapshots: number;
  readonly kept: number;
}

/**
 * `clients`: DescribeImageAttribute (launch permissions of would-be candidates),
 * DescribeImageReferences; in the run's target (commons/target-clients.ts).
 */
export interface RotateDeps extends TargetClientsDeps<{ readonly ec2: EC2Client }> {
  readonly workspace: RunWorkspace;
  /** `sharedAmis: delete-when-unused`: the usage reports' bounded wait and clock. Default: real time. */
  readonly usageReports?: Omit<ImageUsageOptions, 'runId'>;
  readonly logger?: HandlerLogger;
}

export function createRotateHandler(deps: RotateDeps): (event: RotateEvent) => Promise<RotateResult> {
  const logger = deps.logger ?? silentLogger;
  return classifyFailures('Rotate', async (event) => {
    const record = requireRecord(event, 'event');
    const run = requireRun(record.run);
    requireString(record, 'groupsKey');
    const [inventory, filtered] = await Promise.all([
      deps.workspace.getJson<Inventory>(requireString(record, 'inventoryKey')),
      deps.workspace.getJson<FilteredGroups>(requireString(record, 'filteredKey')),
    ]);
    const { settings } = run;
    const now = inventory.readAt;
    // One DescribeImageAttribute per AMI, so only would-be candidates are looked up, and no more
    // than this run may delete (oldest first); the others are kept MAX_DELETIONS_PER_RUN. Then
    // DescribeImageReferences for the final candidates: those AWS reports in use are kept too.
    const limit = run.maxDeletionsPerRun;
    const usage = { ...deps.usageReports, runId: run.runId };
    const place = await targetClients(deps, run);
    if (inventory.region !== place.region)
      throw new InvalidEventError(
        `the inventory is of ${inventory.region}, not of the run's ${place.target.key}`,
      );
    const groups = await rotateWithAwsChecks(place.clients.ec2, { filtered, settings, now, limit, usage });
    const orphanSnapshots = orphanStep({
      inventory,
      settings,
      ...(run.triggerImageId === undefined ? {} : { triggerImageId: run.triggerImageId }),
    });
    const plan = assemblePlan({
      region: place.region,
      accountId: place.accountId,
      now,
      groups,
      orphanSnapshots,
      images: inventory.images,
      maxDeletionsPerRun: limit,
    });
    const planKey = runKey(run.runId, 'plan');
    await deps.workspace.putJson(planKey, plan);
    const result: RotateResult = {
      planKey,
      planHash: plan.planHash,
      candidates: plan.totals.candidates,
      orphanSnapshots: plan.totals.orphanSnapshots,
      kept: plan.totals.kept,
    };
    logger.info('plan built', { runId: run.runId, ...result });
    return result;
  });
}

export const handler = lazyHandler(() =>
  createRotateHandler({
    ...targetClientsFromEnv(),
    workspace: workspaceFromEnv(),
    logger: createLogger('rotate'),
  }),
);
