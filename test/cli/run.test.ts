import { afterEach, describe, expect, it } from 'vitest';
import { defaultCliDeps } from '../../cli/deps.ts';
import { type DemoScenario, demoEnvironment } from '../../cli/environment.ts';
import { bufferIo } from '../../cli/io.ts';
import { describeLocation } from '../../cli/ledger-location.ts';
import { type LocalLedger, startLocalLedger } from '../../cli/local-ledger.ts';
import { main } from '../../cli/main.ts';
import type { SimulatedAccount } from '../../cli/simulated-account/account.ts';

/**
 * Runs `amicleaner run` / `demo` in-process: the "real account" is a simulated one, the ledger
 * an in-memory dynalite, and the y/N answer is scripted (undefined = stdin closed).
 */
async function runCli(args: string[], answer?: string) {
  const io = bufferIo();
  let account: SimulatedAccount | undefined;
  let local: LocalLedger | undefined;
  const questions: string[] = [];
  const environment = (scenario: DemoScenario) => {
    const env = demoEnvironment(scenario);
    account = env.simulated;
    return env;
  };
  const code = await main(args, io, {
    awsEnvironment: async () => environment('rich'),
    demoEnvironment: environment,
    openLedger: async () => {
      local = await startLocalLedger();
      const location = { type: 'local' as const, path: 'memory' };
      return { ledger: local.ledger, location, where: describeLocation(location), close: async () => {} };
    },
    readAnswer: async (question) => {
      questions.push(question);
      return answer;
    },
  });
  const runs = local ? await local.ledger.listRuns() : [];
  const items = runs[0] && local ? await local.ledger.listItems(runs[0].runId) : [];
  await local?.stop();
  if (!account) throw new Error('no account was created');
  return { code, stdout: io.stdout(), stderr: io.stderr(), account, runs, items, questions };
}

const deletions = (account: SimulatedAccount) =>
  account.mutatingCalls().filter((c) => c.command === 'DeregisterImage' || c.command === 'DeleteSnapshot');

describe('amicleaner demo (npm start)', () => {
  it('--yes approves through the page and prints what was removed and the summary', async () => {
    // Act
    const { code, stdout, stderr, runs, items } = await runCli(['demo', '--yes']);

    // Assess
    expect(stderr).toContain('Approving through the approval page');
    expect(code).toBe(0);
    expect(stdout).toContain('AMIs removed:');
    expect(stdout).toMatch(/\| Group name\s+\| removed\s+\|/);
    expect(stdout).toContain('Orphan snapshots removed:');
    expect(stdout).toMatch(/COMPLETED, approved by .+ \(CLI\)/);
    expect(stdout).toMatch(/AMIs deregistered: 6 {3}snapshots deleted: \d+/);
    expect(stdout).toMatch(/GiB freed: \d+ {3}estimated monthly saving: \$\d+\.\d\d/);
    expect(runs[0]?.status).toBe('COMPLETED');
    expect(items.filter((i) => i.status === 'DONE').length).toBeGreaterThan(0);
    expect(items.every((i) => ['DONE', 'KEPT'].includes(i.status))).toBe(true);
  });
});

describe('npm start: amicleaner demo --scenario organization', () => {
  it('runs one approval over every account and region and shows what was kept for another account', async () => {
    // Act
    const { code, stdout, runs } = await runCli(['demo', '--scenario', 'organization', '--yes']);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain('Organization run over 6 targets (account × region):');
    // One line per target: the golden-AMI account and both workload accounts, in both regions.
    for (const account of ['210987654321', '333333333333', '444444444444'])
      for (const region of ['eu-west-1', 'us-east-1'])
        expect(stdout).toMatch(new RegExp(`\\| ${account} \\| ${region} \\| (COMPLETED|NOTHING_TO_DELETE)`));
    expect(stdout).toContain('Kept because another account uses them');
    expect(stdout).toMatch(/IN_USE_BY_ACCOUNT: account 333333333333: instance/);
    expect(stdout).toMatch(/IN_USE_BY_ACCOUNT: account 444444444444: launch-template/);
    expect(stdout).toMatch(/COMPLETED, approved by .+ \(CLI\)/);
    const parent = runs.find((r) => r.summary?.targets !== undefined);
    expect(parent?.status).toBe('COMPLETED');
    expect(parent?.summary?.deregistered).toBeGreaterThan(0);
    // Every target run is a run of its own, finished, with the parent's id.
    const children = runs.filter((r) => r.parentRunId === parent?.runId);
    expect(children).toHaveLength(6);
    expect(children.every((r) => ['COMPLETED', 'NOTHING_TO_DELETE'].includes(r.status))).toBe(true);
  });
});

