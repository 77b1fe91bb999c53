/**
 * Rotate: keeps the newest AMIs of each group (and the young, opted-out, protected and shared
 * ones), adds the orphan sweep, and writes the plan with its hash to the workspace.
 *
 * The plan is computed as of the inventory's `readAt`, not the wall clock, so a retried Rotate
 * builds the identical plan (and plan hash) from the same inventory.
 *
 * In passes (core/rotate-passes.ts): each invocation makes at most `ROTATE_PASS_CALLS` describe
 * calls; until every read is done it stores its progress in the workspace and answers
 * `{ done: false, nextPass }`, and the state machine calls it again (RotateNextPass) with `pass`.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ImageUsageOptions } from './adapters/image-usage-report.ts';
import { rotatePass } from './adapters/reference-checks.ts';
import { type RunWorkspace, runKey } from './adapters/workspace.ts';
import { lazyHandler, targetClientsFromEnv, workspaceFromEnv } from './commons/deps.ts';
import { classifyFailures, InvalidEventError } from './commons/errors.ts';
import { requireRecord, requireRun, requireString } from './commons/events.ts';
import { createLogger, type HandlerLogger, silentLogger } from './commons/logger.ts';
import { type TargetClientsDeps, targetClients } from './commons/target-clients.ts';
import type { Inventory } from './core/model.ts';
import { assemblePlan, type FilteredGroups, orphanStep } from './core/plan.ts';
import { ROTATE_PASS_CALLS, type RotateProgress, rotatePasses } from './core/rotate-passes.ts';
import { isAccountId } from './core/target.ts';
import type { RunContext } from './core/workflow.ts';

export interface RotateEvent {
  readonly run: RunContext;
  readonly inventoryKey: string;
  readonly groupsKey: string;
  readonly filteredKey: string;
  /** RotateNextPass only: which pass this is (1, 2, …; absent = the first, 0). */
  readonly pass?: number;
}

/** Reads are left: the state machine calls Rotate again with `pass: nextPass`. */
export interface RotatePending {
  readonly done: false;
  readonly nextPass: number;
  readonly planKey: null;
  readonly planHash: null;
  readonly candidates: null;
  readonly orphanSnapshots: null;
  readonly kept: null;
}

export interface RotateResult {
  readonly done: true;
  readonly nextPass: null;
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
  /** Describe calls per pass. Default `ROTATE_PASS_CALLS`; tests lower it to exercise the loop. */
  readonly callsPerPass?: number;
  readonly logger?: HandlerLogger;
}

/** Where pass `pass` leaves what it read for the next one. */
export function rotateProgressKey(runId: string, pass: number): string {
  return runKey(runId, `rotate-pass-${pass}`);
}

export function createRotateHandler(
  deps: RotateDeps,
): (event: RotateEvent) => Promise<RotateResult | RotatePending> {
  const callsPerPass = deps.callsPerPass ?? ROTATE_PASS_CALLS;
  const logger = deps.logger ?? silentLogger;
  return classifyFailures('Rotate', async (event) => {
    const record = requireRecord(event, 'event');
    const run = requireRun(record.run);
    const limit = run.maxDeletionsPerRun;
    const pass = passOf(record, rotatePasses(limit, callsPerPass));
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
    const usage = { ...deps.usageReports, runId: run.runId };
    const place = await targetClients(deps, run);
    if (inventory.region !== place.region)
      throw new InvalidEventError(
        `the inventory is of ${inventory.region}, not of the run's ${place.target.key}`,
      );
    const progress =
      pass === 0
        ? undefined
        : await deps.workspace.getJson<RotateProgress>(rotateProgressKey(run.runId, pass - 1));
    const outcome = await rotatePass(place.clients.ec2, {
      filtered,
      settings,
      now,
      limit,
      usage,
      pass,
      callsPerPass,
      ...(progress === undefined ? {} : { progress }),
    });
    if (!outcome.done) {
      await deps.workspace.putJson(rotateProgressKey(run.runId, pass), outcome.progress);
      const { sharing, references } = outcome.progress;
      logger.info('rotate pass stored', {
        runId: run.runId,
        pass,
        sharing: sharing.checked,
        references: references.checked,
      });
      return {
        done: false,
        nextPass: pass + 1,
        planKey: null,
        planHash: null,
        candidates: null,
        orphanSnapshots: null,
        kept: null,
      };
    }
    const { groups } = outcome;
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
      done: true,
      nextPass: null,
      planKey,
      planHash: plan.planHash,
      candidates: plan.totals.candidates,
      orphanSnapshots: plan.totals.orphanSnapshots,
      kept: plan.totals.kept,
    };
    const { nextPass: _, ...logged } = result;
    logger.info('plan built', { runId: run.runId, ...logged });
    return result;
  });
}

/** Every pass, as the ASL loops them (Rotate → RotateDone? → RotateNextPass …): for callers that run the handlers one by one. */
export async function rotateToPlan(
  rotate: (event: RotateEvent) => Promise<RotateResult | RotatePending>,
  event: RotateEvent,
): Promise<RotateResult> {
  let outcome = await rotate(event);
  while (!outcome.done) outcome = await rotate({ ...event, pass: outcome.nextPass });
  return outcome;
}

/**
 * The pass of this invocation: 0 when absent; else a whole number below the cap's bound, so the
 * loop can never run more passes than the history budget counts.
 */
function passOf(record: Readonly<Record<string, unknown>>, passes: number): number {
  const pass = record.pass ?? 0;
  if (typeof pass !== 'number' || !Number.isInteger(pass) || pass < 0 || pass >= passes) {
    throw new InvalidEventError(`pass must be a whole number from 0 to ${passes - 1} for this run's cap`);
  }
  return pass;
}

/** The account the run plans: its execution's (a single-target run plans its own account). */
function _accountOf(executionArn: string): { accountId?: string } {
  const account = executionArn.split(':')[4];
  return isAccountId(account) ? { accountId: account } : {};
}

export const handler = lazyHandler(() =>
  createRotateHandler({
    ...targetClientsFromEnv(),
    workspace: workspaceFromEnv(),
    logger: createLogger('rotate'),
  }),
);
