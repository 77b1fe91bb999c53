import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryListJson, HistoryRunDetailJson } from '../../cli/commands/history.ts';
import type { CliDeps } from '../../cli/deps.ts';
import { bufferIo, type CliIo } from '../../cli/io.ts';
import {
  type LedgerLocationOptions,
  localLedgerPath,
  type OpenedLedger,
  openLedger,
} from '../../cli/ledger-location.ts';
import { type LocalLedger, startLocalLedger } from '../../cli/local-ledger.ts';
import { main } from '../../cli/main.ts';
import type { Ledger } from '../../functions/adapters/ledger/index.ts';
import { summariseRun } from '../../functions/finalize.ts';
import { runContext, smallPlan } from '../helpers/ledger-fixtures.ts';

const FIXTURE_WHERE = 'local store /fixture/.amicleaner/ledger';
const AMI_DONE = 'ami-0000000000000001';
const AMI_FAILED = 'ami-0000000000000002';
const AMI_IN_USE = 'ami-0000000000000003';
const ORPHAN = 'snap-00000000000000ff';

/** The deps every test starts from: no account may be reached by `history`. */
const noAccount: CliDeps = {
  awsEnvironment: () => Promise.reject(new Error('history never reads the account')),
  demoEnvironment: () => {
    throw new Error('history never reads the account');
  },
};

async function runCli(
  args: string[],
  deps: CliDeps,
  io: CliIo & { stdout(): string; stderr(): string } = bufferIo(),
) {
  const code = await main(args, io, deps);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

/** Deps whose ledger is `ledger`; records how the command opened and closed it. */
function fixtureDeps(ledger: Ledger) {
  const opens: LedgerLocationOptions[] = [];
  let closes = 0;
  const deps: CliDeps = {
    ...noAccount,
    openLedger: async (options): Promise<OpenedLedger> => {
      opens.push(options);
      return {
        ledger,
        location: { type: 'local', path: '/fixture/.amicleaner/ledger' },
        where: FIXTURE_WHERE,
        close: async () => {
          closes += 1;
        },
      };
    },
  };
  return { deps, opens, closes: () => closes };
}

/** Deps whose local store lives under `cwd` (the real opener, as `amicleaner` uses it). */
function storeDeps(cwd: string): CliDeps {
  return { ...noAccount, openLedger: (options) => openLedger({ ...options, cwd }) };
}

/** Table body rows, cells trimmed, for the rows whose first cell matches. */
function rows(stdout: string, first: RegExp): string[][] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    )
    .filter((cells) => first.test(cells[0] ?? ''));
}

/**
 * Five runs, written out of chronological order through the real Ledger API:
 * - run-a: approved by alice; one AMI done, one failed, one skipped in use, the orphan deleted;
 * - run-b: rejected by bob; run-c: failed before planning; run-d: skipped (locked); run-e: dry run.
 */
