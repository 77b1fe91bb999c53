/**
 * Planning settings: one definition, one set of defaults and one validator, shared by the CLI
 * flags, the CDK construct props and the execution-input overrides.
 */

export type MappingKey = 'tags' | 'name';

/**
 * What happens to AMIs shared with other accounts: `keep` them (as before), or delete one only when
 * AWS's image usage report and every consumer account the hub can read say nobody uses it.
 */
export type SharedAmis = 'keep' | 'delete-when-unused';
export const SHARED_AMIS_VALUES: readonly SharedAmis[] = ['keep', 'delete-when-unused'];

export interface PlanSettings {
  /** Group AMIs by `tags` (ordered tag keys) or by `name` (substrings of the AMI name). */
  readonly mappingKey: MappingKey;
  /** Tag keys (mappingKey `tags`) or name substrings (mappingKey `name`). */
  readonly mappingValues: readonly string[];
  /** AMIs whose mapped value is one of these are excluded (never deleted). */
  readonly excludedMappingValues: readonly string[];
  /** Keep this many of the newest not-in-use AMIs of each group. */
  readonly keepPrevious: number;
  /** Keep AMIs younger than this many days. 0 turns the rule off. */
  readonly minAgeDays: number;
  /** AMIs carrying this tag key (any value) are kept. */
  readonly optOutTagKey: string;
  /** Delete public or shared AMIs too. Off by default: another account may launch them. */
  readonly includeShared: boolean;
  /**
   * Shared AMIs: `keep` (default) or `delete-when-unused` (only after the usage report and every
   * readable consumer account say nobody uses it). Not together with `includeShared`, which deletes
   * shared AMIs without asking anyone.
   */
  readonly sharedAmis: SharedAmis;
  /** Include orphan snapshots (CreateImage/CopyImage leftovers) in the plan. */
  readonly checkOrphans: boolean;
  /** When set, only these AMIs may be candidates (the original's `--from-ids`). */
  readonly fromIds?: readonly string[];
  /** SSM parameter paths whose values (AMI ids) mark AMIs as in use. */
  readonly ssmParameterPaths: readonly string[];
}

export const DEFAULT_PLAN_SETTINGS: PlanSettings = {
  mappingKey: 'tags',
  mappingValues: ['environment', 'role'],
  excludedMappingValues: [],
  keepPrevious: 4,
  minAgeDays: 0,
  optOutTagKey: 'amicleaner:keep',
  includeShared: false,
  sharedAmis: 'keep',
  checkOrphans: false,
  ssmParameterPaths: [],
};

/** Raised for settings that must not reach a run. The message names the setting and the problem. */
export class InvalidSettingsError extends Error {
  override readonly name = 'InvalidSettingsError';

  /**
   * `setting` names the offending setting and `problem` says what is wrong with it, so that a
   * front end can name its own flag instead (the CLI says `--from-ids`, not `fromIds`).
   */
  constructor(
    message: string,
    readonly setting?: keyof PlanSettings,
    readonly problem?: string,
  ) {
    super(message);
  }
}

/** An InvalidSettingsError whose message is `<setting> <problem>`. */
function invalid(setting: keyof PlanSettings, problem: string): InvalidSettingsError {
  return new InvalidSettingsError(`${setting} ${problem}`, setting, problem);
}

const AMI_ID = /^ami-[0-9a-f]{8,17}$/;

/**
 * Merges overrides (from flags, props or execution input, all untrusted) onto a base and
 * validates the result. Unknown keys and wrong types are errors, never silently ignored.
 */
export function resolvePlanSettings(
  overrides: unknown,
  base: PlanSettings = DEFAULT_PLAN_SETTINGS,
): PlanSettings {
  if (overrides === undefined || overrides === null) return validatePlanSettings(base);
  if (typeof overrides !== 'object' || Array.isArray(overrides)) {
    throw new InvalidSettingsError('settings must be an object');
  }
  const known = new Set<string>([...Object.keys(DEFAULT_PLAN_SETTINGS), 'fromIds']);
  for (const key of Object.keys(overrides)) {
    if (!known.has(key)) throw new InvalidSettingsError(`unknown setting "${key}"`);
  }
  return validatePlanSettings({ ...base, ...(overrides as Partial<PlanSettings>) });
}

export function validatePlanSettings(s: PlanSettings): PlanSettings {
  if (s.mappingKey !== 'tags' && s.mappingKey !== 'name') {
    throw invalid('mappingKey', `must be "tags" or "name", got ${JSON.stringify(s.mappingKey)}`);
  }
  assertStringList('mappingValues', s.mappingValues);
  if (s.mappingValues.length === 0) throw invalid('mappingValues', 'must not be empty');
  assertStringList('excludedMappingValues', s.excludedMappingValues);
  assertStringList('ssmParameterPaths', s.ssmParameterPaths);
  for (const path of s.ssmParameterPaths) {
    if (!path.startsWith('/')) throw invalid('ssmParameterPaths', `entry "${path}" must start with "/"`);
  }
  if (!Number.isInteger(s.keepPrevious) || s.keepPrevious < 0) {
    throw invalid('keepPrevious', `must be a whole number >= 0, got ${JSON.stringify(s.keepPrevious)}`);
  }
  if (typeof s.minAgeDays !== 'number' || !Number.isFinite(s.minAgeDays) || s.minAgeDays < 0) {
    throw invalid('minAgeDays', `must be a number >= 0, got ${JSON.stringify(s.minAgeDays)}`);
  }
  if (typeof s.optOutTagKey !== 'string' || s.optOutTagKey.length === 0) {
    throw invalid('optOutTagKey', 'must be a non-empty string');
  }
  if (typeof s.includeShared !== 'boolean') throw invalid('includeShared', 'must be true or false');
  // Absent in a run started before the setting existed (a redriven execution): that run keeps them.
  if (s.sharedAmis !== undefined && !SHARED_AMIS_VALUES.includes(s.sharedAmis)) {
    throw invalid(
      'sharedAmis',
      `must be "keep" or "delete-when-unused", got ${JSON.stringify(s.sharedAmis)}`,
    );
  }
  if (s.includeShared && s.sharedAmis === 'delete-when-unused') {
    throw invalid(
      'sharedAmis',
      '"delete-when-unused" cannot be combined with includeShared (which asks no one)',
    );
  }
  if (typeof s.checkOrphans !== 'boolean') throw invalid('checkOrphans', 'must be true or false');
  if (s.fromIds !== undefined) {
    assertStringList('fromIds', s.fromIds);
    for (const id of s.fromIds) {
      if (!AMI_ID.test(id)) throw invalid('fromIds', `entry "${id}" is not an AMI id`);
    }
  }
  return s;
}

function assertStringList(name: keyof PlanSettings, value: unknown): asserts value is string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length === 0)) {
    throw invalid(name, 'must be a list of non-empty strings');
  }
}
