/**
 * `--accounts`, `--ou`, `--regions`, `--role-name` on `plan` and `run`: the construct's `targets`
 * from the command line, validated with the same rules (every problem at once, exit 2). Light:
 * no SDK here, so `--help` stays fast.
 */
import { type Command, InvalidArgumentError } from 'commander';
import {
  DEFAULT_MEMBER_ROLE_NAME,
  InvalidTargetError,
  type ValidTargetSelection,
  validateTargetSelection,
} from '../functions/core/target.ts';

export interface TargetFlags {
  accounts?: string[];
  ou?: string[];
  regions?: string[];
  roleName?: string;
}

/** What `plan` and `run` act on when targets are given: the selection and the member role's name. */
export interface CliTargets {
  readonly selection: ValidTargetSelection;
  readonly roleName: string;
}

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

export function addTargetOptions(command: Command): Command {
  return command
    .option(
      '--accounts <ids...>',
      'clean these accounts (12-digit ids) through the member role; with --regions',
    )
    .option(
      '--ou <ids...>',
      'clean every ACTIVE account under these OUs (ou-… or the root r-…), at any depth; the caller must be the management account or a delegated administrator of AWS Organizations',
    )
    .option('--regions <codes...>', 'the regions to clean in each selected account (with --accounts or --ou)')
    .option(
      '--role-name <name>',
      `the member role assumed in each account (default ${DEFAULT_MEMBER_ROLE_NAME}); it must trust the caller`,
    );
}

/**
 * The targets the flags select, or undefined when none of them is given. A bad selection is bad
 * input: every problem in one message, nothing partial.
 */
export function targetsFromFlags(flags: TargetFlags): CliTargets | undefined {
  const given = [flags.accounts, flags.ou, flags.regions].some((values) => values !== undefined);
  if (!given) {
    if (flags.roleName !== undefined) throw new InvalidArgumentError('--role-name needs --accounts or --ou');
    return undefined;
  }
  let selection: ValidTargetSelection;
  try {
    selection = validateTargetSelection({
      ...(flags.accounts ? { accounts: flags.accounts } : {}),
      ...(flags.ou ? { organizationalUnits: flags.ou } : {}),
      regions: flags.regions ?? [],
    });
  } catch (error) {
    if (error instanceof InvalidTargetError) {
      throw new InvalidArgumentError(
        `--accounts/--ou/--regions: ${error.message.replace(/^Invalid targets: /, '')}`,
      );
    }
    throw error;
  }
  const roleName = flags.roleName ?? DEFAULT_MEMBER_ROLE_NAME;
  if (!ROLE_NAME.test(roleName)) {
    throw new InvalidArgumentError(
      `--role-name must be an IAM role name ([A-Za-z0-9+=,.@_-], 1 to 64 characters), got ${JSON.stringify(roleName).slice(0, 70)}`,
    );
  }
  return { selection, roleName };
}
