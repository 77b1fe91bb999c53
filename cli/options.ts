/**
 * The original amicleaner's planning flags, declared once and shared by `plan` and `run`, and
 * their translation into validated PlanSettings.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_MAX_DELETIONS_PER_RUN } from '../functions/core/quotas.ts';
import {
  DEFAULT_PLAN_SETTINGS,
  InvalidSettingsError,
  type MappingKey,
  type PlanSettings,
  resolvePlanSettings,
  SHARED_AMIS_VALUES,
  type SharedAmis,
} from '../functions/core/settings.ts';
import type { CliIo } from './io.ts';

export interface PlanningFlags {
  mappingKey: MappingKey;
  mappingValues: string[];
  excludedMappingValues: string[];
  keepPrevious: number;
  amiMinDays: number;
  fullReport: boolean;
  checkOrphans: boolean;
  fromIds?: string[];
  optOutTag: string;
  includeShared: boolean;
  sharedAmis: SharedAmis;
  ssmPath: string[];
  region?: string;
  json: boolean;
  maxDeletions: number;
  wide: boolean;
}

export function wholeNumber(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value))
      throw new InvalidArgumentError(`${flag} must be a whole number >= 0, got "${value}"`);
    return Number(value);
  };
}

/** Like `wholeNumber`, and at least 1. */
export function positive(flag: string) {
  const whole = wholeNumber(flag);
  return (value: string): number => {
    const n = whole(value);
    if (n < 1) throw new InvalidArgumentError(`${flag} must be at least 1`);
    return n;
  };
}

/** The per-run deletion cap's default: the construct's `maxDeletionsPerRun` default, written once in core. */
export const DEFAULT_MAX_DELETIONS = DEFAULT_MAX_DELETIONS_PER_RUN;

/**
 * `--max-deletions`: the per-run cap. `run` and `demo` defer what is over it; `plan` shows the
 * same deferral (only that many AMIs are checked for sharing, one DescribeImageAttribute each).
 */
export function addMaxDeletionsOption(command: Command): Command {
  return command.option(
    '--max-deletions <n>',
    'cap per run (AMIs + orphan snapshots); the rest is deferred to a later run',
    positive('--max-deletions'),
    DEFAULT_MAX_DELETIONS,
  );
}

/** `--wide`: tables keep every column at full width instead of fitting the terminal. */
export function addWideOption(command: Command): Command {
  return command.option('--wide', 'show every table column in full, whatever the terminal width', false);
}

/** The command's output: with `--wide`, tables have no width to fit. */
export function tableIo(io: CliIo, flags: { wide?: boolean }): CliIo {
  return flags.wide ? { ...io, columns: undefined } : io;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Adds the planning flags, with the original's defaults, to a command. */
export function addPlanningOptions(command: Command): Command {
  const planning = command
    .addOption(
      new Option('--mapping-key <key>', 'group AMIs by "tags" or by "name"')
        .choices(['tags', 'name'])
        .default(DEFAULT_PLAN_SETTINGS.mappingKey),
    )
    .option('--mapping-values <values...>', 'tag keys (in order) or name substrings', [
      ...DEFAULT_PLAN_SETTINGS.mappingValues,
    ])
    .option('--excluded-mapping-values <values...>', 'mapping values whose AMIs are never removed', [])
    .option(
      '--keep-previous <n>',
      'newest unused AMIs to keep in each group',
      wholeNumber('--keep-previous'),
      DEFAULT_PLAN_SETTINGS.keepPrevious,
    )
    .option(
      '--ami-min-days <days>',
      'keep AMIs younger than this many days (0: off)',
      wholeNumber('--ami-min-days'),
      0,
    )
    .option('--full-report', 'list the AMIs of every group', false)
    .option(
      '--check-orphans',
      'include orphan snapshots (CreateImage/CopyImage leftovers) in the plan',
      false,
    )
    .option(
      '--from-ids <ids...>',
      'only these AMIs may be removed (in-use and protected ones are still kept)',
    )
    .option('--opt-out-tag <key>', 'AMIs carrying this tag key are kept', DEFAULT_PLAN_SETTINGS.optOutTagKey)
    .option('--include-shared', 'also remove public AMIs and AMIs shared with other accounts', false)
    .addOption(
      new Option(
        '--shared-amis <mode>',
        'shared AMIs: keep them, or delete one when its usage report and every readable consumer account say nobody uses it',
      )
        .choices([...SHARED_AMIS_VALUES])
        .default(DEFAULT_PLAN_SETTINGS.sharedAmis),
    )
    .option('--ssm-path <path>', 'SSM parameter path whose AMI ids count as in use (repeatable)', collect, [])
    .option('--region <region>', 'AWS region (default: the SDK configuration)')
    .option('--json', 'print JSON only', false);
  return addWideOption(addMaxDeletionsOption(planning));
}

/** The flag that sets each setting, so every error names what the user typed. */
const FLAG_OF_SETTING: Readonly<Record<keyof PlanSettings, string>> = {
  mappingKey: '--mapping-key',
  mappingValues: '--mapping-values',
  excludedMappingValues: '--excluded-mapping-values',
  keepPrevious: '--keep-previous',
  minAgeDays: '--ami-min-days',
  optOutTagKey: '--opt-out-tag',
  includeShared: '--include-shared',
  sharedAmis: '--shared-amis',
  checkOrphans: '--check-orphans',
  ssmParameterPaths: '--ssm-path',
  fromIds: '--from-ids',
};

/**
 * Translates parsed flags into validated settings; a bad combination becomes a one-line error
 * naming the flag. `base` holds settings a demo scenario needs; flags given explicitly win.
 */
export function settingsFromFlags(
  flags: PlanningFlags,
  command: Command,
  base: Partial<PlanSettings> = {},
): PlanSettings {
  const given = (option: keyof PlanningFlags) => command.getOptionValueSource(option) !== 'default';
  if (flags.mappingKey === 'name' && !given('mappingValues')) {
    // As in aws-amicleaner: names are never matched against the default tag keys.
    throw new InvalidArgumentError(
      '--mapping-key name needs --mapping-values (the name substrings to group by)',
    );
  }
  try {
    return resolvePlanSettings({
      ...base,
      mappingKey: flags.mappingKey,
      mappingValues: flags.mappingValues,
      excludedMappingValues: flags.excludedMappingValues,
      keepPrevious: flags.keepPrevious,
      minAgeDays: flags.amiMinDays,
      optOutTagKey: flags.optOutTag,
      includeShared: flags.includeShared,
      sharedAmis: flags.sharedAmis,
      checkOrphans: flags.checkOrphans,
      ...(given('ssmPath') || base.ssmParameterPaths === undefined
        ? { ssmParameterPaths: flags.ssmPath }
        : {}),
      ...(flags.fromIds ? { fromIds: flags.fromIds } : {}),
    });
  } catch (error) {
    if (error instanceof InvalidSettingsError) throw new InvalidArgumentError(flagMessage(error));
    throw error;
  }
}

function flagMessage(error: InvalidSettingsError): string {
  if (error.setting === undefined || error.problem === undefined) return error.message;
  return `${FLAG_OF_SETTING[error.setting]} ${error.problem}`;
}
