/**
 * What the commands connect to; tests swap these to watch the simulated account.
 * The defaults load their modules on first use: `amicleaner --version` and `--help` must not
 * pay for the SDK clients, dynalite or the simulator (see bench/cli-startup.ts).
 */
import type { AccountEnvironment } from './environment.ts';
import type { LedgerLocationOptions, OpenedLedger } from './ledger-location.ts';
import type { OrganizationEnvironment } from './organization-environment.ts';
import type { DemoScenario } from './scenarios.ts';
import type { CliTargets } from './target-options.ts';

export interface CliDeps {
  readonly awsEnvironment: (region: string | undefined) => Promise<AccountEnvironment>;
  readonly demoEnvironment: (scenario: DemoScenario) => AccountEnvironment | Promise<AccountEnvironment>;
  /** Optional so existing overrides stay valid; commands fall back to the real opener. */
  readonly openLedger?: (options: LedgerLocationOptions) => Promise<OpenedLedger>;
  /**
   * The caller's account and clients acting in each target (`--accounts`/`--ou`). Default: STS
   * and the member role with the caller's credentials (`organization-environment.ts`).
   */
  readonly organizationEnvironment?: (
    env: AccountEnvironment,
    targets: CliTargets,
  ) => Promise<OrganizationEnvironment>;
  /** Asks the `[y/N]` question of `run`; resolves undefined when stdin is closed. Default: stdin. */
  readonly readAnswer?: (question: string) => Promise<string | undefined>;
}

export const defaultCliDeps: CliDeps = {
  awsEnvironment: async (region) => (await import('./environment.ts')).awsEnvironment(region),
  demoEnvironment: async (scenario) => (await import('./environment.ts')).demoEnvironment(scenario),
  openLedger,
};

/** The ledger opener a command uses: the one in `deps`, else the real one, loaded on use. */
export async function openLedger(options: LedgerLocationOptions): Promise<OpenedLedger> {
  return (await import('./ledger-location.ts')).openLedger(options);
}
