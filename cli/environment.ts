/**
 * Where a CLI command's AWS clients point: the account the SDK's standard configuration names
 * (region, profile, AWS_ENDPOINT_URL), or the built-in simulated account for demos.
 */
import { type AwsClients, createAwsClients } from '../functions/adapters/clients.ts';
import { AccountUnreachableError } from './errors.ts';
import { SimulatedAccount } from './simulated-account/account.ts';
import { blogScenario, richScenario } from './simulated-account/seeds.ts';

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

export type DemoScenario = 'blog' | 'rich';

/** A fresh simulated account, seeded, with real SDK clients attached to it. */
export function demoEnvironment(scenario: DemoScenario, now: Date = new Date()): AccountEnvironment {
  const account = new SimulatedAccount();
  if (scenario === 'blog') blogScenario(account, { now });
  else richScenario(account, { now });
  const clients = createAwsClients({
    region: account.region,
    credentials: { accessKeyId: 'AKIDSIMULATED', secretAccessKey: 'simulated' },
  });
  for (const client of Object.values(clients)) account.attach(client);
  return { clients, region: account.region, simulated: account };
}
