/**
 * Habits carried over from aws-amicleaner, and the CLI's error contract: `-v`, bare
 * `amicleaner` is help, `--mapping-key name` needs `--mapping-values`, errors name the flag,
 * counts agree with their noun, and under `--json` an error is one JSON object on stderr.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CliDeps } from '../../cli/deps.ts';
import { demoEnvironment } from '../../cli/environment.ts';
import { bufferIo } from '../../cli/io.ts';
import { main } from '../../cli/main.ts';

const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

const demoOnly: CliDeps = {
  awsEnvironment: () => Promise.reject(new Error('these tests never reach a real account')),
  demoEnvironment: (scenario) => demoEnvironment(scenario),
};

async function runCli(args: string[]) {
  const io = bufferIo();
  const code = await main(args, io, demoOnly);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

describe('amicleaner habits from aws-amicleaner', () => {
  it.each([['-v'], ['--version']])('%s prints the package version and exits 0', async (flag) => {
    // Act
    const { code, stdout, stderr } = await runCli([flag]);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toBe(`${version}\n`);
    expect(stderr).toBe('');
  });

  it('bare amicleaner prints the same help as --help, on stdout, and exits 0', async () => {
    // Act
    const bare = await runCli([]);
    const help = await runCli(['--help']);

    // Assess
    expect(bare.code).toBe(0);
    expect(bare.stderr).toBe('');
    expect(bare.stdout).toContain('Usage: amicleaner');
    expect(bare.stdout).toMatch(/-v, --version/);
    expect(bare.stdout).toBe(help.stdout);
  });

  it('--mapping-key name without --mapping-values is an error, not a match on the default tag keys', async () => {
    // Act
    const { code, stdout, stderr } = await runCli(['plan', '--demo', '--mapping-key', 'name']);

    // Assess
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'amicleaner: --mapping-key name needs --mapping-values (the name substrings to group by)\n',
    );
  });

  it('--mapping-key name with --mapping-values plans', async () => {
    // Act
    const { code } = await runCli(['plan', '--demo', '--mapping-key', 'name', '--mapping-values', 'front']);

    // Assess
    expect(code).toBe(0);
  });

  it.each([
    [['--from-ids', 'ami-12345678', 'nope'], '--from-ids entry "nope" is not an AMI id'],
    [['--ssm-path', 'relative'], '--ssm-path entry "relative" must start with "/"'],
    [['--opt-out-tag', ''], '--opt-out-tag must be a non-empty string'],
    [['--mapping-values', ''], '--mapping-values must be a list of non-empty strings'],
    [['--excluded-mapping-values', ''], '--excluded-mapping-values must be a list of non-empty strings'],
  ])('%j names the flag, never the setting', async (flags, message) => {
    // Act
    const { code, stderr } = await runCli(['plan', '--demo', ...flags]);

    // Assess
    expect(code).toBe(2);
    expect(stderr).toBe(`amicleaner: ${message}\n`);
    expect(stderr).not.toMatch(/fromIds|ssmParameterPaths|optOutTagKey|mappingValues/);
  });
});

describe('amicleaner counts agree with their noun', () => {
  it('says "1 AMI with 1 snapshot" for a plan of one', async () => {
    // Prepare: a front AMI of the blog account (one 8 GiB snapshot each)
    const all = JSON.parse((await runCli(['plan', '--scenario', 'blog', '--json'])).stdout) as {
      groups: { name: string; candidates: { imageId: string; snapshotIds: string[] }[] }[];
    };
    const front = all.groups.find((g) => g.name === 'dev.front')?.candidates[0];
    expect(front?.snapshotIds).toHaveLength(1);

    // Act
    const { code, stdout } = await runCli(['plan', '--scenario', 'blog', '--from-ids', front?.imageId ?? '']);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toMatch(/: 1 AMI with 1 snapshot \(8 GiB\) in eu-west-1\n$/);
  });

  it('says "2 AMIs" and "1 more AMI deferred"', async () => {
    // Act: 20 would-be candidates, 19 may be checked
    const { code, stdout } = await runCli([
      'plan',
      '--scenario',
      'blog',
      '--keep-previous',
      '0',
      '--max-deletions',
      '19',
      '--check-orphans',
    ]);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain('1 more AMI deferred to a later run');
    expect(stdout).toMatch(/: 19 AMIs with \d+ snapshots \(\d+ GiB\), 0 orphan snapshots \(0 GiB\)/);
  });
});

describe('amicleaner errors under --json', () => {
  it.each([
    [['plan', '--demo', '--json', '--keep-previous', 'x'], /--keep-previous must be a whole number/],
    [['plan', '--json', '--demo', '--region', 'eu-west-1'], /'--demo' cannot be used with option '--region/],
    [['plan', '--demo', '--json', '--mapping-key', 'name'], /--mapping-key name needs --mapping-values/],
    [['history', '--json', '--limit', '0'], /--limit must be a whole number >= 1/],
  ])('%j is one JSON object on stderr, exit 2, nothing on stdout', async (args, message) => {
    // Act
    const { code, stdout, stderr } = await runCli(args);

    // Assess
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    const parsed = JSON.parse(stderr) as { error: { name: string; message: string; exitCode: number } };
    expect(parsed.error.message).toMatch(message);
    expect(parsed.error.exitCode).toBe(2);
    expect(parsed.error.message).not.toMatch(/^amicleaner:/);
  });

  it('stays plain text without --json', async () => {
    // Act
    const { stderr } = await runCli(['plan', '--demo', '--keep-previous', 'x']);

    // Assess
    expect(stderr).toMatch(/^amicleaner: .*--keep-previous must be a whole number/);
    expect(() => JSON.parse(stderr)).toThrow();
  });
});
