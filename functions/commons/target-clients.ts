/**
 * The SDK clients of the account and region a run works on (core/run-target.ts): the hub's own
 * clients when the run has no target or its target is the hub's own account and region, else
 * clients that act in the target through the member role. Written once for every handler that
 * calls EC2, Auto Scaling or SSM, so no handler picks credentials by itself.
 *
 * Fail closed: a target other than the hub with no way to reach it configured is a
 * `TargetConfigurationError`, and the member role is assumed before anything else is called, so
 * a role that cannot be assumed fails as `AssumeRoleError` with nothing read or deleted.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { AwsClients } from '../adapters/clients.ts';
import { memberClients } from '../adapters/organization.ts';
import { executionAccountId, type RunPlace, runTarget } from '../core/run-target.ts';
import { DEFAULT_MEMBER_ROLE_NAME, type Target } from '../core/target.ts';
import type { RunContext } from '../core/workflow.ts';

/** Clients acting in `each` for run `runId` (session name `amicleaner-<runId>`); `roleName` overrides the configured one. */
export type MemberClientsFor<C = AwsClients> = (each: Target, runId: string, roleName?: string) => C;

/** What a handler that acts in a run's account needs. */
export interface TargetClientsDeps<C = AwsClients> {
  /** The hub's own clients (the function's credentials, its region). */
  readonly clients: C;
  /** The hub's region: the function's own. */
  readonly region: string;
  /** HUB_ACCOUNT_ID; default: the account of the run's execution ARN (the hub's, in AWS). */
  readonly hubAccountId?: string;
  /** Absent: this function works in the hub's own account and region only. */
  readonly memberClientsFor?: MemberClientsFor<C>;
}

export interface TargetClients<C = AwsClients> {
  readonly clients: C;
  /** The target's region (the inventory, the plan and every hash use it). */
  readonly region: string;
  readonly accountId: string;
  readonly target: Target;
  /** True when the clients act through the member role. */
  readonly viaMemberRole: boolean;
}

/** A target run reached a function that cannot act in that target. Nothing was called. */
export class TargetConfigurationError extends Error {
  override readonly name = 'TargetConfigurationError';
}

type RunOfTarget = RunPlace & Pick<RunContext, 'runId'>;

/** Whether the run works in the hub's own account and region (so on the hub's own clients and role). */
export function isHubTarget(
  deps: Pick<TargetClientsDeps<unknown>, 'region' | 'hubAccountId'>,
  run: RunPlace,
) {
  const each = runTarget(run, deps);
  const hubAccount = deps.hubAccountId ?? executionAccountId(run.executionArn);
  return each.accountId === hubAccount && each.region === deps.region;
}

/**
 * The clients for `run`'s target. Through the member role, credentials are resolved first: a
 * denied AssumeRole is thrown here, before any EC2, Auto Scaling or SSM call.
 */
export async function targetClients<C extends { readonly ec2: EC2Client }>(
  deps: TargetClientsDeps<C>,
  run: RunOfTarget,
  options: { readonly roleName?: string } = {},
): Promise<TargetClients<C>> {
  const each = runTarget(run, deps);
  if (isHubTarget(deps, run)) {
    return {
      clients: deps.clients,
      region: each.region,
      accountId: each.accountId,
      target: each,
      viaMemberRole: false,
    };
  }
  if (deps.memberClientsFor === undefined) {
    throw new TargetConfigurationError(
      `run ${run.runId} works on ${each.key}, but this function has no member role configured to act there; nothing was done`,
    );
  }
  const clients = deps.memberClientsFor(each, run.runId, options.roleName);
  await clients.ec2.config.credentials();
  return { clients, region: each.region, accountId: each.accountId, target: each, viaMemberRole: true };
}

/** The member role's name from `MEMBER_ROLE_NAME`, default `AmiCleanerMemberRole`. */
export function memberRoleNameFromEnv(): string {
  return process.env.MEMBER_ROLE_NAME || DEFAULT_MEMBER_ROLE_NAME;
}

/**
 * Clients kept per target and run. A container serves one run at a time, but Deregister reaches
 * every consumer of its region for each shared AMI: room for a 100-account organization's region
 * twice over, and the oldest entry goes first (never the whole map, which would assume every
 * consumer's role again for every AMI).
 */
export const MEMOIZED_TARGET_RUNS = 256;

/**
 * The Lambda entry points' `memberClientsFor`: `memberClients` of adapters/organization.ts with
 * STS in the hub's region (an opt-in region the hub has not enabled refuses STS), session name
 * `amicleaner-<runId>` (each member's CloudTrail says which run acted, so clients are never shared
 * across runs), memoized per target, run and role so one AssumeRole serves every call of a run.
 */
export function memberClientsFactory(options: {
  readonly hubRegion: string;
  readonly roleName: string;
  readonly make?: typeof memberClients;
}): MemberClientsFor {
  const made = new Map<string, AwsClients>();
  const make = options.make ?? memberClients;
  return (each, runId, roleName = options.roleName) => {
    const key = `${each.key}|${runId}|${roleName}`;
    let clients = made.get(key);
    if (clients !== undefined) {
      made.delete(key); // re-inserted below: the most recently used goes last
    } else {
      // A Map iterates in insertion order: the first key is the oldest.
      if (made.size >= MEMOIZED_TARGET_RUNS) made.delete(made.keys().next().value as string);
      clients = make(each, { roleName, sessionName: `amicleaner-${runId}`, stsRegion: options.hubRegion });
    }
    made.set(key, clients);
    return clients;
  };
}
