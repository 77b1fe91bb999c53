/**
 * The hub's side of the simulated organization, wired as the deployed hub would be: its functions
 * sign as a role of the management account, act in another target only through the member role
 * (STS AssumeRole, checked against the role's trust), and list OUs through AWS Organizations. The
 * demo, the organization workflow tests and the benchmarks build their hub here, so all three run
 * the same wiring.
 */
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { type AwsClients, createAwsClients, DEFAULT_MAX_ATTEMPTS } from '../../functions/adapters/clients.ts';
import { memberClients, resolveTargets } from '../../functions/adapters/organization.ts';
import type { Target, ValidTargetSelection } from '../../functions/core/target.ts';
import type { LocalOrganization } from '../local-runner/local-stack.ts';
import type { SimCredentials, SimulatedOrganization } from './organization.ts';

/** The hub functions' role: the member roles of `organizationScenario` trust `AmiCleaner*` roles. */
export const SIMULATED_HUB_ROLE_NAME = 'AmiCleanerHub';

export interface SimulatedHub {
  /** The hub's own clients (management account, hub region). */
  readonly clients: AwsClients;
  readonly identity: SimCredentials;
  readonly organization: LocalOrganization;
}

export interface SimulatedHubOptions {
  readonly region: string;
  readonly selection: ValidTargetSelection;
  readonly roleName: string;
  /** The SDK's own attempts per call. Default: the production value. */
  readonly maxAttempts?: number;
}

export function simulatedHub(org: SimulatedOrganization, options: SimulatedHubOptions): SimulatedHub {
  const hubAccountId = org.managementAccountId;
  const identity = org.credentialsFor(`arn:aws:iam::${hubAccountId}:role/${SIMULATED_HUB_ROLE_NAME}`);
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const clients = createAwsClients({ region: options.region, maxAttempts });
  for (const client of Object.values(clients)) org.attach(client, identity);
  const organizations = org.attach(
    new OrganizationsClient({ region: options.region, maxAttempts }),
    identity,
  );
  // One client set per target and run, as the Lambda handlers memoize them.
  const memo = new Map<string, AwsClients>();
  const memberClientsFor = (each: Target, runId: string): AwsClients => {
    const key = `${each.key}/${runId}`;
    const known = memo.get(key);
    if (known) return known;
    const made = memberClients(each, {
      roleName: options.roleName,
      sessionName: `amicleaner-${runId}`,
      sourceCredentials: identity,
      stsPlugins: [org.plugin()],
      stsRegion: options.region,
    });
    for (const client of Object.values(made)) org.attach(client);
    memo.set(key, made);
    return made;
  };
  return {
    clients,
    identity,
    organization: {
      selection: options.selection,
      resolve: (selection) => resolveTargets(organizations, selection),
      hubAccountId,
      memberClientsFor,
      roleName: options.roleName,
    },
  };
}
