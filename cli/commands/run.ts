/**
 * `amicleaner run` (the workflow against the account the SDK configuration names) and
 * `amicleaner demo` (the same workflow on the built-in simulated account; `npm start`).
 * Both execute the deployed ASL file locally, every step on its real handler. The local
 * runner, the SDK and dynalite are loaded when a command runs, not when the CLI starts.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { checkRequiredApprovals, normalizeApprovers } from '../../functions/core/approvers.ts';
import {
  RETAIN_TAG,
  type RecycleBinRetention,
  validateRecycleBinRetention,
} from '../../functions/core/recycle-bin.ts';
import { DEFAULT_PLAN_SETTINGS, type PlanSettings } from '../../functions/core/settings.ts';
import { type CliDeps, openLedger } from '../deps.ts';
import type { AccountEnvironment } from '../environment.ts';
import { ledgerUnavailable } from '../errors.ts';
import type { CliIo } from '../io.ts';
import type { ApprovalMode } from '../local-runner/session.ts';
import {
  addMaxDeletionsOption,
  addPlanningOptions,
  addWideOption,
  type PlanningFlags,
  positive,
  settingsFromFlags,
  tableIo,
  wholeNumber,
} from '../options.ts';
import type { OrganizationEnvironment } from '../organization-environment.ts';
import {
  DEFAULT_SCENARIO,
  type DemoScenario,
  parseScenario,
  SCENARIO_DESCRIPTION,
  scenarioSettings,
} from '../scenarios.ts';
import { addTargetOptions, type TargetFlags, targetsFromFlags } from '../target-options.ts';

interface SessionFlags {
  json: boolean;
  wide: boolean;
  fullReport: boolean;
  port: number;
  approvalTimeout: number;
  maxDeletions: number;
  dryRun: boolean;
  ledgerTable?: string;
  region?: string;
  approvers?: string[];
  requiredApprovals?: number;
  recycleBinDays?: number;
  recycleBinSnapshotDays?: number;
}

export function registerRunCommands(program: Command, io: CliIo, deps: CliDeps): void {
  addTargetOptions(
    addSessionOptions(
      addPlanningOptions(
        program
          .command('run')
          .description('plan, ask for approval, then delete: the whole workflow, run from this machine'),
      ),
    ),
  )
    .option(
      '-f, --force-delete',
      'approve without asking (automation); still goes through the approval page',
      false,
    )
    .option('--approval-link', 'serve the approval page and wait for a click instead of asking y/N', false)
    .action(
      async (
        flags: PlanningFlags & SessionFlags & TargetFlags & { forceDelete: boolean; approvalLink: boolean },
        command: Command,
      ) => {
        const settings = settingsFromFlags(flags, command);
        const recycleBin = retentionFromFlags(flags);
        const targets = targetsFromFlags(flags);
        const env = await deps.awsEnvironment(flags.region);
        // Before the ledger is touched: an account that cannot be read starts no run at all.
        // With targets, the caller's identity is read first (each target is read through its role).
        const organization = targets
          ? await (
              deps.organizationEnvironment ??
              (async (e, t) => (await import('../organization-environment.ts')).organizationEnvironment(e, t))
            )(env, targets)
          : undefined;
        if (!organization) {
          const { probeAccount } = await import('../account-probe.ts');
          await probeAccount(env, settings);
        }
        const mode: ApprovalMode = flags.forceDelete ? 'yes' : flags.approvalLink ? 'link' : 'prompt';
        if (recycleBin && !flags.json) {
          io.err(
            `Recycle Bin: deletions are tagged ${RETAIN_TAG.key}=${RETAIN_TAG.value}; they are retained only if ` +
              `${env.region} has retention rules for that tag (the construct's recycleBin prop creates them).\n`,
          );
        }
        await session(io, deps, flags, {
          env,
          settings,
          mode,
          fullReport: flags.fullReport,
          ...(recycleBin ? { recycleBin } : {}),
          ...(organization ? { organization } : {}),
        });
      },
    );

  addWideOption(
    addMaxDeletionsOption(
      addSessionOptions(
        program
          .command('demo')
          .description('run the whole workflow on the built-in simulated account (what `npm start` runs)'),
      ),
    ),
  )
    .addOption(
      new Option('--scenario <name>', SCENARIO_DESCRIPTION)
        .argParser(parseScenario)
        .default(DEFAULT_SCENARIO),
    )
    .option('--yes', 'approve through the approval page without waiting for a person', false)
    .option('--json', 'print the run result and ledger items as JSON only', false)
    .option('--check-orphans', 'include orphan snapshots', true)
    .option('--no-check-orphans', 'leave orphan snapshots out of the plan')
    .option(
      '--restore',
      'after the run, restore what it deleted from the simulated Recycle Bin (needs --recycle-bin-days)',
      false,
    )
    .action(async (flags: DemoFlags) => {
      const recycleBin = retentionFromFlags(flags);
      if (flags.restore && !recycleBin) throw new InvalidArgumentError('--restore needs --recycle-bin-days');
      const env = await deps.demoEnvironment(flags.scenario);
      if (recycleBin) addSimulatedRules(env, recycleBin);
      const settings: PlanSettings = {
        ...DEFAULT_PLAN_SETTINGS,
        ...scenarioSettings(flags.scenario),
        checkOrphans: flags.checkOrphans,
      };
      await session(io, deps, flags, {
        env,
        settings,
        mode: flags.yes ? 'yes' : 'link',
        fullReport: true,
        ...(recycleBin ? { recycleBin } : {}),
        restoreAfter: flags.restore,
      });
    });
}

interface DemoFlags extends SessionFlags {
  scenario: DemoScenario;
  yes: boolean;
  checkOrphans: boolean;
  restore: boolean;
}

/** The rules the construct would create, in the simulated account: what the demo deletes goes to its bin. */
function addSimulatedRules(env: AccountEnvironment, retention: RecycleBinRetention): void {
  const tag = { key: RETAIN_TAG.key, value: RETAIN_TAG.value };
  env.simulated?.recycleBin.addRule({ resourceType: 'EC2_IMAGE', tag, retentionDays: retention.imageDays });
  env.simulated?.recycleBin.addRule({
    resourceType: 'EBS_SNAPSHOT',
    tag,
    retentionDays: retention.snapshotDays,
  });
}

