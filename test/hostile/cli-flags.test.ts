/**
 * Hostile command lines for `amicleaner`: each must end with exit code 2 and exactly one line on
 * stderr that says what is wrong (no stack trace, no raw terminal control characters echoed back),
 * print nothing on stdout, and make no call that changes the (simulated) account.
 */
import { describe, expect, it } from 'vitest';
import { type DemoScenario, demoEnvironment } from '../../cli/environment.ts';
import { bufferIo } from '../../cli/io.ts';
import { main } from '../../cli/main.ts';
import { isMutatingCommand, type SimulatedAccount } from '../../cli/simulated-account/account.ts';
import { hostile } from './count.ts';

async function runCli(args: readonly string[]) {
  const io = bufferIo();
  const accounts: SimulatedAccount[] = [];
  const code = await main([...args], io, {
    awsEnvironment: () => Promise.reject(new Error('tests never reach a real account')),
    demoEnvironment: (scenario: DemoScenario) => {
      const env = demoEnvironment(scenario);
      if (env.simulated) accounts.push(env.simulated);
      return env;
    },
  });
  const mutations = accounts.flatMap((a) => a.calls.filter((c) => isMutatingCommand(c.command)));
  return { code, stdout: io.stdout(), stderr: io.stderr(), mutations };
}

const ESC = '\u001b';
const rows: readonly [string, readonly string[], RegExp][] = [
  ['an unknown command', ['purge', '--demo'], /unknown command 'purge'/],
  [
    'an --approvers entry that is no address',
    ['demo', '--yes', '--approvers', 'ada@example.com,not an address'],
    /--approvers: approver "not an address" is not an email address/,
  ],
  [
    'the same approver twice in --approvers',
    ['demo', '--yes', '--approvers', 'ada@example.com,ADA@example.com'],
    /--approvers: approver ada@example.com is listed twice/,
  ],
  [
    'more --required-approvals than --approvers',
    ['demo', '--yes', '--approvers', 'ada@example.com', '--required-approvals', '2'],
    /--required-approvals: requiredApprovals must be a whole number from 1 to the number of approvers \(1\)/,
  ],
  [
    '--required-approvals without --approvers',
    ['demo', '--yes', '--required-approvals', '2'],
    /--required-approvals needs --approvers/,
  ],
  ['an unknown option', ['plan', '--demo', '--delete-everything'], /unknown option '--delete-everything'/],
  ['an unknown option to run', ['run', '-f', '--all-regions'], /unknown option '--all-regions'/],
  [
    'a negative --keep-previous',
    ['plan', '--demo', '--keep-previous', '-1'],
    /--keep-previous must be a whole number/,
  ],
  [
    'a word for --keep-previous to run -f',
    ['run', '-f', '--keep-previous', 'two'],
    /--keep-previous must be a whole number/,
  ],
  [
    'a fractional --keep-previous',
    ['plan', '--demo', '--keep-previous', '1.5'],
    /--keep-previous must be a whole number/,
  ],
  ['a negative --ami-min-days', ['plan', '--demo', '--ami-min-days', '-3'], /--ami-min-days/],
  [
    'an unknown --mapping-key to run -f',
    ['run', '-f', '--mapping-key', 'owner'],
    /Allowed choices are tags, name/,
  ],
  [
    'a --from-ids entry that is no AMI id',
    ['plan', '--demo', '--from-ids', 'not-an-ami'],
    /is not an AMI id/,
  ],
  [
    'a --from-ids entry with shell in it',
    ['plan', '--demo', '--from-ids', 'ami-$(rm -rf ~)'],
    /is not an AMI id/,
  ],
  [
    'a --from-ids id the account does not own',
    ['plan', '--demo', '--from-ids', 'ami-0fffffffffffffff0'],
    /ami-0fffffffffffffff0/,
  ],
  [
    'an --ssm-path without a leading slash',
    ['plan', '--demo', '--ssm-path', 'amicleaner'],
    /must start with "\/"/,
  ],
  [
    '--max-deletions 0 to run -f',
    ['run', '-f', '--max-deletions', '0'],
    /--max-deletions must be at least 1/,
  ],
  [
    '--max-deletions in words',
    ['plan', '--demo', '--max-deletions', 'many'],
    /--max-deletions must be a whole number/,
  ],
  [
    '--approval-timeout 0 to the demo',
    ['demo', '--yes', '--approval-timeout', '0'],
    /--approval-timeout must be at least 1/,
  ],
  ['a --port that is a word', ['demo', '--yes', '--port', 'http'], /--port must be a whole number/],
  ['an unknown demo scenario', ['demo', '--scenario', 'huge'], /--scenario/],
  [
    'an ANSI escape as --keep-previous',
    ['plan', '--demo', '--keep-previous', `${ESC}[2J${ESC}[31m4`],
    /--keep-previous/,
  ],
  ['an ANSI escape as an option name', ['plan', '--demo', `--${ESC}[2Jx`], /unknown option/],
  [
    'an RTL override in a --from-ids entry',
    ['plan', '--demo', '--from-ids', 'ami-0123\u202e4567'],
    /is not an AMI id/,
  ],
  ['a history --limit of 0', ['history', '--limit', '0'], /--limit/],
  ['restore without --run', ['restore'], /--run/],
  ['a restore --run that is a path', ['restore', '--run', '../../etc'], /--run must be a run id/],
  [
    'a restore --ami that is no AMI id',
    ['restore', '--run', 'r1', '--ami', 'snap-0123456789abcdef0'],
    /--ami must be an AMI id/,
  ],
  [
    'an RTL override in a restore --ami',
    ['restore', '--run', 'r1', '--ami', 'ami-0123\u202e4567'],
    /--ami must be an AMI id/,
  ],
  [
    '--recycle-bin-days of 0',
    ['demo', '--yes', '--recycle-bin-days', '0'],
    /--recycle-bin-days must be at least 1/,
  ],
  [
    '--recycle-bin-days over a year',
    ['demo', '--yes', '--recycle-bin-days', '366'],
    /--recycle-bin-days must be a whole number of days from 1 to 365/,
  ],
  [
    'snapshot retention shorter than AMI retention',
    ['demo', '--yes', '--recycle-bin-days', '14', '--recycle-bin-snapshot-days', '7'],
    /--recycle-bin-snapshot-days \(7\) must be >= --recycle-bin-days \(14\)/,
  ],
  [
    '--recycle-bin-snapshot-days alone',
    ['demo', '--yes', '--recycle-bin-snapshot-days', '7'],
    /needs --recycle-bin-days/,
  ],
  ['demo --restore without retention', ['demo', '--yes', '--restore'], /--restore needs --recycle-bin-days/],
];

describe('hostile command lines', () => {
  it.each(rows)(hostile('CLI flags', '%s'), async (_what, args, message) => {
    // Act
    const { code, stdout, stderr, mutations } = await runCli(args);

    // Assess: exit 2, one clear line, nothing printed on stdout, nothing changed.
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr).toMatch(/^amicleaner: /);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr.trimEnd()).not.toMatch(/[\p{Cc}\p{Cf}]/u);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(mutations).toEqual([]);
  });
});
