/**
 * The built-in simulated accounts a demo can run on. One list, shared by `plan --demo`,
 * `demo` and `npm start`, so every way of showing the demo shows the same account. Light on
 * purpose (no simulator here): the commands import it to parse flags before anything loads.
 */
import { InvalidArgumentError } from 'commander';
import type { PlanSettings } from '../functions/core/settings.ts';

/**
 * `rich` (the default of `demo`): the blog post's 21 AMIs plus one AMI for every way an AMI can be
 * in use or protected, and orphan snapshots. `blog`: exactly the blog post's account.
 * `organization` (what `npm start` shows): a golden-AMI account and two workload accounts in two
 * regions, one organization run over all of them (cli/simulated-account/organization-seeds.ts). `generated:<AMIs>`: a generated account of that size, 20 AMIs per tag group (the
 * benchmarks' shape).
 */
export type DemoScenario = 'rich' | 'blog' | 'organization' | `generated:${number}`;

export const DEFAULT_SCENARIO: DemoScenario = 'rich';

/** Largest generated account: big enough for the benchmarks, small enough to seed in seconds. */
export const MAX_GENERATED_IMAGES = 200_000;

/** AMIs per tag group in a generated account, as in bench/planning.ts. */
export const GENERATED_IMAGES_PER_GROUP = 20;

/** The rich scenario keeps an SSM-referenced AMI under this path (see seeds.ts). */
const RICH_SSM_PATH = '/amicleaner';

const SCENARIO_HELP = 'rich, blog, organization or generated:<AMIs> (e.g. generated:1000)';

export const SCENARIO_DESCRIPTION = `simulated account: ${SCENARIO_HELP}`;

/** `--scenario` parser: a one-line error naming the flag for anything else. */
export function parseScenario(value: string): DemoScenario {
  if (value === 'rich' || value === 'blog' || value === 'organization') return value;
  const generated = /^generated:(\d+)$/.exec(value);
  const images = generated ? Number(generated[1]) : Number.NaN;
  if (Number.isSafeInteger(images) && images >= 1 && images <= MAX_GENERATED_IMAGES) {
    return `generated:${images}`;
  }
  // commander prefixes "option '--scenario <name>' argument 'x' is invalid."
  if (generated) {
    throw new InvalidArgumentError(
      `generated:<AMIs> takes 1 to ${MAX_GENERATED_IMAGES.toLocaleString('en-US')} AMIs.`,
    );
  }
  throw new InvalidArgumentError(`Choose ${SCENARIO_HELP}.`);
}

/** How many AMIs a `generated:<n>` scenario seeds; undefined for the fixed scenarios. */
export function generatedImageCount(scenario: DemoScenario): number | undefined {
  return scenario.startsWith('generated:') ? Number(scenario.slice('generated:'.length)) : undefined;
}

/**
 * Settings the scenario needs to show what it holds (the rich account's SSM reference counts
 * only if its path is read). Flags given on the command line win over these.
 */
export function scenarioSettings(scenario: DemoScenario): Partial<PlanSettings> {
  if (scenario === 'rich') return { ssmParameterPaths: [RICH_SSM_PATH] };
  // Its groups are tagged Team/Role; its golden AMIs are shared, and may go once nobody runs them.
  if (scenario === 'organization')
    return { mappingValues: ['Team', 'Role'], sharedAmis: 'delete-when-unused' };
  return {};
}
