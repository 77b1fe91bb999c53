/**
 * `--accounts`, `--ou`, `--regions`, `--role-name` on `plan` and `run`: bad selections are exit 2
 * with every problem at once, and `plan` reads each target through the member role of the
 * simulated organization, with the caller's credentials.
 */
import { describe, expect, it } from 'vitest';
import type { AccountEnvironment } from '../../cli/environment.ts';
import { bufferIo } from '../../cli/io.ts';
import { describeLocation } from '../../cli/ledger-location.ts';
import { type LocalLedger, startLocalLedger } from '../../cli/local-ledger.ts';
import { main } from '../../cli/main.ts';
import { organizationEnvironment } from '../../cli/organization-environment.ts';
import { organizationScenario, SimulatedOrganization } from '../../cli/simulated-account/index.ts';
import { createAwsClients } from '../../functions/adapters/clients.ts';

// The SDK checks an assumed role's Expiration against the real clock.
const START = new Date();
const EU = 'eu-west-1';
/** The caller: a person's role in the management account, which the member roles trust (AmiCleaner*). */
const callerRole = (account: string) => `arn:aws:iam::${account}:role/AmiCleanerOperator`;

function world() {
  const organization = new SimulatedOrganization({ seed: 'cli-targets' });
  const scenario = organizationScenario(organization, { now: START });
  const caller = organization.credentialsFor(callerRole(organization.managementAccountId));
  const clients = createAwsClients({ region: EU, maxAttempts: 1 });
  for (const client of Object.values(clients)) organization.attach(client, caller);
  const env: AccountEnvironment = { clients, region: EU };
  return { organization, scenario, env };
}

async function runCli(args: string[], w = world()) {
  const io = bufferIo();
  let local: LocalLedger | undefined;
  const code = await main(args, io, {
    openLedger: async () => {
      local = await startLocalLedger();
      const location = { type: 'local' as const, path: 'memory' };
      return { ledger: local.ledger, location, where: describeLocation(location), close: async () => {} };
    },
    awsEnvironment: async () => w.env,
    demoEnvironment: () => Promise.reject(new Error('not the demo')),
    organizationEnvironment: (env, targets) =>
      organizationEnvironment(env, targets, { plugins: [w.organization.plugin()] }),
  });
  const runs = local ? await local.ledger.listRuns({ limit: 50 }) : [];
  await local?.stop();
  return { code, stdout: io.stdout(), stderr: io.stderr(), runs, ...w };
}

interface PlanTargetsJson {
  targets: {
    accountId: string;
    region: string;
    plan: { region: string; groups: { candidates: { imageId: string }[] }[] };
  }[];
}

describe('amicleaner run with targets', () => {
  it('runs the organization workflow over every listed target with the caller credentials, one approval', async () => {
    // Prepare
    const w = world();
    const [golden, workloadA] = [w.scenario.golden.accountId, w.scenario.workloads[0]?.accountId as string];
    const before = [...w.organization.account(golden, EU).images.values()].map((i) => i.imageId);

    // Act
    const { code, stdout, runs, organization } = await runCli(
      ['run', '-f', '--mapping-values', 'Team', 'Role', '--accounts', golden, workloadA, '--regions', EU],
      w,
    );

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain('Organization run over 2 targets (account × region):');
    const parent = runs.find((r) => r.summary?.targets !== undefined);
    expect(parent?.status).toBe('COMPLETED');
    expect(parent?.summary?.targets?.map((t) => `${t.accountId}-${t.region}`)).toEqual(
      [`${golden}-${EU}`, `${workloadA}-${EU}`].sort(),
    );
    // Shared golden AMIs are kept (sharedAmis keep, the default); the workload's own old ones go.
    const after = new Set([...organization.account(golden, EU).images.values()].map((i) => i.imageId));
    expect(before.filter((id) => !after.has(id))).toEqual([]);
    // The workload's own oldest AMI is gone from its own account.
    const workload = w.scenario.workloads[0];
    const left = new Set([...organization.account(workloadA, EU).images.values()].map((i) => i.imageId));
    expect(workload?.ownImageIds.filter((id) => !left.has(id)).length).toBe(parent?.summary?.deregistered);
    expect(parent?.summary?.deregistered).toBeGreaterThan(0);
    const assumed = organization.calls.filter((call) => call.command === 'AssumeRole');
    expect(new Set(assumed.map((call) => call.input.RoleArn))).toEqual(
      new Set([golden, workloadA].map((a) => `arn:aws:iam::${a}:role/AmiCleanerMemberRole`)),
    );
  });
});

