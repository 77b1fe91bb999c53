/**
 * `amicleaner restore` in-process, against one simulated account (with the construct's Recycle
 * Bin rules) and one dynalite ledger shared by every invocation, as a real account and table are.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoEnvironment } from '../../cli/environment.ts';
import { bufferIo } from '../../cli/io.ts';
import { describeLocation } from '../../cli/ledger-location.ts';
import { type LocalLedger, startLocalLedger } from '../../cli/local-ledger.ts';
import { main } from '../../cli/main.ts';
import { isMutatingCommand } from '../../cli/simulated-account/account.ts';
import { RETAIN_TAG } from '../../functions/core/recycle-bin.ts';

/** One simulated account with the Recycle Bin rules and one ledger; its hooks make a run with retention on. */
function useRestoreFixture() {
  const env = demoEnvironment('rich');
  const account = env.simulated as NonNullable<typeof env.simulated>;
  let local: LocalLedger;
  let runId: string;

  const cli = async (args: string[]) => {
    const io = bufferIo();
    const code = await main(args, io, {
      awsEnvironment: async () => env,
      demoEnvironment: () => env,
      openLedger: async () => {
        const location = { type: 'local' as const, path: 'memory' };
        return { ledger: local.ledger, location, where: describeLocation(location), close: async () => {} };
      },
    });
    return { code, stdout: io.stdout(), stderr: io.stderr() };
  };
  const mutations = () => account.calls.filter((c) => isMutatingCommand(c.command)).length;

  beforeAll(async () => {
    local = await startLocalLedger();
    const tag = { key: RETAIN_TAG.key, value: RETAIN_TAG.value };
    account.recycleBin.addRule({ resourceType: 'EC2_IMAGE', tag, retentionDays: 7 });
    account.recycleBin.addRule({ resourceType: 'EBS_SNAPSHOT', tag, retentionDays: 7 });
    const run = await cli([
      'run',
      '-f',
      '--check-orphans',
      '--ssm-path',
      '/amicleaner',
      '--recycle-bin-days',
      '7',
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('Recycle Bin: deletions are tagged amicleaner:retain=recycle-bin');
    expect(run.stdout).toMatch(/the saving starts when the retention ends \(from \d{4}-\d\d-\d\d\)/);
    runId = (await local.ledger.listRuns())[0]?.runId as string;
  }, 120_000);

  afterAll(async () => {
    await local.stop();
  });
  return { account, cli, mutations, ledger: () => local.ledger, runId: () => runId };
}

describe('amicleaner restore', () => {
  const { account, cli, mutations, ledger, runId: currentRunId } = useRestoreFixture();
  const local = {
    get ledger() {
      return ledger();
    },
  };
  let runId = '';
  beforeAll(() => {
    runId = currentRunId();
  });

  it('--dry-run --json lists what it would restore and changes nothing', async () => {
    // Prepare
    const before = mutations();

    // Act
    const { code, stdout } = await cli(['restore', '--run', runId, '--dry-run', '--json']);

    // Assess
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ runId, dryRun: true, counts: { 'would-restore': 8 } });
    expect(mutations()).toBe(before);
  });

  it('--ami naming an AMI the run has no record of is bad input (exit 2), nothing restored', async () => {
    // Prepare
    const before = mutations();

    // Act
    const { code, stderr } = await cli(['restore', '--run', runId, '--ami', 'ami-0123456789abcdef0']);

    // Assess
    expect(code).toBe(2);
    expect(stderr).toMatch(/has no AMI ami-0123456789abcdef0/);
    expect(mutations()).toBe(before);
  });

  it('an unknown run is bad input (exit 2), and --json errors are JSON', async () => {
    // Act
    const { code, stderr } = await cli(['restore', '--run', 'no-such-run', '--json']);

    // Assess
    expect(code).toBe(2);
    expect(JSON.parse(stderr)).toMatchObject({
      error: { exitCode: 2, message: 'the ledger holds no run no-such-run' },
    });
  });

  it('restores the run (exit 0), records RESTORED, and a repeat says already restored', async () => {
    // Act
    const first = await cli(['restore', '--run', runId]);
    const again = await cli(['restore', '--run', runId, '--json']);

    // Assess
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`Restore of run ${runId} in eu-west-1:`);
    expect(first.stdout).toMatch(/RESTORED: 8/);
    const items = await local.ledger.listItems(runId);
    expect(items.filter((i) => i.status === 'RESTORED')).toHaveLength(8);
    for (const item of items.filter((i) => i.status === 'RESTORED' && i.kind === 'IMAGE')) {
      expect(account.images.has(item.id)).toBe(true);
    }
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).counts).toEqual({ refused: 8 });

    // And the report counts the restores
    const report = await cli(['report', '--json']);
    expect(JSON.parse(report.stdout).total.restored).toBe(8);
  });
});

describe('amicleaner restore, once a snapshot left the bin', () => {
  const { account, cli, ledger, runId: currentRunId } = useRestoreFixture();
  const local = {
    get ledger() {
      return ledger();
    },
  };
  let runId = '';
  beforeAll(() => {
    runId = currentRunId();
  });

  it('exits 1 and says why when a snapshot an AMI needs left the bin, restoring the rest', async () => {
    // Prepare: one deleted snapshot of one AMI is gone from the bin (as once its retention ended).
    const item = (await local.ledger.listItems(runId)).find(
      (i) => i.kind === 'IMAGE' && i.status === 'DONE' && (i.snapshots ?? []).length > 0,
    );
    const snapshotId = item?.snapshots?.[0]?.snapshotId as string;
    account.recycleBin.takeSnapshot(snapshotId);

    // Act
    const { code, stdout, stderr } = await cli(['restore', '--run', runId]);

    // Assess
    expect(code).toBe(1);
    expect(stderr).toMatch(/1 of 8 items of run .* could not be restored/);
    expect(stdout).toMatch(new RegExp(`${item?.id}.*not restored.*not-found: snapshot ${snapshotId}`, 's'));
    expect(stdout).toMatch(/RESTORED: 7/);
    expect(account.images.has(item?.id as string)).toBe(false);
  });
});
