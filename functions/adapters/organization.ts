/**
 * The organization as the hub sees it: which accounts a selection of OUs holds right now, and
 * SDK clients that act inside one target through the member role.
 *
 * Resolution fails closed. An OU that cannot be listed (access denied, throttled past retries, a
 * repeated page token) is an `OrganizationReadError` naming that OU, never a smaller list: a
 * consumer account silently left out would make its references invisible, and a shared AMI that
 * account still runs could look unused.
 */
import {
  type Account,
  type OrganizationsClient,
  paginateListAccountsForParent,
  paginateListOrganizationalUnitsForParent,
} from '@aws-sdk/client-organizations';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { doesIdentityRequireRefresh, isIdentityExpired, memoizeIdentityProvider } from '@smithy/core';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, Pluggable } from '@smithy/types';
import {
  assertOrganizationalUnitId,
  crossTargets,
  isAccountId,
  partitionOf,
  type Target,
  type ValidTargetSelection,
} from '../core/target.ts';
import { type AwsClients, type AwsCredentials, createAwsClients } from './clients.ts';
import { mapWithConcurrency } from './concurrency.ts';
import { errorCode, InventoryReadError, isRetryableAwsError, safeErrorMessage } from './errors.ts';
import { readAllPages } from './inventory.ts';

/** Organizations returns at most 20 items a page for both list calls. */
export const ORGANIZATIONS_PAGE_SIZE = 20;
/**
 * Organizations allows a few requests a second per account; four OUs listed at once stays under
 * it, and the adaptive retry mode absorbs the rest.
 */
export const ORGANIZATIONS_CONCURRENCY = 4;
/** AWS nests OUs at most five levels below the root; deeper means a cycle or a broken answer. */
export const MAX_OU_DEPTH = 5;

/** One OU (or the root) could not be read completely: the whole resolution is void. */
export class OrganizationReadError extends Error {
  override readonly name = 'OrganizationReadError';
  /** The OU or root whose listing failed. */
  readonly parentId: string;
  readonly code: string;
  readonly retryable: boolean;

  constructor(parentId: string, operation: string, cause: unknown) {
    const code = cause instanceof InventoryReadError ? cause.code : errorCode(cause);
    const detail = cause instanceof InventoryReadError ? cause.cause : cause;
    super(`cannot list ${parentId} (${operation}): ${code}: ${safeErrorMessage(detail)}`, { cause });
    this.parentId = parentId;
    this.code = code;
    this.retryable = cause instanceof InventoryReadError ? cause.retryable : isRetryableAwsError(cause);
  }
}

export interface OrganizationAccount {
  readonly accountId: string;
  readonly name: string;
  /** The OU (or root) it was found under. */
  readonly parentId: string;
}

/** `State` replaces the deprecated `Status`; either must say ACTIVE. */
function isActive(account: Account): boolean {
  return (account.State ?? account.Status) === 'ACTIVE';
}

async function listAccounts(client: OrganizationsClient, parentId: string): Promise<OrganizationAccount[]> {
  const operation = 'ListAccountsForParent';
  const pages = await readAllPages(
    `${operation}(${parentId})`,
    paginateListAccountsForParent({ client, pageSize: ORGANIZATIONS_PAGE_SIZE }, { ParentId: parentId }),
  ).catch((error: unknown) => {
    throw new OrganizationReadError(parentId, operation, error);
  });
  const accounts: OrganizationAccount[] = [];
  for (const account of pages.flatMap((page) => page.Accounts ?? [])) {
    if (!isAccountId(account.Id)) {
      throw new OrganizationReadError(
        parentId,
        operation,
        new Error(`malformed account id ${JSON.stringify(account.Id)}`),
      );
    }
    if (isActive(account)) accounts.push({ accountId: account.Id, name: account.Name ?? '', parentId });
  }
  return accounts;
}

async function listChildOus(client: OrganizationsClient, parentId: string): Promise<string[]> {
  const operation = 'ListOrganizationalUnitsForParent';
  const pages = await readAllPages(
    `${operation}(${parentId})`,
    paginateListOrganizationalUnitsForParent(
      { client, pageSize: ORGANIZATIONS_PAGE_SIZE },
      { ParentId: parentId },
    ),
  ).catch((error: unknown) => {
    throw new OrganizationReadError(parentId, operation, error);
  });
  return pages.flatMap((page) =>
    (page.OrganizationalUnits ?? []).map((ou) => {
      try {
        return assertOrganizationalUnitId(ou.Id);
      } catch (error) {
        throw new OrganizationReadError(parentId, operation, error);
      }
    }),
  );
}

/**
 * Every ACTIVE account under the given OUs (or root), at any depth, each once, in account-id
 * order. OUs are walked level by level; an OU met twice (listed twice, or a cycle in a broken
 * answer) is read once.
 */
