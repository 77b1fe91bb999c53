/**
 * What `plan` and `run` need to act in other accounts from a laptop: the caller's own account
 * (STS GetCallerIdentity: the hub), the selected targets (OUs resolved through AWS Organizations
 * with the caller's credentials) and clients acting in each target through the member role,
 * assumed with the caller's credentials. Heavy (SDK clients): loaded when a command runs.
 */
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { Pluggable } from '@smithy/types';
import { type AwsClients, clientConfig } from '../functions/adapters/clients.ts';
import { memberClients, resolveTargets } from '../functions/adapters/organization.ts';
import { sameTarget, type Target, target } from '../functions/core/target.ts';
import type { AccountEnvironment } from './environment.ts';
import { AccountUnreachableError, explainAwsError } from './errors.ts';
import type { CliTargets } from './target-options.ts';

export interface OrganizationEnvironment {
  readonly targets: CliTargets;
  /** The caller's own account in the command's region: read with the caller's own clients. */
  readonly hub: Target;
  /** Every selected account (OUs' ACTIVE accounts included) × every selected region, in target order. */
  readonly resolveTargets: () => Promise<Target[]>;
  /** Clients acting in `each` through the member role, session `amicleaner-<runId>`; one set per target and run. */
  readonly memberClientsFor: (each: Target, runId: string) => AwsClients;
  /** The caller's own clients for the hub's own target, else `memberClientsFor`. */
  readonly clientsFor: (each: Target, runId: string) => AwsClients;
}

export interface OrganizationEnvironmentOptions {
  /** Middleware for every client made here (the simulated organization attaches through this). */
  readonly plugins?: readonly Pluggable<object, object>[];
}

export async function organizationEnvironment(
  env: AccountEnvironment,
  targets: CliTargets,
  options: OrganizationEnvironmentOptions = {},
): Promise<OrganizationEnvironment> {
  const credentials = env.clients.ec2.config.credentials;
  const config = { ...clientConfig({ region: env.region }), credentials };
  // biome-ignore lint/suspicious/noExplicitAny: every SDK client's middleware stack takes a plugin.
  const withPlugins = <C extends { middlewareStack: { use: (plugin: any) => void } }>(client: C): C => {
    for (const plugin of options.plugins ?? []) client.middlewareStack.use(plugin);
    return client;
  };
  const sts = withPlugins(new STSClient(config));
  let accountId: string | undefined;
  try {
    accountId = (await sts.send(new GetCallerIdentityCommand({}))).Account;
  } catch (error) {
    throw new AccountUnreachableError(
      `cannot tell which account the credentials belong to (GetCallerIdentity): ${explainAwsError(error)}; nothing was started`,
      { cause: error },
    );
  } finally {
    sts.destroy();
  }
  const hub = target(accountId, env.region);
  const memo = new Map<string, AwsClients>();
  const memberClientsFor = (each: Target, runId: string): AwsClients => {
    const key = `${each.key} ${runId}`;
    const known = memo.get(key);
    if (known) return known;
    const clients = memberClients(each, {
      roleName: targets.roleName,
      // Says who acted, in each member's CloudTrail.
      sessionName: `amicleaner-${runId}`,
      sourceCredentials: credentials,
      stsRegion: env.region,
      ...(options.plugins ? { stsPlugins: options.plugins } : {}),
    });
    for (const client of Object.values(clients)) withPlugins(client);
    memo.set(key, clients);
    return clients;
  };
  return {
    targets,
    hub,
    resolveTargets: async () => {
      const organizations = withPlugins(new OrganizationsClient(config));
      try {
        return await resolveTargets(organizations, targets.selection);
      } finally {
        organizations.destroy();
      }
    },
    memberClientsFor,
    clientsFor: (each, runId) => (sameTarget(each, hub) ? env.clients : memberClientsFor(each, runId)),
  };
}
