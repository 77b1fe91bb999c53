/**
 * ResumeTargetRun: the first state of a target run's `delete` or `close` phase, which an
 * organization run starts after its one approval was decided. It rebuilds the run's state from
 * the ledger, never from the input: the input only names the target, the parent and the phase,
 * and the execution name must be the one the parent gives that phase. A delete phase also needs
 * the target's lock still held by this run (a lease that ran out may belong to another run now).
 * Fails closed: nothing is read in the target and nothing is deleted when any check fails.
 */
import type { Ledger } from './adapters/ledger/index.ts';
import { lazyHandler, ledgerFromEnv } from './commons/deps.ts';
import { classifyFailures, InvalidEventError } from './commons/errors.ts';
import { PLAN_HASH, RUN_ID, requireRecord, requireRun, requireString } from './commons/events.ts';
import { createLogger, type HandlerLogger, silentLogger } from './commons/logger.ts';
import { type TargetPhase, targetPhaseExecutionName, targetRunId } from './core/organization-run.ts';
import { InvalidTargetError, type Target, target } from './core/target.ts';
import type { ApprovalResult, RunContext } from './core/workflow.ts';

/** Outcomes a parent closes its target runs with (nothing deleted in any of them). */
const CLOSE_OUTCOMES = new Set(['REJECTED', 'EXPIRED', 'WITHDRAWN', 'FAILED']);
const INPUT_KEYS = new Set([
  'phase',
  'target',
  'parentRunId',
  'approval',
  'outcome',
  'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID',
]);

export interface ResumeTargetRunEvent {
  readonly input: unknown;
  readonly execution: { readonly id: string; readonly name: string; readonly startTime: string };
}

export interface ResumeTargetRunResult {
  readonly run: RunContext;
  readonly plan: { readonly planHash: string; readonly planKey: string | null };
  /** The parent's decision (delete: APPROVED of the parent's plan; close: as decided, or null). */
  readonly approval: ApprovalResult | null;
  /** Close: what Finalize records. Delete: null (SetOutcomeApproved sets it after the deletions). */
  readonly finalize: {
    readonly outcome: string;
    readonly planHash: string;
    readonly approval: ApprovalResult | null;
  } | null;
  /** FinishEarlierRuns ran in the plan phase; Finalize reports nothing of it again. */
  readonly earlierRuns: null;
}

export interface ResumeTargetRunDeps {
  readonly ledger: Pick<Ledger, 'getRun' | 'getLock'>;
  readonly now: () => Date;
  readonly logger?: HandlerLogger;
}

export class ResumeRefusedError extends Error {
  override readonly name = 'ResumeRefusedError';
}

function requireTarget(value: unknown): Target {
  const given = requireRecord(value, 'input.target');
  try {
    return target(given.accountId, given.region);
  } catch (error) {
    if (error instanceof InvalidTargetError) throw new InvalidEventError(`input.target: ${error.message}`);
    throw error;
  }
}

function approvalOf(value: unknown, required: boolean): ApprovalResult | null {
  if (value === undefined || value === null) {
    if (required) throw new InvalidEventError('input.approval is required in phase delete');
    return null;
  }
  const approval = requireRecord(value, 'input.approval');
  if (approval.decision !== 'APPROVED' && approval.decision !== 'REJECTED')
    throw new InvalidEventError('input.approval.decision must be APPROVED or REJECTED');
  requireString(approval, 'planHash', PLAN_HASH);
  if (approval.approver !== undefined && typeof approval.approver !== 'string')
    throw new InvalidEventError('input.approval.approver must be a string');
  return approval as unknown as ApprovalResult;
}

export function createResumeTargetRunHandler(
  deps: ResumeTargetRunDeps,
): (event: ResumeTargetRunEvent) => Promise<ResumeTargetRunResult> {
  const logger = deps.logger ?? silentLogger;
  return classifyFailures('ResumeTargetRun', async (event) => {
    const record = requireRecord(event, 'event');
    const execution = requireRecord(record.execution, 'execution');
    const input = requireRecord(record.input, 'input');
    for (const key of Object.keys(input))
      if (!INPUT_KEYS.has(key)) throw new InvalidEventError(`unknown input key "${key}"`);
    const phase = input.phase as TargetPhase;
    if (phase !== 'delete' && phase !== 'close')
      throw new InvalidEventError('input.phase must be delete or close');
    const each = requireTarget(input.target);
    const parentRunId = requireString(input, 'parentRunId', RUN_ID);
    const expectedName = targetPhaseExecutionName(each, parentRunId, phase);
    if (execution.name !== expectedName)
      throw new ResumeRefusedError(`a ${phase} phase of ${each.key} must run as ${expectedName}`);

    const runId = targetRunId(each, parentRunId);
    const recorded = await deps.ledger.getRun(runId);
    if (!recorded) throw new ResumeRefusedError(`no target run ${runId}`);
    const run = requireRun(contextOf(recorded as unknown as Record<string, unknown>));
    if (
      run.parentRunId !== parentRunId ||
      run.target?.accountId !== each.accountId ||
      run.target.region !== each.region
    )
      throw new ResumeRefusedError(`run ${runId} is not ${each.key}'s run of ${parentRunId}`);
    // RUNNING: the parent failed before it marked this run awaiting; only a close may follow that.
    const resumable = phase === 'delete' ? ['AWAITING_APPROVAL'] : ['AWAITING_APPROVAL', 'RUNNING'];
    if (!resumable.includes(recorded.status))
      throw new ResumeRefusedError(`run ${runId} is ${recorded.status}, not awaiting the decision`);
    const planHash = recorded.planHash;
    if (!planHash || !PLAN_HASH.test(planHash)) throw new ResumeRefusedError(`run ${runId} recorded no plan`);

    let approval: ApprovalResult | null;
    let finalize: ResumeTargetRunResult['finalize'] = null;
    if (phase === 'delete') {
      approval = approvalOf(input.approval, true);
      const lock = await deps.ledger.getLock(each.key);
      if (lock?.owner !== runId || lock.expiresAt * 1000 <= deps.now().getTime())
        throw new ResumeRefusedError(
          `run ${runId} no longer holds the lock of ${each.key}; nothing is deleted`,
        );
    } else {
      const outcome = String(input.outcome);
      if (!CLOSE_OUTCOMES.has(outcome))
        throw new InvalidEventError(`input.outcome must be one of ${[...CLOSE_OUTCOMES].join(', ')}`);
      approval = approvalOf(input.approval, false);
      finalize = { outcome, planHash, approval };
    }
    logger.info('target run resumed', { runId, parentRunId, phase, target: each.key });
    return {
      run,
      plan: { planHash, planKey: recorded.planKey ?? null },
      approval,
      finalize,
      earlierRuns: null,
    };
  });
}

/** The run context part of a run record: what putRun wrote once. */
function contextOf(recorded: Record<string, unknown>): Record<string, unknown> {
  const keys = [
    'runId',
    'executionArn',
    'trigger',
    'dryRun',
    'settings',
    'startedAt',
    'triggerImageId',
    'maxDeletionsPerRun',
    'target',
    'parentRunId',
  ];
  return Object.fromEntries(keys.filter((k) => recorded[k] !== undefined).map((k) => [k, recorded[k]]));
}

export const handler = lazyHandler(() =>
  createResumeTargetRunHandler({
    ledger: ledgerFromEnv(),
    now: () => new Date(),
    logger: createLogger('resume-target-run'),
  }),
);
