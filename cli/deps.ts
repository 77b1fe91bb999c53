/** What the commands connect to; tests swap these to watch the simulated account. */
import { type AccountEnvironment, awsEnvironment, type DemoScenario, demoEnvironment } from './environment.ts';

export interface CliDeps {
  readonly awsEnvironment: (region: string | undefined) => Promise<AccountEnvironment>;
  readonly demoEnvironment: (scenario: DemoScenario) => AccountEnvironment;
}

export const defaultCliDeps: CliDeps = {
  awsEnvironment,
  demoEnvironment: (scenario) => demoEnvironment(scenario),
};
