/**
 * Where a CLI command's AWS clients point: the account the SDK's standard configuration names
 * (region, profile, AWS_ENDPOINT_URL), or the built-in simulated account for demos.
 * Heavy (SDK clients, the simulator): commands load it when they run, never at start-up.
 */
import { type AwsClients, createAwsClients } from '../functions/adapters/clients.ts';
import { AccountUnreachableError } from './errors.ts';
import { type DemoScenario, GENERATED_IMAGES_PER_GROUP, generatedImageCount } from './scenarios.ts';
import { SimulatedAccount } from './simulated-account/account.ts';
import { blogScenario, generatedScenario, richScenario } from './simulated-account/seeds.ts';

export type { DemoScenario } from './scenarios.ts';

export interface AccountEnvironment {
  readonly clients: AwsClients;
  readonly region: string;
  /** Set when the commands talk to the simulated account. */
  readonly simulated?: SimulatedAccount;
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