describe('amicleaner run', () => {
  it('asks the original question and deletes nothing when the answer is no', async () => {
    // Act
    const { code, stderr, account, runs, questions } = await runCli(['run', '--check-orphans'], 'n');

    // Assess
    expect(questions).toEqual([
      expect.stringMatching(
        /^Do you want to continue and remove \d+ AMIs and \d+ orphan snapshots \[y\/N\] \? : $/,
      ),
    ]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/was rejected: nothing was deleted/);
    expect(deletions(account)).toEqual([]);
    expect(runs[0]?.status).toBe('REJECTED');
  });

  it('treats a closed stdin as no', async () => {
    // Act
    const { code, stderr, account, runs } = await runCli(['run'], undefined);

    // Assess
    expect(code).toBe(1);
    expect(stderr).toContain('stdin closed');
    expect(deletions(account)).toEqual([]);
    expect(runs[0]?.status).toBe('REJECTED');
  });

  it('deletes after y, and records the approver', async () => {
    // Act
    const { code, account, runs } = await runCli(['run', '--keep-previous', '2'], 'y');

    // Assess
    expect(code).toBe(0);
    expect(runs[0]?.status).toBe('COMPLETED');
    expect(runs[0]?.approver).toMatch(/\(CLI\)$/);
    expect(deletions(account).some((c) => c.command === 'DeregisterImage')).toBe(true);
  });

  it('-f skips the question and deletes', async () => {
    // Act
    const { code, account, questions } = await runCli(['run', '-f']);

    // Assess
    expect(code).toBe(0);
    expect(questions).toEqual([]);
    expect(deletions(account).length).toBeGreaterThan(0);
  });

  it('--dry-run records the plan and never asks or deletes', async () => {
    // Act
    const { code, account, runs, items, questions } = await runCli(['run', '--dry-run', '-f']);

    // Assess
    expect(code).toBe(0);
    expect(questions).toEqual([]);
    expect(account.published).toEqual([]);
    expect(deletions(account)).toEqual([]);
    expect(runs[0]?.status).toBe('DRY_RUN');
    expect(items.some((i) => i.status === 'DRY_RUN')).toBe(true);
  });

  it('stops before running, with one line and exit 2, when the ledger table cannot be reached', async () => {
    // Prepare
    const saved = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    process.env.AWS_ENDPOINT_URL_DYNAMODB = 'http://127.0.0.1:1';
    const io = bufferIo();
    let account: SimulatedAccount | undefined;

    try {
      // Act
      const code = await main(['run', '-f', '--ledger-table', 'ledger', '--region', 'eu-west-1'], io, {
        awsEnvironment: async () => {
          const env = demoEnvironment('rich');
          account = env.simulated;
          return env;
        },
        demoEnvironment,
      });

      // Assess
      expect(code).toBe(2);
      expect(io.stderr()).toMatch(
        /^amicleaner: cannot use the ledger in DynamoDB table ledger .*unreachable/,
      );
      expect(io.stderr().trim().split('\n')).toHaveLength(1);
      // Only the account probe's reads ran; no run was started, nothing was changed.
      expect(account?.mutatingCalls() ?? []).toEqual([]);
      expect((account?.calls ?? []).map((c) => c.command).sort()).toEqual([
        'DescribeAutoScalingGroups',
        'DescribeImages',
      ]);
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
      else process.env.AWS_ENDPOINT_URL_DYNAMODB = saved;
    }
  });

  it.each([
    [['run', '--approval-timeout', '0'], /--approval-timeout must be at least 1/],
    [['run', '--port', 'http'], /--port must be a whole number/],
    [
      ['plan', '--scenario', 'organization'],
      /plan shows one account; for the organization run use `amicleaner demo --scenario organization --dry-run`/,
    ],
    [
      ['demo', '--scenario', 'huge'],
      /--scenario <name>' argument 'huge' is invalid. Choose rich, blog, organization or generated:<AMIs>/,
    ],
    [['run', '--max-deletions', '0'], /--max-deletions must be at least 1/],
    [['demo', '--max-deletions', '0'], /--max-deletions must be at least 1/],
  ])('%j exits 2 with one line', async (args, message) => {
    // Act
    const io = bufferIo();
    const code = await main(args, io);

    // Assess
    expect(code).toBe(2);
    expect(io.stderr()).toMatch(message);
    expect(io.stderr().trim().split('\n')).toHaveLength(1);
  });
});