function addSessionOptions(command: Command): Command {
  return command
    .option('--dry-run', 'plan and record only: no approval, no deletion', false)
    .option(
      '--port <port>',
      'port of the approval page on 127.0.0.1 (0: any free port)',
      wholeNumber('--port'),
      0,
    )
    .option(
      '--approval-timeout <minutes>',
      'minutes the approval link stays valid; then nothing is deleted',
      positive('--approval-timeout'),
      60,
    )
    .option('--ledger-table <name>', 'DynamoDB table for the ledger (default: local store in .amicleaner/)')
    .option(
      '--approvers <addresses>',
      "named approvers, comma-separated: each gets a personal link (the construct's approvers)",
      approverList,
    )
    .option(
      '--required-approvals <n>',
      'different approvers who must approve the same plan (needs --approvers)',
      positive('--required-approvals'),
    )
    .option(
      '--recycle-bin-days <days>',
      'tag what is deleted for the EC2 Recycle Bin, restorable this many days (1-365) with `amicleaner restore`',
      positive('--recycle-bin-days'),
    )
    .option(
      '--recycle-bin-snapshot-days <days>',
      'days deleted snapshots stay restorable (default and minimum: --recycle-bin-days)',
      positive('--recycle-bin-snapshot-days'),
    );
}

function approverList(value: string): string[] {
  try {
    return normalizeApprovers(value.split(','));
  } catch (error) {
    throw new InvalidArgumentError(`--approvers: ${(error as Error).message}`);
  }
}

/** `--required-approvals` against `--approvers`, as the construct checks them at synth. */
function quorumFlags(flags: SessionFlags): { approvers?: string[]; requiredApprovals?: number } {
  if (!flags.approvers) {
    if (flags.requiredApprovals !== undefined && flags.requiredApprovals !== 1)
      throw new InvalidArgumentError('--required-approvals needs --approvers');
    return {};
  }
  try {
    return {
      approvers: flags.approvers,
      requiredApprovals: checkRequiredApprovals(flags.requiredApprovals ?? 1, flags.approvers),
    };
  } catch (error) {
    throw new InvalidArgumentError(`--required-approvals: ${(error as Error).message}`);
  }
}

/** The retention the flags ask for; a bad combination is bad input (exit 2), before anything runs. */
function retentionFromFlags(flags: SessionFlags): RecycleBinRetention | undefined {
  if (flags.recycleBinDays === undefined) {
    if (flags.recycleBinSnapshotDays !== undefined)
      throw new InvalidArgumentError('--recycle-bin-snapshot-days needs --recycle-bin-days');
    return undefined;
  }
  try {
    return validateRecycleBinRetention(
      { imageDays: flags.recycleBinDays, snapshotDays: flags.recycleBinSnapshotDays },
      { image: '--recycle-bin-days', snapshot: '--recycle-bin-snapshot-days' },
    );
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

async function session(
  io: CliIo,
  deps: CliDeps,
  flags: SessionFlags,
  what: {
    env: AccountEnvironment;
    settings: PlanSettings;
    mode: ApprovalMode;
    fullReport: boolean;
    recycleBin?: RecycleBinRetention;
    /** `demo --restore`: restore the run's deletions right after it, on the same account. */
    restoreAfter?: boolean;
    organization?: OrganizationEnvironment;
  },
): Promise<void> {
  const quorum = quorumFlags(flags);
  const [{ userInfo }, { runLocalSession }] = await Promise.all([
    import('node:os'),
    import('../local-runner/session.ts'),
  ]);
  const opened = await (deps.openLedger ?? openLedger)({
    tableName: flags.ledgerTable,
    region: flags.region,
    create: true,
  });
  try {
    // One read before the run: an unreachable or missing ledger is a one-line exit 2 here,
    // rather than a failed execution that could not even record itself.
    await opened.ledger.listRuns({ limit: 1 }).catch((error: unknown) => {
      throw ledgerUnavailable(error, opened.where);
    });
    const result = await runLocalSession(tableIo(io, flags), {
      env: what.env,
      ledger: opened.ledger,
      settings: what.settings,
      approval: what.mode,
      dryRun: flags.dryRun,
      approvalTimeoutSeconds: flags.approvalTimeout * 60,
      maxDeletionsPerRun: flags.maxDeletions,
      port: flags.port,
      approver: `${userInfo().username} (CLI)`,
      ...quorum,
      json: flags.json,
      fullReport: what.fullReport,
      ...(deps.readAnswer ? { readAnswer: deps.readAnswer } : {}),
      ...(what.recycleBin ? { recycleBin: what.recycleBin } : {}),
      ...(what.organization ? { organization: what.organization } : {}),
    });
    if (what.restoreAfter) {
      const { restoreAndReport } = await import('./restore.ts');
      if (!flags.json) io.out('\n');
      await restoreAndReport(tableIo(io, flags), what.env, opened.ledger, opened.where, {
        runId: result.executionName,
        dryRun: false,
        json: flags.json,
      });
    }
  } finally {
    await opened.close();
  }
}
