/**
 * The README's deploy section, run as far as it can be without an AWS account: each command it
 * shows is one of the three we expect, the synth runs exactly as written (offline, cdk-nag on),
 * its template has every output the README's table names, and the same synth without an approval
 * email stops with the one line saying how to set it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { MISSING_APPROVAL_EMAIL } from '../infra/lib/context.ts';
import { REPO_ROOT } from './helpers/package-consumer.ts';

const exec = promisify(execFile);
const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const DEPLOY = README.slice(README.indexOf('3. **Deploy.**'), README.indexOf('### Command reference'));
const COMMANDS = [
  ...(DEPLOY.match(/```sh\n([\s\S]*?)```/)?.[1] ?? '').matchAll(/^\s*(npx [^#\n]*?)\s*(#.*)?$/gm),
].map((m) => (m[1] as string).split(/\s+/));
const OUTPUTS = [...DEPLOY.matchAll(/^\s*\| `(\w+)` \|/gm)].map((m) => m[1] as string);

const workDir = mkdtempSync(join(tmpdir(), 'ami-cleaner-readme-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function cdk(args: readonly string[], outdir: string) {
  return exec(args[0] as string, [...args.slice(1), '--output', outdir], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      CDK_DISABLE_VERSION_CHECK: '1',
      CDK_DISABLE_CLI_TELEMETRY: '1',
      CDK_HOME: workDir,
    },
    maxBuffer: 16 * 1024 * 1024,
  });
}

describe("the README's deploy section", () => {
  it('shows synth, bootstrap and deploy, the synth and the deploy with the approval email', () => {
    expect(COMMANDS.map((args) => args.slice(0, 3).join(' '))).toEqual([
      'npx cdk synth',
      'npx cdk bootstrap',
      'npx cdk deploy',
    ]);
    for (const args of [COMMANDS[0], COMMANDS[2]])
      expect(args?.join(' ')).toMatch(/-c approvalEmail=\S+@\S+/);
    expect(OUTPUTS).toEqual([
      'LedgerTableName',
      'StateMachineArn',
      'ApprovalTopicArn',
      'ExecutionsConsoleUrl',
    ]);
  });

  it('synthesizes offline as written, with every output the README lists', async () => {
    // Act
    const outdir = join(workDir, 'with-email');
    const { stderr } = await cdk(COMMANDS[0] as string[], outdir);

    // Assess
    const template = JSON.parse(readFileSync(join(outdir, 'AmiCleanerStack.template.json'), 'utf8'));
    expect(Object.keys(template.Outputs).sort()).toEqual([...OUTPUTS].sort());
    expect(stderr).not.toMatch(/Bundling asset|\.map\b|⚡/);
  }, 1_200_000);

  it('stops a synth without an approval email with the one line that says how to set it', async () => {
    // Prepare
    const withoutEmail = (COMMANDS[0] as string[]).filter(
      (arg, i, all) => arg !== '-c' && all[i - 1] !== '-c',
    );

    // Act
    const failure = await cdk(withoutEmail, join(workDir, 'without-email')).catch((error: unknown) => error);

    // Assess
    expect(failure).toMatchObject({ code: 1 });
    const stderr = (failure as { stderr: string }).stderr;
    expect(stderr).toContain(`${MISSING_APPROVAL_EMAIL}\n`);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, 300_000);
});
