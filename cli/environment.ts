/**
 * Where a CLI command's AWS clients point: the account the SDK's standard configuration names
 * (region, profile, AWS_ENDPOINT_URL), or the built-in simulated account for demos.
 * Heavy (SDK clients, the simulator): commands load it when they run, never at start-up.
 */
import { type AwsClients, createAwsClients } from '../functions/adapters/clients.ts';
import { validateTargetSelection } from '../functions/core/target.ts';
import { AccountUnreachableError } from './errors.ts';
import type { LocalOrganization } from './local-runner/local-stack.ts';
import { type DemoScenario, GENERATED_IMAGES_PER_GROUP, generatedImageCount } from './scenarios.ts';
import { SimulatedAccount } from './simulated-account/account.ts';
import { SimulatedOrganization } from './simulated-account/organization.ts';
import { simulatedHub } from './simulated-account/organization-hub.ts';
import { organizationScenario } from './simulated-account/organization-seeds.ts';
import { blogScenario, generatedScenario, richScenario } from './simulated-account/seeds.ts';

export type { DemoScenario } from './scenarios.ts';

export interface AccountEnvironment {
  readonly clients: AwsClients;
  readonly region: string;
  /** Set when the commands talk to the simulated account. */
  readonly simulated?: SimulatedAccount;
  /** Set for targets (`--accounts`, `--ou`) and the organization demo: runs go over every target. */
  readonly organization?: LocalOrganization;
}

export async function awsEnvironment(region: string | undefined): Promise<AccountEnvironment> {
  const clients = createAwsClients(region ? { region } : {});
  let resolved: string | undefined;
  try {
    resolved = await clients.ec2.config.region();
  } catch {
    resolved = undefined;
  }
  if (!resolved) throw new AccountUnreachableError('no AWS region: pass --region or set AWS_REGION');
  return { clients, region: resolved };
}

/** A fresh simulated account, seeded, with real SDK clients attached to it. */
export function demoEnvironment(scenario: DemoScenario, now: Date = new Date()): AccountEnvironment {
  if (scenario === 'organization') return organizationDemoEnvironment(now);
  const account = new SimulatedAccount();
  seed(account, scenario, now);
  const clients = createAwsClients({
    region: account.region,
    credentials: { accessKeyId: 'AKIDSIMULATED', secretAccessKey: 'simulated' },
  });
  for (const client of Object.values(clients)) account.attach(client);
  return { clients, region: account.region, simulated: account };
}

function seed(account: SimulatedAccount, scenario: DemoScenario, now: Date): void {
  const images = generatedImageCount(scenario);
  if (images !== undefined) {
    const groups = Math.ceil(images / GENERATED_IMAGES_PER_GROUP);
    generatedScenario(account, { images, groups, now, seed: scenario });
  } else if (scenario === 'blog') blogScenario(account, { now });
  else richScenario(account, { now });
}

/** The hub of the simulated organization, in eu-west-1, over the Platform and Workloads OUs × both regions. */
function organizationDemoEnvironment(now: Date): AccountEnvironment {
  const organization = new SimulatedOrganization({ seed: 'demo-organization' });
  const scenario = organizationScenario(organization, { now });
  // Usage reports answer at once: the demo shows the decision, not Rotate's wait for it.
  organization.usageReports.readyAfterMs = 0;
  const region = scenario.regions[0];
  const hub = simulatedHub(organization, {
    region,
    roleName: scenario.roleName,
    selection: validateTargetSelection({
      organizationalUnits: [scenario.ous.platform, scenario.ous.workloads],
      regions: [...scenario.regions],
    }),
  });
  return {
    clients: hub.clients,
    region,
    simulated: organization.account(organization.managementAccountId, region),
    organization: hub.organization,
  };
}