describe('amicleaner plan with targets', () => {
  it('plans every listed account in every listed region, through the member role', async () => {
    // Prepare
    const w = world();
    const [golden, workloadA] = [w.scenario.golden.accountId, w.scenario.workloads[0]?.accountId as string];

    // Act
    const { code, stdout, stderr, organization } = await runCli(
      [
        'plan',
        '--json',
        '--mapping-values',
        'Team',
        'Role',
        '--keep-previous',
        '1',
        '--accounts',
        workloadA,
        golden,
        '--regions',
        'us-east-1',
        EU,
      ],
      w,
    );

    // Assess
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const json = JSON.parse(stdout) as PlanTargetsJson;
    expect(json.targets.map((t) => `${t.accountId}-${t.region}`)).toEqual(
      [`${golden}-${EU}`, `${golden}-us-east-1`, `${workloadA}-${EU}`, `${workloadA}-us-east-1`].sort(),
    );
    for (const each of json.targets) expect(each.plan.region).toBe(each.region);
    // Each target's candidates are its own AMIs, read in its own account and region.
    const workload = w.scenario.workloads[0];
    const own = json.targets.find((t) => t.accountId === workloadA && t.region === workload?.region);
    const candidates = own?.plan.groups.flatMap((g) => g.candidates.map((c) => c.imageId)) ?? [];
    expect(candidates.length).toBeGreaterThan(0);
    for (const id of candidates) expect(workload?.ownImageIds).toContain(id);
    const assumed = organization.calls.filter((call) => call.command === 'AssumeRole');
    expect(new Set(assumed.map((call) => call.input.RoleArn))).toEqual(
      new Set([golden, workloadA].map((a) => `arn:aws:iam::${a}:role/AmiCleanerMemberRole`)),
    );
    for (const call of assumed)
      expect(String(call.input.RoleSessionName)).toMatch(/^amicleaner-cli-plan-\d+$/);
  });

  it('resolves OUs through AWS Organizations with the caller credentials, ACTIVE accounts only', async () => {
    // Prepare
    const w = world();

    // Act
    const { code, stdout, stderr } = await runCli(
      ['plan', '--json', '--ou', w.scenario.ous.workloads, '--regions', EU],
      w,
    );

    // Assess
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const accounts = (JSON.parse(stdout) as PlanTargetsJson).targets.map((t) => t.accountId);
    expect(accounts).toEqual(w.scenario.workloads.map((each) => each.accountId).sort());
    expect(accounts).not.toContain(w.scenario.suspendedAccountId);
  });

  it('prints one report per target under a header naming its account and region', async () => {
    // Prepare
    const w = world();
    const golden = w.scenario.golden.accountId;

    // Act
    const { code, stdout } = await runCli(['plan', '--accounts', golden, '--regions', EU], w);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain(`== account ${golden} · ${EU} ==`);
    expect(stdout).toContain('`run` also keeps AMIs that another target of the same region uses');
  });

  it('fails closed, exit 2, naming the account, when a member role cannot be assumed', async () => {
    // Prepare
    const w = world();
    const golden = w.scenario.golden.accountId;

    // Act
    const { code, stdout, stderr } = await runCli(
      ['plan', '--accounts', golden, '--regions', EU, '--role-name', 'NoSuchRole'],
      w,
    );

    // Assess
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`cannot plan account ${golden} in ${EU}`);
    expect(stderr).toContain('AccessDenied');
    expect(stderr).not.toMatch(/ASIA|AKIA|simulated-secret/);
  });

  it('fails closed, exit 2, when an OU cannot be listed', async () => {
    // Prepare
    const w = world();
    w.organization.deniedParents.add(w.scenario.ous.workloads);

    // Act
    const { code, stderr } = await runCli(['plan', '--ou', w.scenario.ous.workloads, '--regions', EU], w);

    // Assess
    expect(code).toBe(2);
    expect(stderr).toContain('cannot resolve the targets');
    expect(stderr).toContain(w.scenario.ous.workloads);
  });
});

describe('target flags as bad input', () => {
  it.each([
    [
      'every bad value at once',
      ['--accounts', '123', '12345678901x', '--regions', 'eu-west-1', 'mars-1'],
      [/Not an AWS account id \(12 digits\): "123"/, /"12345678901x"/, /Not an AWS region code: "mars-1"/],
    ],
    [
      'regions without accounts or OUs',
      ['--regions', 'eu-west-1'],
      [/Select at least one account or organizational unit/],
    ],
    ['accounts without regions', ['--accounts', '123456789012'], [/Select at least one region/]],
    [
      'an OU id of no known shape',
      ['--ou', 'ou-../x', '--regions', 'eu-west-1'],
      [/Not an organizational unit id/],
    ],
    ['a role name without targets', ['--role-name', 'X'], [/--role-name needs --accounts or --ou/]],
    [
      'a role name IAM refuses',
      ['--accounts', '123456789012', '--regions', 'eu-west-1', '--role-name', 'a/b'],
      [/--role-name must be an IAM role name/],
    ],
  ])('refuses %s with exit 2, on plan and on run, before any call', async (_what, flags, messages) => {
    for (const command of ['plan', 'run']) {
      // Prepare
      const w = world();

      // Act
      const { code, stderr, organization } = await runCli([command, ...flags], w);

      // Assess
      expect(code, command).toBe(2);
      for (const message of messages) expect(stderr, command).toMatch(message);
      expect(stderr.trim().split('\n'), command).toHaveLength(1);
      expect(organization.calls, command).toEqual([]);
    }
  });

  it('refuses targets with --demo: the simulated account is not an organization', async () => {
    // Act
    const { code, stderr } = await runCli(['plan', '--demo', '--accounts', '123456789012', '--regions', EU]);

    // Assess
    expect(code).toBe(2);
    expect(stderr).toContain('not the simulated account');
  });

  it('says in the help what --ou needs of the caller', async () => {
    // Act
    const { stdout } = await runCli(['plan', '--help']);

    // Assess
    expect(stdout.replace(/\s+/g, ' ')).toContain(
      'the caller must be the management account or a delegated administrator of AWS Organizations',
    );
    expect(stdout).toContain('--role-name <name>');
  });
});