async function seedRuns(ledger: Ledger): Promise<void> {
  const runA = runContext({ runId: 'run-a', startedAt: '2026-05-01T10:00:00.000Z' });
  const plan = smallPlan();
  await ledger.putRun(runA);
  await ledger.recordPlan(runA, plan);
  await ledger.updateRun('run-a', { status: 'DELETING', approver: 'alice' });
  await ledger.markAllApproved('run-a', plan.planHash);
  await ledger.transition('run-a', 'IMAGE', AMI_DONE, {
    from: ['APPROVED'],
    to: 'DEREGISTERED',
    countAttempt: true,
    set: { deregisteredAt: '2026-05-01T10:05:00.000Z' },
  });
  await ledger.transition('run-a', 'IMAGE', AMI_DONE, {
    from: ['DEREGISTERED'],
    to: 'DONE',
    set: {
      snapshotsDeleted: 1,
      gibFreed: 8,
      snapshotResults: [
        { snapshotId: 'snap-0000000000000001a', sizeGiB: 8, outcome: 'deleted' },
        {
          snapshotId: 'snap-0000000000000001b',
          sizeGiB: 2,
          outcome: 'shared',
          detail: 'shared with ami-0abc',
        },
      ],
    },
  });
  await ledger.transition('run-a', 'IMAGE', AMI_FAILED, {
    from: ['APPROVED'],
    to: 'FAILED',
    countAttempt: true,
    error: 'UnauthorizedOperation: You are not authorized to perform this operation.',
  });
  await ledger.transition('run-a', 'IMAGE', AMI_IN_USE, {
    from: ['APPROVED'],
    to: 'SKIPPED_IN_USE',
    countAttempt: true,
    set: { detail: 'in use right before deregistering: instance i-0aaa (running)' },
  });
  await ledger.transition('run-a', 'SNAPSHOT', ORPHAN, {
    from: ['APPROVED'],
    to: 'DONE',
    countAttempt: true,
    set: { snapshotOutcome: 'deleted', snapshotsDeleted: 1, gibFreed: 30 },
  });
  await ledger.finalizeItems('run-a', 'COMPLETED');
  const summaryA = summariseRun({
    runId: 'run-a',
    outcome: 'APPROVED',
    items: await ledger.listItems('run-a'),
    pricePerGibMonth: 0.05,
    planHash: plan.planHash,
    approver: 'alice',
  });
  await ledger.updateRun('run-a', { status: summaryA.status, summary: summaryA });

  // Newest, written before the older ones: order must come from startedAt, not from writes.
  const runE = runContext({ runId: 'run-e', startedAt: '2026-05-05T10:00:00.000Z', dryRun: true });
  await ledger.putRun(runE);
  await ledger.recordPlan(runE, plan);
  await ledger.finalizeItems('run-e', 'DRY_RUN');
  const summaryE = summariseRun({
    runId: 'run-e',
    outcome: 'DRY_RUN',
    items: await ledger.listItems('run-e'),
    pricePerGibMonth: 0.05,
  });
  await ledger.updateRun('run-e', { status: 'DRY_RUN', summary: summaryE });

  const runB = runContext({ runId: 'run-b', startedAt: '2026-05-02T10:00:00.000Z', trigger: 'schedule' });
  await ledger.putRun(runB);
  await ledger.recordPlan(runB, plan);
  await ledger.finalizeItems('run-b', 'REJECTED');
  const summaryB = summariseRun({
    runId: 'run-b',
    outcome: 'REJECTED',
    items: await ledger.listItems('run-b'),
    pricePerGibMonth: 0.05,
    approver: 'bob',
  });
  await ledger.updateRun('run-b', { status: 'REJECTED', summary: summaryB });

  const runC = runContext({
    runId: 'run-c',
    startedAt: '2026-05-03T10:00:00.000Z',
    trigger: 'ami-available',
    triggerImageId: 'ami-0000000000000abc',
  });
  await ledger.putRun(runC);
  await ledger.updateRun('run-c', {
    status: 'FAILED',
    error: 'InventoryReadError: DescribeLaunchTemplateVersions stopped before its last page',
  });

  const runD = runContext({ runId: 'run-d', startedAt: '2026-05-04T10:00:00.000Z', trigger: 'schedule' });
  await ledger.putRun(runD, { status: 'SKIPPED_LOCKED' });
}

