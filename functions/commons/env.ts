/**
 * Configuration from the Lambda environment, read once when a handler is first built, through
 * Powertools' env utilities. A missing, empty or malformed variable throws a named error, so a misconfigured function fails on its first
 * invocation instead of acting on a default nobody chose.
 */
import {
  getNumberFromEnv as powertoolsNumber,
  getStringFromEnv as powertoolsString,
} from '@aws-lambda-powertools/commons/utils/env';
import { checkRequiredApprovals, normalizeApprovers } from '../core/approvers.ts';
import type { DeletionTreeBudget, HistoryBudget } from '../core/quotas.ts';
import { type RecycleBinRetention, validateRecycleBinRetention } from '../core/recycle-bin.ts';
import { type PlanSettings, resolvePlanSettings } from '../core/settings.ts';

export class MissingEnvironmentVariableError extends Error {
  override readonly name = 'MissingEnvironmentVariableError';
  constructor(readonly variable: string) {
    super(`environment variable ${variable} is not set`);
  }
}

export class InvalidEnvironmentVariableError extends Error {
  override readonly name = 'InvalidEnvironmentVariableError';
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    // The value itself is left out: environment values are not meant to end up in logs.
    super(`environment variable ${variable} ${problem}`);
  }
}

/**
 * Powertools reads and trims the variable; an empty value counts as missing here, because
 * Powertools would read `""` as the number 0.
 */
export function getStringFromEnv(name: string): string {
  const value = powertoolsString({ key: name, defaultValue: '' });
  if (value === '') throw new MissingEnvironmentVariableError(name);
  return value;
}

export interface NumberConstraints {
  readonly integer?: boolean;
  /** Inclusive. */
  readonly min?: number;
}

export function getNumberFromEnv(name: string, constraints: NumberConstraints = {}): number {
  getStringFromEnv(name);
  let value: number;
  try {
    value = powertoolsNumber({ key: name });
  } catch {
    throw new InvalidEnvironmentVariableError(name, 'must be a number');
  }
  if (!Number.isFinite(value)) throw new InvalidEnvironmentVariableError(name, 'must be a number');
  if (constraints.integer === true && !Number.isInteger(value)) {
    throw new InvalidEnvironmentVariableError(name, 'must be a whole number');
  }
  if (constraints.min !== undefined && value < constraints.min) {
    throw new InvalidEnvironmentVariableError(name, `must be >= ${constraints.min}`);
  }
  return value;
}

function parseJsonVariable(name: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidEnvironmentVariableError(name, 'is not valid JSON');
  }
}

/** `DEFAULT_PLAN_SETTINGS`: JSON overrides of the core defaults, validated like execution input. */
export function getPlanSettingsFromEnv(name = 'DEFAULT_PLAN_SETTINGS'): PlanSettings {
  const parsed = parseJsonVariable(name, getStringFromEnv(name));
  try {
    return resolvePlanSettings(parsed);
  } catch (error) {
    throw new InvalidEnvironmentVariableError(name, `holds invalid settings: ${(error as Error).message}`);
  }
}

/**
 * `HISTORY_BUDGET`: `{ parent: { fixed, perItem, perPass? }, child: { fixed, perItem } }`, the worst-case
 * history events of the run's execution and of its DeleteBatch children (computed at synth).
 */
export function getHistoryBudgetFromEnv(name = 'HISTORY_BUDGET'): DeletionTreeBudget {
  let parsed: unknown;
  try {
    parsed = JSON.parse(getStringFromEnv(name));
  } catch (error) {
    if (error instanceof MissingEnvironmentVariableError) throw error;
    throw new InvalidEnvironmentVariableError(name, 'is not valid JSON');
  }
  const { parent, child } = (parsed ?? {}) as { parent?: unknown; child?: unknown };
  const budget = (value: unknown): HistoryBudget => {
    const { fixed, perItem, perPass } = (value ?? {}) as {
      fixed?: unknown;
      perItem?: unknown;
      perPass?: unknown;
    };
    const whole = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1;
    if (!whole(fixed) || !whole(perItem) || !(perPass === undefined || whole(perPass))) {
      throw new InvalidEnvironmentVariableError(
        name,
        'must be {"parent": {"fixed": n, "perItem": n, "perPass"?: n}, "child": {…}} with whole numbers >= 1',
      );
    }
    return perPass === undefined ? { fixed, perItem } : { fixed, perItem, perPass };
  };
  return { parent: budget(parent), child: budget(child) };
}

/**
 * `APPROVERS` (JSON list of addresses) and `REQUIRED_APPROVALS`: both set for named approvers,
 * both `"none"` for the single shared link. Anything else throws at cold start, so a function
 * never falls back to a shared link its deployment did not ask for.
 */
export function getApproversFromEnv(): { approvers?: string[]; requiredApprovals?: number } {
  const text = getStringFromEnv('APPROVERS');
  if (text === 'none') return {};
  let approvers: string[];
  try {
    approvers = normalizeApprovers(JSON.parse(text));
  } catch (error) {
    throw new InvalidEnvironmentVariableError(
      'APPROVERS',
      `is not a list of approvers: ${(error as Error).name}`,
    );
  }
  const required = getNumberFromEnv('REQUIRED_APPROVALS', { integer: true, min: 1 });
  try {
    return { approvers, requiredApprovals: checkRequiredApprovals(required, approvers) };
  } catch (error) {
    throw new InvalidEnvironmentVariableError('REQUIRED_APPROVALS', (error as Error).message);
  }
}

/**
 * `RECYCLE_BIN_RETENTION`: `{"imageDays": n, "snapshotDays": n}` when the construct turned Recycle
 * Bin retention on; unset or empty means off. A value that is set but invalid throws: a deletion
 * step must never guess whether what it deletes can be restored.
 */
export function getRecycleBinRetentionFromEnv(
  name = 'RECYCLE_BIN_RETENTION',
): RecycleBinRetention | undefined {
  const text = powertoolsString({ key: name, defaultValue: '' });
  if (text === '') return undefined;
  const parsed = parseJsonVariable(name, text);
  try {
    const value = (parsed ?? {}) as { imageDays?: unknown; snapshotDays?: unknown };
    return validateRecycleBinRetention({ imageDays: value.imageDays, snapshotDays: value.snapshotDays });
  } catch (error) {
    throw new InvalidEnvironmentVariableError(name, `is invalid: ${(error as Error).message}`);
  }
}

/** `{ recycleBin }` for a handler's deps when retention is on, `{}` when it is off. */
export function recycleBinFromEnv(): { readonly recycleBin?: RecycleBinRetention } {
  const recycleBin = getRecycleBinRetentionFromEnv();
  return recycleBin === undefined ? {} : { recycleBin };
}
