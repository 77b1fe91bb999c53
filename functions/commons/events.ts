/**
 * Checks of the payloads the state machine passes between states. The ASL builds them, but a
 * handler that deletes must not trust a malformed or hand-crafted event: every check fails with
 * `InvalidEventError` before anything is read or changed.
 */
import { type PlannedTarget, plannedTarget } from '../core/organization-run.ts';
import { validatePlanSettings } from '../core/settings.ts';
import { type Target, target } from '../core/target.ts';
import type { RunContext } from '../core/workflow.ts';
import { InvalidEventError } from './errors.ts';

export const AMI_ID = /^ami-[0-9a-f]{8,17}$/;
export const SNAPSHOT_ID = /^snap-[0-9a-f]{8,17}$/;
export const PLAN_HASH = /^[0-9a-f]{64}$/;
export const ACCOUNT_ID = /^[0-9]{12}$/;
/** Execution names as start-execution makes them; also what the workspace accepts in a key. */
export const RUN_ID = /^[A-Za-z0-9_-]{1,80}$/;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function requireRecord(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw new InvalidEventError(`${what} must be an object`);
  return value;
}

/** A string field; with a pattern, it must match it. The message names the field, never the value. */
export function requireString(
  record: Readonly<Record<string, unknown>>,
  field: string,
  pattern?: RegExp,
): string {
  const value = record[field];
  if (typeof value !== 'string' || value === '' || (pattern !== undefined && !pattern.test(value))) {
    throw new InvalidEventError(
      `${field} must be ${pattern ? `a string matching ${pattern}` : 'a non-empty string'}`,
    );
  }
  return value;
}

/** `$.run` as acquire-lock built it; its settings are validated again (a state input can be edited on redrive). */
/**
 * The organization run's targets from its state, rebuilt from account and region: a run id or
 * name in the state is never trusted.
 */
export function requirePlannedTargets(
  value: unknown,
  parentRunId: string,
): { readonly place: Target; readonly planned: PlannedTarget }[] {
  if (!Array.isArray(value)) throw new InvalidEventError('targets must be a list');
  return value.map((each) => {
    const given = requireRecord(each, 'target');
    const place = target(given.accountId, given.region);
    return { place, planned: plannedTarget(place, parentRunId) };
  });
}

export function requireRun(value: unknown): RunContext {
  const run = requireRecord(value, 'run');
  requireString(run, 'runId', RUN_ID);
  requireString(run, 'startedAt');
  if (typeof run.dryRun !== 'boolean') throw new InvalidEventError('run.dryRun must be true or false');
  const cap = run.maxDeletionsPerRun;
  if (typeof cap !== 'number' || !Number.isInteger(cap) || cap < 0) {
    throw new InvalidEventError('run.maxDeletionsPerRun must be a whole number >= 0');
  }
  if (run.triggerImageId !== undefined) requireString(run, 'triggerImageId', AMI_ID);
  if ((run.target === undefined) !== (run.parentRunId === undefined))
    throw new InvalidEventError('run.target and run.parentRunId go together');
  if (run.target !== undefined) {
    const given = requireRecord(run.target, 'run.target');
    try {
      target(given.accountId, given.region);
    } catch (error) {
      throw new InvalidEventError(`run.target: ${(error as Error).message}`);
    }
    requireString(run, 'parentRunId', RUN_ID);
  }
  try {
    validatePlanSettings(requireRecord(run.settings, 'run.settings') as unknown as RunContext['settings']);
  } catch (error) {
    throw new InvalidEventError(`run.settings: ${(error as Error).message}`);
  }
  return run as unknown as RunContext;
}

/** Most snapshots one AMI can map (EC2 allows far fewer block devices); longer lists are refused. */
const MAX_IDS = 256;

/** An array of ids each matching `pattern`, without repeats. The message names the field, never the values. */
export function requireIdList(
  record: Readonly<Record<string, unknown>>,
  field: string,
  pattern: RegExp,
): string[] {
  const value = record[field];
  if (
    !Array.isArray(value) ||
    value.length > MAX_IDS ||
    !value.every((id) => typeof id === 'string' && pattern.test(id)) ||
    new Set(value).size !== value.length
  ) {
    throw new InvalidEventError(`${field} must be a list of distinct ids matching ${pattern}`);
  }
  return value as string[];
}

/** An approved AMI's deletion step event: the run, the plan it was approved in, the AMI and its snapshots. */
export interface ImageItemEvent {
  readonly record: Record<string, unknown>;
  readonly runId: string;
  readonly planHash: string;
  readonly imageId: string;
  readonly snapshotIds: string[];
}

/** The fields Deregister and DeleteImageSnapshots both act on, each checked as `requireString` does. */
export function requireImageItem(event: unknown): ImageItemEvent {
  const record = requireRecord(event, 'event');
  return {
    record,
    runId: requireString(record, 'runId', RUN_ID),
    planHash: requireString(record, 'planHash', PLAN_HASH),
    imageId: requireString(record, 'imageId', AMI_ID),
    snapshotIds: requireIdList(record, 'snapshotIds', SNAPSHOT_ID),
  };
}