describe('amicleaner history on a filled ledger', () => {
  let local: LocalLedger;

  beforeAll(async () => {
    local = await startLocalLedger();
    await seedRuns(local.ledger);
  });

  afterAll(async () => {
    await local.stop();
  });

  it('lists runs newest first with their counts and the approver or the reason they ended', async () => {
    // Prepare
    const { deps, closes } = fixtureDeps(local.ledger);

    // Act
    const { code, stdout, stderr } = await runCli(['history'], deps);

    // Assess
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toContain(`Runs in ${FIXTURE_WHERE}, newest first:`);
    expect(rows(stdout, /^Run ID$/)[0]).toEqual([
      'Run ID',
      'Started at',
      'Trigger',
      'Status',
      'Candidates',
      'Deregistered',
      'Snapshots deleted',
      'Failed',
      'Deferred',
      'GiB freed',
      'Approver / ended',
    ]);
    const runs = rows(stdout, /^run-/);
    expect(runs.map((r) => r[0])).toEqual(['run-e', 'run-d', 'run-c', 'run-b', 'run-a']);
    const byId = Object.fromEntries(runs.map((r) => [r[0], r]));
    // 3 AMIs + 1 orphan proposed; 1 deregistered; 1 + 1 snapshots deleted; 8 + 30 GiB freed.
    expect(byId['run-a']).toEqual([
      'run-a',
      '2026-05-01T10:00:00Z',
      'manual',
      'COMPLETED_WITH_FAILURES',
      '4',
      '1',
      '2',
      '1',
      '0',
      '38',
      'approved by alice',
    ]);
    expect(byId['run-b']?.slice(2, 4)).toEqual(['schedule', 'REJECTED']);
    expect(byId['run-b']?.[10]).toBe('REJECTED by bob');
    expect(byId['run-c']?.[2]).toBe('ami-available (ami-0000000000000abc)');
    expect(byId['run-c']?.[10]).toMatch(/^FAILED: InventoryReadError: DescribeLaunchTemplateVersions/);
    // Long errors are cut in the overview, so the table stays readable; --json keeps them whole.
    expect(byId['run-c']?.[10]).toHaveLength(80);
    expect(byId['run-c']?.[10]?.endsWith('…')).toBe(true);
    // No summary was ever written for these: unknown counts, not zeros.
    expect(byId['run-c']?.slice(4, 10)).toEqual(['-', '-', '-', '-', '-', '-']);
    expect(byId['run-d']?.slice(3)).toEqual([
      'SKIPPED_LOCKED',
      '-',
      '-',
      '-',
      '-',
      '-',
      '-',
      expect.stringMatching(/^SKIPPED_LOCKED/),
    ]);
    expect(byId['run-e']?.[10]).toMatch(/^DRY_RUN/);
    expect(byId['run-e']?.[4]).toBe('4');
    expect(closes()).toBe(1);
  });

  it('lists no more runs than --limit, the newest ones', async () => {
    // Prepare
    const { deps } = fixtureDeps(local.ledger);

    // Act
    const { code, stdout } = await runCli(['history', '--limit', '2'], deps);

    // Assess
    expect(code).toBe(0);
    expect(rows(stdout, /^run-/).map((r) => r[0])).toEqual(['run-e', 'run-d']);
  });

  it('prints only JSON with stable field names under --json', async () => {
    // Prepare
    const { deps } = fixtureDeps(local.ledger);

    // Act
    const { code, stdout, stderr } = await runCli(['history', '--json'], deps);

    // Assess
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const out = JSON.parse(stdout) as HistoryListJson;
    expect(out.ledger).toEqual({ type: 'local', path: '/fixture/.amicleaner/ledger' });
    expect(out.runs.map((r) => r.runId)).toEqual(['run-e', 'run-d', 'run-c', 'run-b', 'run-a']);
    expect(out.runs.find((r) => r.runId === 'run-a')).toEqual({
      runId: 'run-a',
      startedAt: '2026-05-01T10:00:00.000Z',
      finishedAt: null,
      trigger: 'manual',
      triggerImageId: null,
      dryRun: false,
      status: 'COMPLETED_WITH_FAILURES',
      ending: 'approved by alice',
      approver: 'alice',
      error: null,
      planHash: 'a'.repeat(64),
      candidates: 4,
      deregistered: 1,
      snapshotsDeleted: 2,
      skippedInUse: 1,
      failed: 1,
      deferred: 0,
      gibFreed: 38,
      estimatedMonthlySavingUsd: 1.9,
    });
    const failed = out.runs.find((r) => r.runId === 'run-c');
    expect(failed?.error).toBe(
      'InventoryReadError: DescribeLaunchTemplateVersions stopped before its last page',
    );
    expect(failed?.candidates).toBeNull();
    expect(out.runs.find((r) => r.runId === 'run-b')?.approver).toBe('bob');
    // Every run carries the same keys, present or null.
    for (const run of out.runs) expect(Object.keys(run)).toEqual(Object.keys(out.runs[0] ?? {}));
  });

  it('lists every item of a run with its final status, reason, attempts and last error', async () => {
    // Prepare
    const { deps } = fixtureDeps(local.ledger);

    // Act
    const { code, stdout, stderr } = await runCli(['history', '--run', 'run-a'], deps);

    // Assess
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(rows(stdout, /^run-/).map((r) => r[0])).toEqual(['run-a']);
    expect(stdout).toContain(`Plan ${'a'.repeat(64)}`);
    expect(stdout).toContain('AMIs and snapshots (6):');
    const items = rows(stdout, /^(AMI|snapshot)$/);
    // What the run acted on comes first, kept AMIs last.
    expect(items.map((r) => [r[0], r[1], r[4]])).toEqual([
      ['AMI', 'ami-0000000000000002', 'FAILED'],
      ['AMI', 'ami-0000000000000001', 'DONE'],
      ['AMI', 'ami-0000000000000003', 'SKIPPED_IN_USE'],
      ['snapshot', ORPHAN, 'DONE'],
      ['AMI', 'ami-0000000000000008', 'KEPT'],
      ['AMI', 'ami-0000000000000009', 'KEPT'],
    ]);
    const byId = Object.fromEntries(items.map((r) => [r[1], r]));
    expect(byId[AMI_FAILED]?.slice(6)).toEqual([
      '1',
      'UnauthorizedOperation: You are not authorized to perform this operation.',
    ]);
    expect(byId[AMI_FAILED]?.[3]).toBe('dev.back');
    expect(byId[AMI_DONE]?.[5]).toBe(
      '1 snapshot deleted, 8 GiB freed; snap-0000000000000001b shared (shared with ami-0abc)',
    );
    expect(byId[AMI_IN_USE]?.[5]).toBe('in use right before deregistering: instance i-0aaa (running)');
    expect(byId[ORPHAN]?.[5]).toBe('orphan of ami-00000000000000ee; deleted, 30 GiB freed');
    expect(byId['ami-0000000000000008']?.[5]).toBe('in use: instance i-0123 (stopped)');
    expect(byId['ami-0000000000000009']?.[5]).toBe('keep-previous');
    expect(byId['ami-0000000000000009']?.slice(6)).toEqual(['0', '']);
  });

  it("shows a rejected run's items as REJECTED, with nothing attempted", async () => {
    // Prepare
    const { deps } = fixtureDeps(local.ledger);

    // Act
    const { code, stdout } = await runCli(['history', '--run', 'run-b'], deps);

    // Assess
    expect(code).toBe(0);
    const items = rows(stdout, /^(AMI|snapshot)$/);
    expect(items.filter((r) => r[4] !== 'KEPT').map((r) => [r[4], r[6]])).toEqual([
      ['REJECTED', '0'],
      ['REJECTED', '0'],
      ['REJECTED', '0'],
      ['REJECTED', '0'],
    ]);
  });

  it('says so when a run has no items', async () => {
    // Prepare
    const { deps } = fixtureDeps(local.ledger);

    // Act
    const { code, stdout } = await runCli(['history', '--run', 'run-d'], deps);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain('No AMIs or snapshots recorded for this run.');
    expect(rows(stdout, /^run-/)[0]?.[10]).toMatch(/^SKIPPED_LOCKED/);
  });

  it('prints one run and its items as JSON under --run --json', async () => {
    // Prepare
    const { deps } = fixtureDeps(local.ledger);

    // Act
    const { code, stdout, stderr } = await runCli(['history', '--run', 'run-a', '--json'], deps);

    // Assess
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const out = JSON.parse(stdout) as HistoryRunDetailJson;
    expect(Object.keys(out)).toEqual(['ledger', 'run', 'items']);
    expect(out.run.runId).toBe('run-a');
    expect(out.run.approver).toBe('alice');
    expect(out.items).toHaveLength(6);
    expect(out.items.find((i) => i.id === AMI_FAILED)).toEqual({
      kind: 'IMAGE',
      id: AMI_FAILED,
      name: `dev.back-${AMI_FAILED}`,
      group: 'dev.back',
      status: 'FAILED',
      reason: null,
      detail: '',
      attempts: 1,
      lastError: 'UnauthorizedOperation: You are not authorized to perform this operation.',
      sizeGiB: 10,
      gibFreed: null,
      sourceImageId: null,
      updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    const orphan = out.items.find((i) => i.id === ORPHAN);
    expect(orphan).toMatchObject({
      kind: 'SNAPSHOT',
      status: 'DONE',
      gibFreed: 30,
      sourceImageId: 'ami-00000000000000ee',
    });
    expect(out.items.find((i) => i.id === 'ami-0000000000000008')).toMatchObject({
      status: 'KEPT',
      reason: 'IN_USE',
      detail: 'in use: instance i-0123 (stopped)',
    });
  });

  it('rejects an unknown run id with one line and exit 2, and still closes the ledger', async () => {
    // Prepare
    const { deps, closes } = fixtureDeps(local.ledger);

    // Act
    const { code, stdout, stderr } = await runCli(['history', '--run', 'run-zzz'], deps);

    // Assess
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `amicleaner: no run "run-zzz" in ${FIXTURE_WHERE}; \`amicleaner history\` lists them\n`,
    );
    expect(closes()).toBe(1);
  });

  it('writes progress to stderr only on a terminal and never under --json', async () => {
    // Prepare
    const tty = () => ({ ...bufferIo(), stderrIsTty: true });
    const { deps } = fixtureDeps(local.ledger);

    // Act
    const table = await runCli(['history'], deps, tty());
    const json = await runCli(['history', '--json'], deps, tty());

    // Assess
    expect(table.stderr).toBe(`Reading the ledger in ${FIXTURE_WHERE} ...\n`);
    expect(table.stdout).not.toContain('Reading the ledger');
    expect(json.stderr).toBe('');
    expect(() => JSON.parse(json.stdout)).not.toThrow();
  });

  it('asks the opener for the table and region given, read-only', async () => {
    // Prepare
    const { deps, opens } = fixtureDeps(local.ledger);

    // Act
    await runCli(['history', '--ledger-table', 'audit', '--region', 'us-east-2'], deps);
    await runCli(['history'], deps);

    // Assess
    expect(opens).toEqual([
      { tableName: 'audit', region: 'us-east-2', create: false },
      { tableName: undefined, region: undefined, create: false },
    ]);
  });
});

describe('amicleaner history with bad input or an unavailable ledger', () => {
  it.each([
    [['--limit', '0'], /--limit must be a whole number >= 1, got "0"/],
    [['--limit', '-3'], /--limit must be a whole number >= 1, got "-3"/],
    [['--limit', 'ten'], /--limit must be a whole number >= 1, got "ten"/],
    [['--run', ''], /--run needs a value/],
    [['--since', 'yesterday'], /unknown option '--since'/],
  ])('%j exits 2 with one line and opens nothing', async (flags, message) => {
    // Prepare
    const { deps, opens } = fixtureDeps({} as Ledger);

    // Act
    const { code, stdout, stderr } = await runCli(['history', ...flags], deps);

    // Assess
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(opens).toEqual([]);
  });

  it('turns a failed ledger read into one line, exit 2, and closes the ledger', async () => {
    // Prepare
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    const { deps, closes } = fixtureDeps({ listRuns: () => Promise.reject(refused) } as unknown as Ledger);

    // Act
    const { code, stdout, stderr } = await runCli(['history'], deps);

    // Assess
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `amicleaner: cannot use the ledger in ${FIXTURE_WHERE}: endpoint unreachable (connect ECONNREFUSED 127.0.0.1:9)\n`,
    );
    expect(closes()).toBe(1);
  });
});

