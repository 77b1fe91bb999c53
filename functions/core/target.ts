/**
 * A target is one AWS account in one region: the unit that owns a lock, a ledger partition, a
 * plan hash and a child execution. It is a validated value, never a loose string, and its `key`
 * is the one canonical spelling every other part uses (locks, ledger keys, plan hashes, execution
 * names), so two spellings of the same target can never get two locks.
 */
import { createHash } from 'node:crypto';

export interface Target {
  /** 12 ASCII digits. */
  readonly accountId: string;
  /** A region code such as `eu-west-1` or `us-gov-west-1`. */
  readonly region: string;
  /** `<accountId>-<region>`: safe in DynamoDB keys, S3 keys and Step Functions execution names. */
  readonly key: string;
}

/**
 * What the construct and the CLI accept: accounts and/or organizational units (resolved to
 * their ACTIVE accounts at run time, recursively), times regions.
 */
export interface TargetSelection {
  readonly accounts?: readonly string[];
  /** OU ids (`ou-…`) or the organization's root id (`r-…`, every account). */
  readonly organizationalUnits?: readonly string[];
  readonly regions: readonly string[];
}

/** A selection after validation: sorted, de-duplicated, every value checked. */
export interface ValidTargetSelection {
  readonly accounts: readonly string[];
  readonly organizationalUnits: readonly string[];
  readonly regions: readonly string[];
}

export class InvalidTargetError extends Error {
  override readonly name = 'InvalidTargetError';
}

// ASCII classes spelled out: `\d` would be the same today, but `[0-9]` says it (no Unicode digits).
const ACCOUNT_ID = /^[0-9]{12}$/;
/**
 * Every region code AWS has published has this shape: a two-letter area, an optional partition
 * marker (gov, iso, isob, isoe, isof), a direction, a number. A new direction word would need a
 * change here; accepting any text instead would let `../` or `#` into keys and names.
 */
const REGION =
  /^[a-z]{2}(-(gov|iso|isob|isoe|isof))?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-[0-9]{1,2}$/;
const ORGANIZATIONAL_UNIT = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
const ROOT = /^r-[0-9a-z]{4,32}$/;

/** The longest a region code matching REGION can be (`us-isob-northwest-10`). */
export const REGION_MAX_LENGTH = 20;
/** The longest `target.key` can be. */
export const TARGET_KEY_MAX_LENGTH = 12 + 1 + REGION_MAX_LENGTH;
/** Step Functions execution names: 1 to 80 characters. */
export const EXECUTION_NAME_MAX_LENGTH = 80;
/** Bounds on a selection, so a typo cannot fan out into thousands of child executions unseen. */
export const MAX_SELECTED_ACCOUNTS = 1000;
export const MAX_SELECTED_ORGANIZATIONAL_UNITS = 100;
export const MAX_SELECTED_REGIONS = 40;

/** A value quoted for an error message: escaped (no control characters) and short. */
function quoted(value: unknown): string {
  const text = JSON.stringify(typeof value === 'string' ? value : String(value)) ?? '""';
  return text.length > 42 ? `${text.slice(0, 40)}…"` : text;
}

export function isAccountId(value: unknown): value is string {
  return typeof value === 'string' && ACCOUNT_ID.test(value);
}

export function isRegion(value: unknown): value is string {
  return typeof value === 'string' && value.length <= REGION_MAX_LENGTH && REGION.test(value);
}

export function isOrganizationalUnitId(value: unknown): value is string {
  return typeof value === 'string' && (ORGANIZATIONAL_UNIT.test(value) || ROOT.test(value));
}

export function assertAccountId(value: unknown): string {
  if (!isAccountId(value))
    throw new InvalidTargetError(`Not an AWS account id (12 digits): ${quoted(value)}`);
  return value;
}

export function assertRegion(value: unknown): string {
  if (!isRegion(value)) throw new InvalidTargetError(`Not an AWS region code: ${quoted(value)}`);
  return value;
}

export function assertOrganizationalUnitId(value: unknown): string {
  if (!isOrganizationalUnitId(value)) {
    throw new InvalidTargetError(`Not an organizational unit id (ou-… or r-…): ${quoted(value)}`);
  }
  return value;
}

/** The one way to make a target: both parts validated, the key derived, the value frozen. */
export function target(accountId: unknown, region: unknown): Target {
  const account = assertAccountId(accountId);
  const regionCode = assertRegion(region);
  return Object.freeze({ accountId: account, region: regionCode, key: `${account}-${regionCode}` });
}

