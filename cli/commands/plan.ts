/** `amicleaner plan`: read-only. Prints what would be removed and why the rest is kept. */
import { type Command, Option } from 'commander';
import type { CliDeps } from '../deps.ts';
import type { CliIo } from '../io.ts';
import { addPlanningOptions, type PlanningFlags, settingsFromFlags, tableIo } from '../options.ts';
import {
  DEFAULT_SCENARIO,
  type DemoScenario,
  parseScenario,
  SCENARIO_DESCRIPTION,
  scenarioSettings,
} from '../scenarios.ts';

interface PlanFlags extends PlanningFlags {
  demo: boolean;
  scenario: DemoScenario;
}

export function registerPlanCommand(program: Command, io: CliIo, deps: CliDeps): void {
  addPlanningOptions(
    program
      .command('plan')
      .description('show what would be removed, and why the rest is kept (never deletes)'),
  )
    .addOption(
      new Option('--demo', 'plan against the built-in simulated account (the one `npm start` shows)')
        .default(false)
        // The simulated account has one region; a flag it would ignore is refused instead.
        .conflicts('region'),
    )
    .addOption(
      new Option('--scenario <name>', `${SCENARIO_DESCRIPTION}; implies --demo`)
        .argParser(parseScenario)
        .default(DEFAULT_SCENARIO)
        .implies({ demo: true }),
    )
    .action(async (flags: PlanFlags, command: Command) => {
      const settings = settingsFromFlags(flags, command, flags.demo ? scenarioSettings(flags.scenario) : {});
      const [{ planAccount }, { planToJson, renderPlanReport }] = await Promise.all([
        import('../plan-account.ts'),
        import('../report.ts'),
      ]);
      const env = flags.demo
        ? await deps.demoEnvironment(flags.scenario)
        : await deps.awsEnvironment(flags.region);
      if (env.organization) {
        // A plan of one account cannot show an organization run's plan; the demo's dry run does.
        command.error(
          'plan shows one account; for the organization run use `amicleaner demo --scenario organization --dry-run`',
          { exitCode: 2 },
        );
      }
      if (!flags.json && io.stderrIsTty) io.err(`Retrieving AMIs in ${env.region} ...\n`);
      const plan = await planAccount(env.clients, settings, {
        region: env.region,
        now: () => new Date(),
        maxDeletionsPerRun: flags.maxDeletions,
      });
      io.out(
        flags.json
          ? `${JSON.stringify(planToJson(plan), null, 2)}\n`
          : renderPlanReport(plan, {
              fullReport: flags.fullReport,
              checkOrphans: flags.checkOrphans,
              width: tableIo(io, flags).columns,
            }),
      );
    });
}
