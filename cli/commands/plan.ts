/** `amicleaner plan`: read-only. Prints what would be removed and why the rest is kept. */
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { PlanSettings } from '../../functions/core/settings.ts';
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
import { addTargetOptions, type CliTargets, type TargetFlags, targetsFromFlags } from '../target-options.ts';

interface PlanFlags extends PlanningFlags, TargetFlags {
  demo: boolean;
  scenario: DemoScenario;
}

export function registerPlanCommand(program: Command, io: CliIo, deps: CliDeps): void {
  addTargetOptions(
    addPlanningOptions(
      program
        .command('plan')
        .description('show what would be removed, and why the rest is kept (never deletes)'),
    ),
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
      const targets = targetsFromFlags(flags);
      if (targets) {
        if (flags.demo) {
          throw new InvalidArgumentError(
            '--accounts/--ou/--regions plan real accounts through the member role, not the simulated account (--demo)',
          );
        }
        await planOrganization(io, deps, flags, settings, targets);
        return;
      }
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

/** `plan` with targets: one plan per target, each under a header naming its account and region. */
async function planOrganization(
  io: CliIo,
  deps: CliDeps,
  flags: PlanFlags,
  settings: PlanSettings,
  targets: CliTargets,
): Promise<void> {
  const [{ planTargets }, { planToJson, renderPlanReport }] = await Promise.all([
    import('../plan-targets.ts'),
    import('../report.ts'),
  ]);
  const env = await deps.awsEnvironment(flags.region);
  const organization = await (deps.organizationEnvironment ?? defaultOrganizationEnvironment)(env, targets);
  if (!flags.json && io.stderrIsTty) io.err('Retrieving AMIs in every target ...\n');
  const plans = await planTargets(organization, settings, {
    now: () => new Date(),
    maxDeletionsPerRun: flags.maxDeletions,
  });
  if (flags.json) {
    const json = plans.map(({ target, plan }) => ({
      accountId: target.accountId,
      region: target.region,
      plan: planToJson(plan),
    }));
    io.out(`${JSON.stringify({ targets: json }, null, 2)}\n`);
    return;
  }
  const width = tableIo(io, flags).columns;
  for (const { target, plan } of plans) {
    io.out(`== account ${target.accountId} · ${target.region} ==\n`);
    io.out(renderPlanReport(plan, { fullReport: flags.fullReport, checkOrphans: flags.checkOrphans, width }));
  }
  io.out(
    'Each target was planned on its own: `run` also keeps AMIs that another target of the same region uses.\n',
  );
}

async function defaultOrganizationEnvironment(
  env: Parameters<NonNullable<CliDeps['organizationEnvironment']>>[0],
  targets: CliTargets,
) {
  return (await import('../organization-environment.ts')).organizationEnvironment(env, targets);
}