describe('amicleaner history on the local store under .amicleaner/', () => {
  let cwd: string;

  beforeAll(() => {
    cwd = mkdtempSync(join(tmpdir(), 'amicleaner-history-'));
  });

  afterAll(() => {
    rmSync(cwd, { recursive: true, force: true });
  });

  it('says no runs are recorded, exits 0, and creates nothing when the store does not exist', async () => {
    // Prepare
    const empty = mkdtempSync(join(tmpdir(), 'amicleaner-empty-'));

    try {
      // Act
      const { code, stdout, stderr } = await runCli(['history'], storeDeps(empty));

      // Assess
      expect(code).toBe(0);
      expect(stderr).toBe('');
      expect(stdout).toBe(`no runs recorded in local store ${join(empty, '.amicleaner', 'ledger')}\n`);
      expect(existsSync(join(empty, '.amicleaner'))).toBe(false);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('reads runs written by an earlier process, on every later invocation', async () => {
    // Prepare: a first "process" writes the store, then stops it.
    const writer = await startLocalLedger({ path: localLedgerPath(cwd) });
    await seedRuns(writer.ledger);
    await writer.stop();

    // Act
    const first = await runCli(['history', '--json'], storeDeps(cwd));
    const second = await runCli(['history', '--run', 'run-a', '--json'], storeDeps(cwd));

    // Assess
    expect(first.code).toBe(0);
    const list = JSON.parse(first.stdout) as HistoryListJson;
    expect(list.ledger).toEqual({ type: 'local', path: join(cwd, '.amicleaner', 'ledger') });
    expect(list.runs.map((r) => r.runId)).toEqual(['run-e', 'run-d', 'run-c', 'run-b', 'run-a']);
    expect(second.code).toBe(0);
    const detail = JSON.parse(second.stdout) as HistoryRunDetailJson;
    expect(detail.items.find((i) => i.id === AMI_FAILED)?.status).toBe('FAILED');
    // Closing released the store: no lock is left behind.
    expect(existsSync(`${localLedgerPath(cwd)}.lock`)).toBe(false);
  });

  it('refuses with one line, exit 2, while another opener holds the store', async () => {
    // Prepare
    const holder = await openLedger({ cwd });

    try {
      // Act
      const { code, stdout, stderr } = await runCli(['history'], storeDeps(cwd));

      // Assess
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toBe(
        `amicleaner: the local store ${localLedgerPath(cwd)} is open in this process; try again when it ends\n`,
      );
    } finally {
      await holder.close();
    }
  });

  it('creates .amicleaner/ with a .gitignore when a writer opens it first', async () => {
    // Prepare
    const fresh = mkdtempSync(join(tmpdir(), 'amicleaner-fresh-'));

    try {
      // Act
      const opened = await openLedger({ cwd: fresh });
      await opened.close();

      // Assess
      expect(existsSync(join(fresh, '.amicleaner', '.gitignore'))).toBe(true);
      expect(existsSync(localLedgerPath(fresh))).toBe(true);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});

describe('amicleaner history --ledger-table through AWS_ENDPOINT_URL', () => {
  let dynamo: LocalLedger;
  const savedEndpoint = process.env.AWS_ENDPOINT_URL;

  const savedKeys = [process.env.AWS_ACCESS_KEY_ID, process.env.AWS_SECRET_ACCESS_KEY];

  beforeAll(async () => {
    dynamo = await startLocalLedger();
    await seedRuns(dynamo.ledger);
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

  it('reads the named table at the endpoint the SDK configuration points to', async () => {
    // Prepare
    process.env.AWS_ENDPOINT_URL = dynamo.endpoint;

    // Act
    const { code, stdout, stderr } = await runCli(
      ['history', '--ledger-table', dynamo.tableName, '--region', 'eu-west-1', '--json'],
      noAccount,
    );

    // Assess
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as HistoryListJson;
    expect(out.ledger).toEqual({
      type: 'dynamodb',
      tableName: dynamo.tableName,
      region: 'eu-west-1',
      endpoint: dynamo.endpoint,
    });
    expect(out.runs.map((r) => r.runId)).toEqual(['run-e', 'run-d', 'run-c', 'run-b', 'run-a']);
  });

  it('reports a missing table in one line with exit 2', async () => {
    // Prepare
    process.env.AWS_ENDPOINT_URL = dynamo.endpoint;

    // Act
    const { code, stdout, stderr } = await runCli(
      ['history', '--ledger-table', 'no-such-table', '--region', 'eu-west-1'],
      noAccount,
    );

    // Assess
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `amicleaner: cannot use the ledger in DynamoDB table no-such-table (eu-west-1 at ${dynamo.endpoint}): table not found\n`,
    );
  });

  it('reports an unreachable endpoint in one line with exit 2', async () => {
    // Prepare: a port that was just free, so nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${port}`;

    // Act
    const { code, stdout, stderr } = await runCli(
      ['history', '--ledger-table', 'ledger', '--region', 'eu-west-1', '--run', 'run-a'],
      noAccount,
    );

    // Assess
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(
      /^amicleaner: cannot use the ledger in DynamoDB table ledger .*: endpoint unreachable/,
    );
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });
});