/** Parses a `target.key` (`123456789012-eu-west-1`) back into a target. */
export function parseTargetKey(key: unknown): Target {
  if (typeof key !== 'string' || key.length > TARGET_KEY_MAX_LENGTH || key[12] !== '-') {
    throw new InvalidTargetError(`Not a target key (<12-digit account>-<region>): ${quoted(key)}`);
  }
  return target(key.slice(0, 12), key.slice(13));
}

export function sameTarget(a: Target, b: Target): boolean {
  return a.accountId === b.accountId && a.region === b.region;
}

/** Canonical order (account, then region): the order plan hashes and fan-outs list targets in. */
export function compareTargets(a: Target, b: Target): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** Every account × every region, validated, de-duplicated, in canonical order. */
export function crossTargets(accountIds: readonly unknown[], regions: readonly unknown[]): Target[] {
  const byKey = new Map<string, Target>();
  for (const accountId of accountIds) {
    for (const region of regions) {
      const each = target(accountId, region);
      byKey.set(each.key, each);
    }
  }
  return [...byKey.values()].sort(compareTargets);
}

function checkedList(
  values: readonly unknown[] | undefined,
  what: string,
  max: number,
  check: (value: unknown) => string,
  problems: string[],
): string[] {
  if (values === undefined) return [];
  if (!Array.isArray(values)) {
    problems.push(`${what} must be a list`);
    return [];
  }
  const valid = new Set<string>();
  for (const value of values) {
    try {
      valid.add(check(value));
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (valid.size > max) problems.push(`At most ${max} ${what} (got ${valid.size})`);
  return [...valid].sort();
}

/**
 * Validates what a user selected. Every problem is reported at once (a list of 40 accounts with
 * two typos names both), and nothing partial is returned: a selection with one bad value is an
 * error, never a smaller selection.
 */
export function validateTargetSelection(selection: TargetSelection): ValidTargetSelection {
  const problems: string[] = [];
  const accounts = checkedList(
    selection.accounts,
    'accounts',
    MAX_SELECTED_ACCOUNTS,
    assertAccountId,
    problems,
  );
  const organizationalUnits = checkedList(
    selection.organizationalUnits,
    'organizational units',
    MAX_SELECTED_ORGANIZATIONAL_UNITS,
    assertOrganizationalUnitId,
    problems,
  );
  const regions = checkedList(selection.regions, 'regions', MAX_SELECTED_REGIONS, assertRegion, problems);
  const given = (values: readonly unknown[] | undefined): boolean => (values?.length ?? 0) > 0;
  if (!given(selection.accounts) && !given(selection.organizationalUnits)) {
    problems.push('Select at least one account or organizational unit');
  }
  if (!given(selection.regions)) problems.push('Select at least one region');
  if (problems.length > 0) throw new InvalidTargetError(`Invalid targets: ${problems.join('; ')}`);
  return { accounts, organizationalUnits, regions };
}

/**
 * A Step Functions execution name that starts with the target's key (so the console says which
 * account and region), then `suffix` with every character Step Functions forbids replaced by `-`.
 * Past `maxLength` (80) characters the suffix is cut and 8 hex digits of its hash appended, so two
 * long suffixes that share a prefix still give two names.
 */
export function targetExecutionName(
  each: Target,
  suffix: string,
  maxLength: number = EXECUTION_NAME_MAX_LENGTH,
): string {
  const safeSuffix = suffix.replace(/[^A-Za-z0-9_-]/g, '-');
  const name = `${each.key}-${safeSuffix}`;
  if (name.length <= maxLength) return name;
  const digest = createHash('sha256').update(suffix, 'utf8').digest('hex').slice(0, 8);
  return `${name.slice(0, maxLength - digest.length - 1)}-${digest}`;
}

/** The AWS partition a region belongs to, for ARNs (`arn:<partition>:iam::…`). */
export function partitionOf(region: string): string {
  assertRegion(region);
  if (region.startsWith('cn-')) return 'aws-cn';
  const marker = /^[a-z]{2}-(gov|iso|isob|isoe|isof)-/.exec(region)?.[1];
  switch (marker) {
    case 'gov':
      return 'aws-us-gov';
    case 'iso':
      return 'aws-iso';
    case 'isob':
      return 'aws-iso-b';
    case 'isoe':
      return 'aws-iso-e';
    case 'isof':
      return 'aws-iso-f';
    default:
      return 'aws';
  }
}

/** The member role's name in every target account: the hub, the CLI and the package's role all default to it. */
export const DEFAULT_MEMBER_ROLE_NAME = 'AmiCleanerMemberRole';