export async function resolveOrganizationalUnits(
  client: OrganizationsClient,
  parentIds: readonly string[],
): Promise<OrganizationAccount[]> {
  const seen = new Set<string>();
  const byAccount = new Map<string, OrganizationAccount>();
  let level = [...new Set(parentIds.map(assertOrganizationalUnitId))];
  for (let depth = 0; level.length > 0; depth++) {
    if (depth > MAX_OU_DEPTH) {
      throw new OrganizationReadError(
        level[0] as string,
        'ListOrganizationalUnitsForParent',
        new Error(`OUs nested deeper than ${MAX_OU_DEPTH} levels`),
      );
    }
    for (const id of level) seen.add(id);
    const results = await mapWithConcurrency(level, ORGANIZATIONS_CONCURRENCY, async (parentId) => ({
      accounts: await listAccounts(client, parentId),
      children: await listChildOus(client, parentId),
    }));
    for (const { accounts } of results) {
      for (const account of accounts)
        if (!byAccount.has(account.accountId)) byAccount.set(account.accountId, account);
    }
    level = [...new Set(results.flatMap((result) => result.children))].filter((id) => !seen.has(id));
  }
  return [...byAccount.values()].sort((a, b) => (a.accountId < b.accountId ? -1 : 1));
}

/** The targets of a validated selection: its accounts plus every ACTIVE account of its OUs, × its regions. */
export async function resolveTargets(
  client: OrganizationsClient,
  selection: ValidTargetSelection,
): Promise<Target[]> {
  const fromOus =
    selection.organizationalUnits.length === 0
      ? []
      : await resolveOrganizationalUnits(client, selection.organizationalUnits);
  const accountIds = [...selection.accounts, ...fromOus.map((account) => account.accountId)];
  return crossTargets(accountIds, selection.regions);
}

// ---------------------------------------------------------------------------------------------
// Acting inside a target: the member role
// ---------------------------------------------------------------------------------------------

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const SESSION_NAME_LENGTH = { min: 2, max: 64 } as const;

export interface MemberRoleOptions {
  /** The member role's name, the same in every target account (`AmiCleanerMemberRole` by default in infra). */
  readonly roleName: string;
  /**
   * Says who is acting, in every target's CloudTrail: e.g. `amicleaner-<runId>`. Characters STS
   * refuses become `-`; it is cut to 64.
   */
  readonly sessionName: string;
  /** The hub's own identity; default: the SDK's default chain (the function's role in Lambda). */
  readonly sourceCredentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Default 3600 s, what a role allows unless its maximum session duration is raised. */
  readonly durationSeconds?: number;
  /**
   * Where STS is called. Default: the target's region. The hub should pass its own: an opt-in
   * region the hub account has not enabled refuses STS calls, while credentials from any
   * regional endpoint work in every region.
   */
  readonly stsRegion?: string;
  /** Middleware for the STS client (the simulated organization attaches through this). */
  readonly stsPlugins?: readonly Pluggable<object, object>[];
}

export class AssumeRoleError extends Error {
  override readonly name = 'AssumeRoleError';
  readonly targetKey: string;
  readonly roleArn: string;
  readonly code: string;
  readonly retryable: boolean;

  constructor(each: Target, roleArn: string, cause: unknown) {
    const code = errorCode(cause);
    super(`cannot assume ${roleArn} for ${each.key}: ${code}: ${safeErrorMessage(cause)}`, { cause });
    this.targetKey = each.key;
    this.roleArn = roleArn;
    this.code = code;
    this.retryable = isRetryableAwsError(cause);
  }
}

export function memberRoleArn(each: Target, roleName: string): string {
  if (!ROLE_NAME.test(roleName))
    throw new Error(`Not an IAM role name: ${JSON.stringify(roleName).slice(0, 70)}`);
  return `arn:${partitionOf(each.region)}:iam::${each.accountId}:role/${roleName}`;
}

/** A session name STS accepts (`[\w+=,.@-]`, 2 to 64 characters). */
export function roleSessionName(text: string): string {
  const safe = text.replace(/[^\w+=,.@-]/g, '-').slice(0, SESSION_NAME_LENGTH.max);
  return safe.length >= SESSION_NAME_LENGTH.min ? safe : `${safe}--`.slice(0, SESSION_NAME_LENGTH.min);
}

/**
 * Credentials for one target, through the member role. One AssumeRole serves every client of the
 * target (memoized, refreshed before expiry). The provider's errors name the target and the role
 * but carry no credential: STS never echoes one, and messages are masked all the same. No logger
 * is handed to STS, so nothing about the session is logged either.
 */
export function memberRoleCredentials(
  each: Target,
  options: MemberRoleOptions,
): AwsCredentialIdentityProvider {
  const roleArn = memberRoleArn(each, options.roleName);
  const assume = fromTemporaryCredentials({
    params: {
      RoleArn: roleArn,
      RoleSessionName: roleSessionName(options.sessionName),
      DurationSeconds: options.durationSeconds ?? 3600,
    },
    ...(options.sourceCredentials === undefined ? {} : { masterCredentials: options.sourceCredentials }),
    clientConfig: { region: options.stsRegion ?? each.region },
    ...(options.stsPlugins === undefined ? {} : { clientPlugins: [...options.stsPlugins] }),
  });
  const named: AwsCredentialIdentityProvider = async () => {
    try {
      return await assume();
    } catch (error) {
      throw new AssumeRoleError(each, roleArn, error);
    }
  };
  return memoizeIdentityProvider(
    named,
    isIdentityExpired,
    doesIdentityRequireRefresh,
  ) as AwsCredentialIdentityProvider;
}

/** EC2, Auto Scaling and SSM clients that act in `each` (its account, its region) through the member role. */
export function memberClients(each: Target, options: MemberRoleOptions): AwsClients {
  const credentials: AwsCredentials = memberRoleCredentials(each, options);
  return createAwsClients({ region: each.region, credentials });
}
