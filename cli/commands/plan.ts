/** `amicleaner plan`: read-only. Prints what would be removed and why the rest is kept. */
import type { Command } from 'commander';
import type { CliDeps } from '../deps.ts';
import type { CliIo } from '../io.ts';
import { addPlanningOptions, type PlanningFlags, settingsFromFlags } from '../options.ts';
import { planAccount } from '../plan-account.ts';
import { planToJson, renderPlanReport } from '../report.ts';

export function registerPlanCommand(program: Command, io: CliIo, deps: CliDeps): void {
  addPlanningOptions(
    program
      .command('plan')
      .description('show what would be removed, and why the rest is kept (never deletes)'),
  )
    .option('--demo', "plan against the built-in simulated account (the blog post's 21 AMIs)", false)
    .action(async (flags: PlanningFlags & { demo: boolean }) => {
      const settings = settingsFromFlags(flags);
      const env = flags.demo ? deps.demoEnvironment('blog') : await deps.awsEnvironment(flags.region);
      if (!flags.json && io.stderrIsTty) io.err(`Retrieving AMIs in ${env.region} ...\n`);
      const plan = await planAccount(env.clients, settings, {
        region: env.region,
        now: () => new Date(),
        maxDeletionsPerRun: flags.maxDeletions,
      });
      io.out(
        flags.json
          ? `${JSON.stringify(planToJson(plan), null, 2)}\n`
          : renderPlanReport(plan, { fullReport: flags.fullReport, checkOrphans: flags.checkOrphans }),
      );
    });
}
