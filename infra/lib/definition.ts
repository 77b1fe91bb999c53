/**
 * Loads `statemachine/ami-cleaner.asl.json` (the run of one target), `statemachine/delete-batch.asl.json`
 * (its DeleteBatch children) and `statemachine/organization.asl.json` (the organization run, the
 * parent of one target run per target) and fills their placeholders. Pure Node (no CDK), so the
 * construct, the definition tests and the local runner all render the very same file the same way.
 *
 * The file must stay valid JSON for asl-validator and Workflow Studio, so numeric settings are
 * written as quoted placeholders (`"TimeoutSeconds": "${ApprovalTimeoutSeconds}"`). They are
 * rendered here as JSON numbers, at synth time: CloudFormation's DefinitionSubstitutions would
 * only ever produce the string "86400", which Step Functions rejects for TimeoutSeconds.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type OrganizationBudget, organizationHistoryBudget } from '../../functions/core/organization-run.ts';
import { type AslStates, type DeletionTreeBudget, historyBudget } from '../../functions/core/quotas.ts';

export const DEFINITION_PATH = fileURLToPath(
  new URL('../../statemachine/ami-cleaner.asl.json', import.meta.url),
);
/** The DeleteBatch child: one batch of the verified deletion set, started by the run with `.sync:2`. */
export const DELETE_BATCH_DEFINITION_PATH = fileURLToPath(
  new URL('../../statemachine/delete-batch.asl.json', import.meta.url),
);
/** The placeholder the run's definition uses for the DeleteBatch state machine's ARN. */
export const DELETE_BATCH_STATE_MACHINE_PLACEHOLDER = 'DeleteBatchStateMachineArn';
/** The organization run: one `.sync:2` target run per target and phase. Only with `targets`. */
export const ORGANIZATION_DEFINITION_PATH = fileURLToPath(
  new URL('../../statemachine/organization.asl.json', import.meta.url),
);
/** The placeholder the organization definition uses for the target run's state machine ARN. */
export const TARGET_STATE_MACHINE_PLACEHOLDER = 'TargetStateMachineArn';
/** Target children (and reference reads) at once, when the deployment does not say. */
export const DEFAULT_TARGET_MAX_CONCURRENCY = 10;

/** Placeholders that must render as JSON numbers. */
export const NUMERIC_PLACEHOLDERS = [
  'ApprovalTimeoutSeconds',
  'DeletionMaxConcurrency',
  'DeleteBatchMaxConcurrency',
  'ExecutionTimeoutSeconds',
  'TargetMaxConcurrency',
] as const;
export type NumericPlaceholder = (typeof NUMERIC_PLACEHOLDERS)[number];

const PLACEHOLDER = /\$\{([A-Za-z0-9]+)\}/g;

export function loadDefinitionTemplate(path: string = DEFINITION_PATH): string {
  return readFileSync(path, 'utf8');
}

/** Every `${Name}` in the template, sorted and de-duplicated. */
export function listPlaceholders(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string))].sort();
}

/**
 * Replaces each quoted numeric placeholder (the whole JSON string) by its number. Other
 * placeholders are left for `substituteStrings` or for CloudFormation's DefinitionSubstitutions.
 */
export function renderNumbers(
  template: string,
  numbers: Readonly<Record<NumericPlaceholder, number>>,
): string {
  let out = template;
  for (const name of NUMERIC_PLACEHOLDERS) {
    const value = numbers[name];
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`${name} must be a whole number >= 1, got ${JSON.stringify(value)}`);
    }
    out = out.replaceAll(`"\${${name}}"`, String(value));
  }
  if (NUMERIC_PLACEHOLDERS.some((name) => out.includes(`\${${name}}`))) {
    throw new Error('a numeric placeholder is used inside a longer string; write it as a whole JSON string');
  }
  return out;
}

/** Replaces string placeholders (e.g. function ARNs) inside JSON strings; every one must be given. */
export function substituteStrings(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for placeholder ${whole}`);
    // The value lands inside an existing JSON string.
    return JSON.stringify(value).slice(1, -1);
  });
}

export interface RenderedDefinitionValues {
  readonly approvalTimeoutSeconds: number;
  readonly deletionMaxConcurrency: number;
  /** DeleteBatch children running at once. @default 1 */
  readonly deleteBatchMaxConcurrency?: number;
  /** The whole execution's limit (the construct uses the lock TTL). @default approval timeout + 3 h */
  readonly executionTimeoutSeconds?: number;
  /** Target children of the organization run at once. @default DEFAULT_TARGET_MAX_CONCURRENCY */
  readonly targetMaxConcurrency?: number;
  /** By placeholder name, e.g. `{ AcquireLockFunctionArn: 'arn:aws:lambda:…' }`; state machine ARNs too. */
  readonly functionArns: Readonly<Record<string, string>>;
}

/** The numbers every definition file may use, from the values given. */
export function definitionNumbers(values: RenderedDefinitionValues): Record<NumericPlaceholder, number> {
  return {
    ApprovalTimeoutSeconds: values.approvalTimeoutSeconds,
    DeletionMaxConcurrency: values.deletionMaxConcurrency,
    DeleteBatchMaxConcurrency: values.deleteBatchMaxConcurrency ?? 1,
    ExecutionTimeoutSeconds: values.executionTimeoutSeconds ?? values.approvalTimeoutSeconds + 3 * 3600,
    TargetMaxConcurrency: values.targetMaxConcurrency ?? DEFAULT_TARGET_MAX_CONCURRENCY,
  };
}

/** The definition with every placeholder filled: what the local runner executes. */
export function renderDefinition(
  values: RenderedDefinitionValues,
  template = loadDefinitionTemplate(),
): string {
  return substituteStrings(renderNumbers(template, definitionNumbers(values)), values.functionArns);
}

/**
 * Worst-case history events of the run's execution and of its DeleteBatch children, derived from
 * their Retry lists. Placeholders are quoted strings, so the templates parse as they are.
 */
export function definitionHistoryBudget(
  template = loadDefinitionTemplate(),
  childTemplate = loadDefinitionTemplate(DELETE_BATCH_DEFINITION_PATH),
): DeletionTreeBudget {
  return {
    parent: historyBudget(JSON.parse(template) as AslStates),
    child: historyBudget(JSON.parse(childTemplate) as AslStates),
  };
}

/**
 * Worst-case history events of the organization run: fixed, plus one iteration of each of its
 * Maps per target (derived from its Retry lists, as the deletion tree's budget is).
 */
export function organizationDefinitionBudget(
  template = loadDefinitionTemplate(ORGANIZATION_DEFINITION_PATH),
): OrganizationBudget {
  return organizationHistoryBudget(JSON.parse(template) as AslStates);
}