describe('the demo is one scenario', () => {
  it('plan --demo shows the account npm start runs on: the same plan hash as demo --dry-run', async () => {
    // Prepare
    const demo = await runCli(['demo', '--dry-run']);
    const io = bufferIo();

    // Act
    const code = await main(['plan', '--demo', '--check-orphans', '--json'], io, {
      awsEnvironment: () => Promise.reject(new Error('plan --demo never reads a real account')),
      demoEnvironment,
    });

    // Assess
    expect(demo.code).toBe(0);
    expect(code).toBe(0);
    const plan = JSON.parse(io.stdout()) as { planHash: string; groups: { kept: { reason: string }[] }[] };
    expect(demo.runs[0]?.planHash).toMatch(/^[0-9a-f]{64}$/);
    expect(plan.planHash).toBe(demo.runs[0]?.planHash);
    // The rich account's SSM reference is read, as in the demo.
    const kept = plan.groups.flatMap((g) => g.kept);
    expect(kept.filter((k) => k.reason === 'IN_USE').length).toBeGreaterThan(0);
  });

  it.each([
    [['demo', '--dry-run', '--scenario', 'blog'], 21],
    [['demo', '--dry-run', '--scenario', 'generated:60'], 60],
  ])('%j seeds that account', async (args, images) => {
    // Act
    const { code, account } = await runCli(args);

    // Assess
    expect(code).toBe(0);
    expect(account.images.size).toBe(images);
  });

  it.each([
    [['plan', '--demo', '--region', 'us-east-1'], /option '--demo' cannot be used with option '--region/],
    [
      ['plan', '--scenario', 'blog', '--region', 'us-east-1'],
      /option '--demo' cannot be used with option '--region/,
    ],
    [['demo', '--region', 'us-east-1'], /unknown option '--region'/],
    [['plan', '--scenario', 'generated:0'], /generated:<AMIs> takes 1 to 200,000 AMIs/],
  ])('%j is refused rather than silently ignored', async (args, message) => {
    // Act
    const io = bufferIo();
    const code = await main(args, io);

    // Assess
    expect(code).toBe(2);
    expect(io.stdout()).toBe('');
    expect(io.stderr()).toMatch(message);
    expect(io.stderr().trim().split('\n')).toHaveLength(1);
  });
});

describe('amicleaner run against an account it cannot read', () => {
  const saved = { endpoint: process.env.AWS_ENDPOINT_URL };
  afterEach(() => {
    if (saved.endpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
    else process.env.AWS_ENDPOINT_URL = saved.endpoint;
  });

  /** The real account wiring; the ledger opener records whether the run got that far. */
  async function runAgainstRealWiring(args: string[]) {
    const io = bufferIo();
    let ledgerOpened = false;
    const code = await main(args, io, {
      ...defaultCliDeps,
      openLedger: async () => {
        ledgerOpened = true;
        throw new Error('the ledger must not be opened for an account that cannot be read');
      },
    });
    return { code, stdout: io.stdout(), stderr: io.stderr(), ledgerOpened };
  }

  it.each([
    ['an endpoint that does not answer', 'http://127.0.0.1:1', 'eu-west-1', /ECONNREFUSED/],
    ['a region that does not exist', undefined, 'xx-nowhere-9', /ENOTFOUND|EAI_AGAIN/],
  ])('stops before the run on %s: one line, exit 2, no run recorded', async (_, endpoint, region, cause) => {
    // Prepare
    if (endpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
    else process.env.AWS_ENDPOINT_URL = endpoint;

    // Act
    const { code, stdout, stderr, ledgerOpened } = await runAgainstRealWiring([
      'run',
      '-f',
      '--region',
      region,
    ]);

    // Assess
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(new RegExp(`^amicleaner: cannot read the account in ${region}: \\w+ failed: `));
    expect(stderr).toMatch(cause);
    expect(stderr).toMatch(/nothing was started\n$/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(ledgerOpened).toBe(false);
  });

  it('says so as one JSON object on stderr under --json', async () => {
    // Prepare
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:1';

    // Act
    const { code, stdout, stderr, ledgerOpened } = await runAgainstRealWiring([
      'run',
      '-f',
      '--json',
      '--region',
      'eu-west-1',
    ]);

    // Assess
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(JSON.parse(stderr)).toEqual({
      error: {
        name: 'AccountUnreachableError',
        message: expect.stringMatching(/^cannot read the account in eu-west-1: .*ECONNREFUSED/),
        exitCode: 2,
      },
    });
    expect(ledgerOpened).toBe(false);
  });
});
