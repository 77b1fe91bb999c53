import { afterEach, describe, expect, it } from 'vitest';
import { defaultCliDeps } from '../../cli/deps.ts';
import { type DemoScenario, demoEnvironment } from '../../cli/environment.ts';
import { bufferIo } from '../../cli/io.ts';
import { main } from '../../cli/main.ts';
import { isMutatingCommand, type SimulatedAccount } from '../../cli/simulated-account/account.ts';

/** Runs the CLI in-process against a fresh simulated account, keeping the account to inspect. */
async function runCli(args: string[]) {
  const io = bufferIo();
  let account: SimulatedAccount | undefined;
  const code = await main(args, io, {
    awsEnvironment: () => Promise.reject(new Error('tests never reach a real account')),
    demoEnvironment: (scenario: DemoScenario) => {
      const env = demoEnvironment(scenario);
      account = env.simulated;
      return env;
    },
  });
  return { code, stdout: io.stdout(), stderr: io.stderr(), account };
}

interface PlanJson {
  planHash: string;
  groups: {
    name: string;
    candidates: { imageId: string; name: string; snapshotIds: string[] }[];
    kept: { imageId: string; reason: string }[];
  }[];
  orphanSnapshots: { snapshotId: string; imageId: string }[];
}

async function planJson(args: string[]): Promise<PlanJson> {
  const { code, stdout, stderr } = await runCli(['plan', '--scenario', 'blog', '--json', ...args]);
  expect(stderr).toBe('');
  expect(code).toBe(0);
  return JSON.parse(stdout) as PlanJson;
}

function candidatesByGroup(plan: PlanJson): Record<string, number> {
  return Object.fromEntries(
    plan.groups.filter((g) => g.candidates.length > 0).map((g) => [g.name, g.candidates.length]),
  );
}

describe('amicleaner plan on the blog scenario', () => {
  it.each([
    { flags: [], perGroup: 1 },
    { flags: ['--keep-previous', '2'], perGroup: 3 },
    { flags: ['--keep-previous', '3'], perGroup: 2 },
  ])('gives the blog numbers with $flags', async ({ flags, perGroup }) => {
    // Act
    const plan = await planJson(flags);

    // Assess
    expect(candidatesByGroup(plan)).toEqual({
      'back.dev': perGroup,
      'back.prod': perGroup,
      'dev.front': perGroup,
      'front.prod': perGroup,
    });
    const allCandidates = plan.groups.flatMap((g) => g.candidates);
    expect(allCandidates.map((c) => c.name)).not.toContain('test-delete');
    expect(plan.groups.find((g) => g.name === 'no-tags (excluded)')?.kept).toHaveLength(1);
  });

  it('maps by name: front with keep-previous 8 leaves 2 candidates', async () => {
    // Act
    const plan = await planJson([
      '--mapping-key',
      'name',
      '--mapping-values',
      'front',
      '--keep-previous',
      '8',
    ]);

    // Assess
    expect(candidatesByGroup(plan)).toEqual({ front: 2 });
    expect(plan.groups.flatMap((g) => g.candidates).every((c) => c.name.startsWith('front-'))).toBe(true);
  });

  it('prints the original tables, with the full report per group', async () => {
    // Act
    const { code, stdout } = await runCli([
      'plan',
      '--scenario',
      'blog',
      '--full-report',
      '--keep-previous',
      '3',
    ]);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain('AMIs to be removed:');
    expect(stdout).toMatch(/\| Group name\s+\| candidates\s+\|/);
    expect(stdout).toMatch(/\| back\.dev\s+\| 2\s+\|/);
    expect(stdout).toMatch(/\| AMI ID\s+\| AMI Name\s+\| Creation Date\s+\|/);
    expect(stdout).toContain('test-delete');
    expect(stdout).toMatch(/AMIs kept \(13\)/);
  });

  it('never calls a mutating API', async () => {
    // Act
    const { code, account } = await runCli([
      'plan',
      '--scenario',
      'blog',
      '--check-orphans',
      '--keep-previous',
      '0',
    ]);

    // Assess
    expect(code).toBe(0);
    expect(account?.calls.length).toBeGreaterThan(0);
    expect(account?.calls.filter((c) => isMutatingCommand(c.command))).toEqual([]);
  });

  it('gives the same plan hash for the same account and a different one for other flags', async () => {
    // Act
    const a = await planJson([]);
    const b = await planJson([]);
    const c = await planJson(['--keep-previous', '2']);

    // Assess
    expect(a.planHash).toMatch(/^[0-9a-f]{64}$/);
    expect(b.planHash).toBe(a.planHash);
    expect(c.planHash).not.toBe(a.planHash);
  });

  it('lists the snapshots of each candidate in --json', async () => {
    // Act
    const plan = await planJson([]);

    // Assess
    for (const candidate of plan.groups.flatMap((g) => g.candidates)) {
      expect(candidate.imageId).toMatch(/^ami-[0-9a-f]{17}$/);
      expect(candidate.snapshotIds.length).toBeGreaterThan(0);
      for (const id of candidate.snapshotIds) expect(id).toMatch(/^snap-[0-9a-f]{17}$/);
    }
  });
});

