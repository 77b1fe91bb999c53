/**
 * AcquireLock: the first state. Validates the execution input strictly (nothing is read or
 * deleted on bad input), builds the run context every later state receives as `$.run`, and takes
 * the per-region lock so two runs never work on the same account and region at once.
 *
 * The run is recorded before the lock is taken, so a lock never exists without a run that
 * close-abandoned-run can close; a failure after taking the lock releases it before rethrowing,
 * and close-abandoned-run releases it again if this Lambda died instead (docs/DESIGN.md).
 */
import type { Ledger } from './adapters/ledger/index.ts';
import { lazyHandler, ledgerFromEnv, regionFromEnv } from './commons/deps.ts';
import { getHistoryBudgetFromEnv, getNumberFromEnv, getPlanSettingsFromEnv } from './commons/env.ts';
import { classifyFailures, InvalidEventError } from './commons/errors.ts';
import { AMI_ID, isRecord, RUN_ID, requireRecord, requireString } from './commons/events.ts';
import { createLogger, type HandlerLogger, silentLogger } from './commons/logger.ts';
import {
  type DeletionTreeBudget,
  deletionTreeProblem,
  payloadBudgetProblem,
  worstCaseStateBytes,
  worstCaseTreeEvents,
} from './core/quotas.ts';
import { InvalidSettingsError, type PlanSettings, resolvePlanSettings } from './core/settings.ts';
import type { RunContext, Trigger } from './core/workflow.ts';

/** The execution input: a manual start, or what start-execution sends. Every key is optional. */
export interface RunInput {
  readonly trigger?: Trigger;
  /** Required for (and only allowed with) `ami-available`. */
  readonly imageId?: string;
  readonly dryRun?: boolean;
  /** May lower the deployment's MAX_DELETIONS_PER_RUN, never raise it. */
  readonly maxDeletionsPerRun?: number;
  /** Overrides of the deployment's DEFAULT_PLAN_SETTINGS. */
  readonly settings?: Partial<PlanSettings>;
}

/** Built by the ASL from `$` and `$$.Execution`. */
export interface AcquireLockEvent {
  /** The execution input, untrusted. */
  readonly input: unknown;
  readonly execution: {
    /** `$$.Execution.Id`, the execution ARN. */
    readonly id: string;
    /** `$$.Execution.Name`, which becomes the run id. */
    readonly name: string;
    /** `$$.Execution.StartTime`, ISO-8601. */
    readonly startTime: string;
  };
}

export interface AcquireLockResult {
  /** False when another run holds the region's lock; the execution then ends without touching anything. */
  readonly acquired: boolean;
  readonly run: RunContext;
}

export interface AcquireLockDeps {
  readonly ledger: Ledger;
  readonly region: string;
  /** DEFAULT_PLAN_SETTINGS, validated. */
  readonly defaultSettings: PlanSettings;
  /** MAX_DELETIONS_PER_RUN: the ceiling an execution input may only lower. */
  readonly maxDeletionsPerRun: number;
  readonly lockTtlSeconds: number;
  /** The definitions' worst-case history events (HISTORY_BUDGET, derived from the ASL at synth). */
  readonly historyBudget: DeletionTreeBudget;
  readonly now: () => Date;
  readonly logger?: HandlerLogger;
}

/** The execution input is malformed. The run fails before anything is read or changed. */
export class InvalidRunInputError extends Error {
  override readonly name = 'InvalidRunInputError';
}

const INPUT_KEYS = new Set(['trigger', 'imageId', 'dryRun', 'maxDeletionsPerRun', 'settings']);
const TRIGGERS: readonly Trigger[] = ['manual', 'schedule', 'ami-available'];

export function createAcquireLockHandler(
  deps: AcquireLockDeps,
): (event: AcquireLockEvent) => Promise<AcquireLockResult> {
  const logger = deps.logger ?? silentLogger;
  return classifyFailures('AcquireLock', async (event) => {
    const run = buildRunContext(event, deps);
    // The run first: whatever fails later, close-abandoned-run finds a run to close.
    await deps.ledger.putRun(run, { status: 'RUNNING' });
    const acquired = await deps.ledger.acquireLock(deps.region, run.runId, deps.lockTtlSeconds, deps.now());
    if (!acquired) {
      // Recorded so the skipped start is visible in the ledger; the lock holder is untouched.
      await deps.ledger.updateRun(run.runId, {
        status: 'SKIPPED_LOCKED',
        finishedAt: deps.now().toISOString(),
      });
    }
    logger.info(acquired ? 'run started' : 'run skipped: another run holds the lock', {
      runId: run.runId,
      trigger: run.trigger,
      dryRun: run.dryRun,
      triggerImageId: run.triggerImageId,
      region: deps.region,
    });
    return { acquired, run };
  });
}

