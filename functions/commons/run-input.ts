/**
 * The execution input of a run, validated strictly (nothing is read or deleted on bad input), and
 * the run context built from it: shared by AcquireLock (a run of its own, or a target run's plan
 * phase) and ResolveTargets (an organization run), so both refuse exactly the same inputs.
 */

import { targetPhaseExecutionName, targetRunId } from '../core/organization-run.ts';
import {
  type DeletionTreeBudget,
  deletionTreeProblem,
  payloadBudgetProblem,
  worstCaseStateBytes,
  worstCaseTreeEvents,
} from '../core/quotas.ts';
import { isExecutionArn } from '../core/run-target.ts';
import { InvalidSettingsError, type PlanSettings, resolvePlanSettings } from '../core/settings.ts';
import { InvalidTargetError, type Target, target } from '../core/target.ts';
import type { RunContext, Trigger } from '../core/workflow.ts';
import { InvalidEventError } from './errors.ts';
import { AMI_ID, isRecord, RUN_ID, requireRecord, requireString } from './events.ts';

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
  /** Organization runs (with `parentRunId`, both or neither): the account and region to work on. */
  readonly target?: { readonly accountId: string; readonly region: string };
  /** Organization runs: the parent run; the run id becomes `targetRunId(target, parentRunId)`. */
  readonly parentRunId?: string;
  /** The parent's phase; AcquireLock runs only in `plan` (the ASL branches on it). */
  readonly phase?: 'plan';
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

/** What the deployment allows a run: its default settings, its cap, its definitions' budget. */
export interface RunLimits {
  /** DEFAULT_PLAN_SETTINGS, validated. */
  readonly defaultSettings: PlanSettings;
  /** MAX_DELETIONS_PER_RUN: the ceiling an execution input may only lower. */
  readonly maxDeletionsPerRun: number;
  /** The definitions' worst-case history events (HISTORY_BUDGET, derived from the ASL at synth). */
  readonly historyBudget: DeletionTreeBudget;
}

/** The execution input is malformed. The run fails before anything is read or changed. */
export class InvalidRunInputError extends Error {
  override readonly name = 'InvalidRunInputError';
}

const INPUT_KEYS = new Set([
  'trigger',
  'imageId',
  'dryRun',
  'maxDeletionsPerRun',
  'settings',
  'target',
  'parentRunId',
  'phase',
  // Step Functions links a child to its parent through this key of the child's input.
  'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID',
]);
const TRIGGERS: readonly Trigger[] = ['manual', 'schedule', 'ami-available'];

/** Validates the event and the execution input, and resolves the run context. Pure. */
export function buildRunContext(event: AcquireLockEvent, limits: RunLimits): RunContext {
  const execution = requireRecord(requireRecord(event, 'event').execution, 'execution');
  const executionArn = requireString(execution, 'id');
  // The account of a run without a target (and so its lock) comes from here: it must name one.
  if (!isExecutionArn(executionArn)) throw new InvalidEventError('execution.id must be an execution ARN');
  const startTime = requireString(execution, 'startTime');
  if (Number.isNaN(Date.parse(startTime)))
    throw new InvalidEventError('execution.startTime must be ISO-8601');
  const executionName = String(execution.name ?? '');
  if (!RUN_ID.test(executionName)) {
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
  if (input.phase !== undefined && input.phase !== 'plan')
    throw new InvalidRunInputError('phase must be "plan" when AcquireLock runs');
  const startedBy = input.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID;
  if (startedBy !== undefined && (input.parentRunId === undefined || typeof startedBy !== 'string'))
    throw new InvalidRunInputError(
      'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID is only allowed in a target run',
    );
  const organization = organizationRun(input, executionName);
  const runId = organization?.runId ?? executionName;

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
    ...(organization === undefined
      ? {}
      : { target: organization.target, parentRunId: organization.parentRunId }),
  };
  const tooLarge = payloadBudgetProblem(runStateEstimate(run, limits.historyBudget));
  if (tooLarge) throw new InvalidRunInputError(tooLarge);
  return run;
}

/**
 * A target run of an organization (`target` and `parentRunId`, both or neither): its run id is
 * `targetRunId(target, parentRunId)`, and it must run in the execution the parent names
 * `targetPhaseExecutionName(target, parentRunId, 'plan')`. A child started under another name, or
 * an input whose target is not the one its name says, is refused before anything is read.
 */
function organizationRun(
  input: Readonly<Record<string, unknown>>,
  executionName: string,
): { runId: string; target: NonNullable<RunContext['target']>; parentRunId: string } | undefined {
  if (input.target === undefined && input.parentRunId === undefined) return undefined;
  if (input.target === undefined || input.parentRunId === undefined)
    throw new InvalidRunInputError('target and parentRunId go together: give both or neither');
  if (!isRecord(input.target))
    throw new InvalidRunInputError('target must be an object { accountId, region }');
  const extra = Object.keys(input.target).filter((key) => !['accountId', 'region', 'key'].includes(key));
  if (extra.length > 0) throw new InvalidRunInputError('target has keys other than accountId and region');
  let each: Target;
  try {
    each = target(input.target.accountId, input.target.region);
  } catch (error) {
    if (error instanceof InvalidTargetError)
      throw new InvalidRunInputError(`target: ${error.message}`, { cause: error });
    throw error;
  }
  if (input.target.key !== undefined && input.target.key !== each.key)
    throw new InvalidRunInputError('target.key does not match its account and region');
  const parentRunId = input.parentRunId;
  if (typeof parentRunId !== 'string' || !RUN_ID.test(parentRunId))
    throw new InvalidRunInputError('parentRunId must be 1-80 characters of A-Z, a-z, 0-9, "-" or "_"');
  if (executionName !== targetPhaseExecutionName(each, parentRunId, 'plan')) {
    throw new InvalidRunInputError(
      `a target run of ${each.key} must run as the execution its parent names for it, not "${executionName}"`,
    );
  }
  return {
    runId: targetRunId(each, parentRunId),
    target: { accountId: each.accountId, region: each.region },
    parentRunId,
  };
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