describe('amicleaner plan --max-deletions', () => {
  it('checks sharing for the oldest n only: n candidates, the rest kept MAX_DELETIONS_PER_RUN', async () => {
    // Act
    const { code, stdout, account } = await runCli([
      'plan',
      '--scenario',
      'blog',
      '--keep-previous',
      '0',
      '--max-deletions',
      '3',
      '--json',
    ]);

    // Assess: the blog account has 20 tagged AMIs, 1 untagged
    expect(code).toBe(0);
    const plan = JSON.parse(stdout) as PlanJson;
    expect(plan.groups.flatMap((g) => g.candidates)).toHaveLength(3);
    const kept = plan.groups.flatMap((g) => g.kept);
    expect(kept.filter((k) => k.reason === 'MAX_DELETIONS_PER_RUN')).toHaveLength(17);
    expect(kept.filter((k) => k.reason !== 'MAX_DELETIONS_PER_RUN').map((k) => k.reason)).toEqual([
      'NO_MAPPING',
    ]);
    expect(account?.callsTo('DescribeImageAttribute')).toHaveLength(3);
  });

  it('shows the deferred AMIs in the report, not among those to be removed', async () => {
    // Act
    const { code, stdout } = await runCli([
      'plan',
      '--scenario',
      'blog',
      '--keep-previous',
      '0',
      '--max-deletions',
      '3',
    ]);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toMatch(/\| dev\.front\s+\| 3\s+\|/);
    expect(stdout).toContain('17 more AMIs deferred to a later run (over --max-deletions)');
    expect(stdout).toContain('AMIs kept (18): 17 deferred (over --max-deletions), 1 no mapping');
    expect(stdout).toContain('Plan ');
    expect(stdout).toMatch(/: 3 AMIs with 3 snapshots/);
  });

  it('checks every would-be candidate of the blog account under the default cap', async () => {
    // Act
    const plan = await planJson(['--keep-previous', '0']);

    // Assess
    expect(plan.groups.flatMap((g) => g.candidates)).toHaveLength(20);
    expect(plan.groups.flatMap((g) => g.kept).map((k) => k.reason)).not.toContain('MAX_DELETIONS_PER_RUN');
  });
});

describe('amicleaner plan with bad flags', () => {
  it.each([
    [['--keep-previous', '-1'], /--keep-previous must be a whole number/],
    [['--keep-previous', 'two'], /--keep-previous must be a whole number/],
    [['--mapping-key', 'owner'], /Allowed choices are tags, name/],
    [['--bogus'], /unknown option '--bogus'/],
    [['--from-ids', 'not-an-ami'], /^amicleaner: --from-ids entry "not-an-ami" is not an AMI id$/m],
    [['--ssm-path', 'no-slash'], /must start with "\/"/],
    [['--max-deletions', '0'], /--max-deletions must be at least 1/],
    [['--max-deletions', 'many'], /--max-deletions must be a whole number/],
  ])('%j exits 2 with one line', async (flags, message) => {
    // Act
    const { code, stdout, stderr } = await runCli(['plan', '--scenario', 'blog', ...flags]);

    // Assess
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('amicleaner plan against an endpoint that does not answer', () => {
  const saved = process.env.AWS_ENDPOINT_URL;
  afterEach(() => {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL;
    else process.env.AWS_ENDPOINT_URL = saved;
  });

  it('fails closed with one line and exit 2, reaching the endpoint the SDK configuration names', async () => {
    // Prepare: nothing listens on port 1; the real account wiring is used, not the simulated one.
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:1';
    const io = bufferIo();

    // Act
    const code = await main(['plan', '--region', 'eu-west-1'], io, defaultCliDeps);

    // Assess
    expect(code).toBe(2);
    expect(io.stdout()).toBe('');
    expect(io.stderr()).toMatch(/^amicleaner: inventory incomplete: \S+ failed: ECONNREFUSED/);
    expect(io.stderr().trim().split('\n')).toHaveLength(1);
  });
});