/** Validates the event and the execution input, and resolves the run context. Pure. */
export function buildRunContext(
  event: AcquireLockEvent,
  limits: Pick<AcquireLockDeps, 'defaultSettings' | 'maxDeletionsPerRun' | 'historyBudget'>,
): RunContext {
  const execution = requireRecord(requireRecord(event, 'event').execution, 'execution');
  const executionArn = requireString(execution, 'id');
  const startTime = requireString(execution, 'startTime');
  if (Number.isNaN(Date.parse(startTime)))
    throw new InvalidEventError('execution.startTime must be ISO-8601');
  const runId = String(execution.name ?? '');
  if (!RUN_ID.test(runId)) {
    // The run id is a ledger partition and a workspace prefix: only plain names.
    throw new InvalidRunInputError('the execution name must be 1-80 characters of A-Z, a-z, 0-9, "-" or "_"');
  }

  const input = event.input ?? {};
  if (!isRecord(input)) throw new InvalidRunInputError('the execution input must be a JSON object');
  for (const key of Object.keys(input)) {
    if (!INPUT_KEYS.has(key)) {
      throw new InvalidRunInputError(`unknown input key "${key}" (allowed: ${[...INPUT_KEYS].join(', ')})`);
    }
  }

  const trigger = input.trigger ?? 'manual';
  if (typeof trigger !== 'string' || !TRIGGERS.includes(trigger as Trigger)) {
    throw new InvalidRunInputError(`trigger must be one of ${TRIGGERS.join(', ')}`);
  }
  const imageId = input.imageId;
  if (trigger === 'ami-available') {
    if (typeof imageId !== 'string' || !AMI_ID.test(imageId)) {
      throw new InvalidRunInputError('trigger "ami-available" requires imageId, an AMI id (ami-…)');
    }
  } else if (imageId !== undefined) {
    throw new InvalidRunInputError('imageId is only allowed with trigger "ami-available"');
  }

  const dryRun = input.dryRun ?? false;
  if (typeof dryRun !== 'boolean') throw new InvalidRunInputError('dryRun must be true or false');

  let maxDeletionsPerRun = limits.maxDeletionsPerRun;
  if (input.maxDeletionsPerRun !== undefined) {
    const requested = input.maxDeletionsPerRun;
    if (typeof requested !== 'number' || !Number.isInteger(requested) || requested < 0) {
      throw new InvalidRunInputError('maxDeletionsPerRun must be a whole number >= 0');
    }
    if (requested > limits.maxDeletionsPerRun) {
      throw new InvalidRunInputError(
        `maxDeletionsPerRun ${requested} exceeds this deployment's limit of ${limits.maxDeletionsPerRun}`,
      );
    }
    maxDeletionsPerRun = requested;
  }

  let settings: PlanSettings;
  try {
    settings = resolvePlanSettings(input.settings, limits.defaultSettings);
  } catch (error) {
    if (error instanceof InvalidSettingsError) {
      throw new InvalidRunInputError(`settings: ${error.message}`, { cause: error });
    }
    throw error;
  }

  const tooManyEvents = deletionTreeProblem(limits.historyBudget, maxDeletionsPerRun);
  if (tooManyEvents) throw new InvalidRunInputError(tooManyEvents);

  const run: RunContext = {
    runId,
    executionArn,
    trigger: trigger as Trigger,
    dryRun,
    settings,
    startedAt: new Date(startTime).toISOString(),
    ...(trigger === 'ami-available' ? { triggerImageId: imageId as string } : {}),
    maxDeletionsPerRun,
  };
  const tooLarge = payloadBudgetProblem(runStateEstimate(run, limits.historyBudget));
  if (tooLarge) throw new InvalidRunInputError(tooLarge);
  return run;
}

/** The run's worst-case state: a dry run deletes nothing, `fromIds` bounds the candidates. */
export function runStateEstimate(run: RunContext, tree: DeletionTreeBudget) {
  const deletions = run.dryRun
    ? 0
    : Math.min(run.maxDeletionsPerRun, run.settings.fromIds?.length ?? Number.POSITIVE_INFINITY);
  return worstCaseStateBytes(
    Buffer.byteLength(JSON.stringify(run), 'utf8'),
    worstCaseTreeEvents(tree, deletions).batches,
  );
}

export const handler = lazyHandler(() =>
  createAcquireLockHandler({
    ledger: ledgerFromEnv(),
    region: regionFromEnv(),
    defaultSettings: getPlanSettingsFromEnv(),
    maxDeletionsPerRun: getNumberFromEnv('MAX_DELETIONS_PER_RUN', { integer: true, min: 0 }),
    lockTtlSeconds: getNumberFromEnv('LOCK_TTL_SECONDS', { integer: true, min: 1 }),
    historyBudget: getHistoryBudgetFromEnv(),
    now: () => new Date(),
    logger: createLogger('acquire-lock'),
  }),
);
