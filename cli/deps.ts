/** What the commands connect to; tests swap these to watch the simulated account. */
import {
  type AccountEnvironment,
  awsEnvironment,
  type DemoScenario,
  demoEnvironment,
} from './environment.ts';
import { type LedgerLocationOptions, type OpenedLedger, openLedger } from './ledger-location.ts';

export interface CliDeps {
  readonly awsEnvironment: (region: string | undefined) => Promise<AccountEnvironment>;
  readonly demoEnvironment: (scenario: DemoScenario) => AccountEnvironment;
  /** Optional so existing overrides stay valid; commands fall back to {@link openLedger}. */
  readonly openLedger?: (options: LedgerLocationOptions) => Promise<OpenedLedger>;
  /** Asks the `[y/N]` question of `run`; resolves undefined when stdin is closed. Default: stdin. */
  readonly readAnswer?: (question: string) => Promise<string | undefined>;
}

export const defaultCliDeps: CliDeps = {
  awsEnvironment,
  demoEnvironment: (scenario) => demoEnvironment(scenario),
  openLedger,
};
