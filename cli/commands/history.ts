/**
 * `amicleaner history`: read-only audit of past runs from the ledger (the local store under
 * `.amicleaner/`, or `--ledger-table` in DynamoDB). `--run ID` lists every item of one run.
 */
import { type Command, InvalidArgumentError } from 'commander';
import type { LedgerItem, RunRecord } from '../../functions/adapters/ledger/index.ts';
import { isKeepReason } from '../../functions/core/model.ts';
import type { CliDeps } from '../deps.ts';
import { UnknownRunError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import { type LedgerLocation, ledgerUnavailable, type OpenedLedger, openLedger } from '../ledger-location.ts';
import { describeReason, table } from '../report.ts';

interface HistoryFlags {
  ledgerTable?: string;
  region?: string;
  limit: number;
  run?: string;
  json: boolean;
}

export const DEFAULT_HISTORY_LIMIT = 20;
/** A run's error is cut to this in the runs table, which stays readable; --run and --json show all of it. */
const LIST_ERROR_WIDTH = 80;

export function registerHistoryCommand(program: Command, io: CliIo, deps: CliDeps): void {
  program
    .command('history')
    .description("list past runs from the ledger, newest first; --run ID lists that run's AMIs and snapshots")
    .option('--ledger-table <name>', 'DynamoDB ledger table (default: the local store in ./.amicleaner/)')
    .option('--region <region>', 'AWS region of --ledger-table (default: the SDK configuration)')
    .option('--limit <n>', 'how many runs to list', positiveInteger('--limit'), DEFAULT_HISTORY_LIMIT)
    .option('--run <id>', 'list every AMI and snapshot of this run, with its final status', nonEmpty('--run'))
    .option('--json', 'print JSON only', false)
    .action(async (flags: HistoryFlags) => {
      const open = deps.openLedger ?? openLedger;
      const opened = await open({ tableName: flags.ledgerTable, region: flags.region, create: false });
      try {
        if (!flags.json && io.stderrIsTty) io.err(`Reading the ledger in ${opened.where} ...\n`);
        if (flags.run === undefined) await listRuns(opened, flags, io);
        else await showRun(opened, flags.run, flags.json, io);
      } finally {
        await opened.close();
      }
    });
}

async function listRuns(opened: OpenedLedger, flags: HistoryFlags, io: CliIo): Promise<void> {
  const runs = await read(opened, () => opened.ledger.listRuns({ limit: flags.limit }));
  if (flags.json) {
    io.out(json({ ledger: opened.location, runs: runs.map(runToJson) }));
    return;
  }
  if (runs.length === 0) {
    io.out(`no runs recorded in ${opened.where}\n`);
    return;
  }
  io.out(`Runs in ${opened.where}, newest first:\n${runsTable(runs, LIST_ERROR_WIDTH)}\n`);
}

async function showRun(opened: OpenedLedger, runId: string, asJson: boolean, io: CliIo): Promise<void> {
  const run = await read(opened, () => opened.ledger.getRun(runId));
  if (!run)
    throw new UnknownRunError(`no run "${runId}" in ${opened.where}; \`amicleaner history\` lists them`);
  const items = sortItems(await read(opened, () => opened.ledger.listItems(runId)));
  if (asJson) {
    io.out(json({ ledger: opened.location, run: runToJson(run), items: items.map(itemToJson) }));
    return;
  }
  const out = [`Run ${run.runId} in ${opened.where}:`, runsTable([run])];
  if (run.planHash) out.push(`Plan ${run.planHash}`);
  if (items.length === 0) {
    out.push('No AMIs or snapshots recorded for this run.');
  } else {
    out.push(`AMIs and snapshots (${items.length}):`);
    out.push(
      table(
        ['Kind', 'ID', 'Name', 'Group', 'Status', 'Reason / detail', 'Attempts', 'Last error'],
        items.map((item) => [
          item.kind === 'IMAGE' ? 'AMI' : 'snapshot',
          item.id,
          item.name ?? '',
          item.group ?? '',
          item.status,
          itemDetail(item),
          item.attempts ?? 0,
          item.lastError ?? '',
        ]),
      ),
    );
  }
  io.out(`${out.join('\n')}\n`);
}

/** Ledger calls only: their failures become one line naming the ledger, exit 2. */
async function read<T>(opened: OpenedLedger, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw ledgerUnavailable(error, opened.where);
  }
}

// ----- rendering ------------------------------------------------------------------------------

function runsTable(runs: readonly RunRecord[], errorWidth?: number): string {
  return table(
    [
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
    ],
    runs.map((run) => {
      const s = run.summary;
      const count = (n: number | undefined): string | number => (n === undefined ? '-' : n);
      return [
        run.runId,
        formatTime(run.startedAt),
        run.triggerImageId ? `${run.trigger} (${run.triggerImageId})` : run.trigger,
        run.status,
        count(s?.candidates),
        count(s?.deregistered),
        count(s?.snapshotsDeleted),
        count(s?.failed),
        count(s?.deferred),
        count(s?.gibFreed),
        truncate(runEnding(run), errorWidth),
      ];
    }),
  );
}

/** Who approved, or why the run ended without (or before) deleting. */
export function runEnding(run: RunRecord): string {
  const approver = approverOf(run);
  switch (run.status) {
    case 'COMPLETED':
    case 'COMPLETED_WITH_FAILURES':
      return approver ? `approved by ${approver}` : 'approved';
    case 'DELETING':
      return approver ? `approved by ${approver}; deleting` : 'approved; deleting';
    case 'REJECTED':
      return approver ? `REJECTED by ${approver}` : 'REJECTED';
    case 'EXPIRED':
      return 'EXPIRED: no decision before the approval timed out';
    case 'DRY_RUN':
      return 'DRY_RUN: planned and recorded only';
    case 'NOTHING_TO_DELETE':
      return 'NOTHING_TO_DELETE';
    case 'FAILED':
      return `FAILED: ${run.error ?? 'no error recorded'}`;
    case 'SKIPPED_LOCKED':
      return 'SKIPPED_LOCKED: another run held the region lock';
    case 'AWAITING_APPROVAL':
      return 'awaiting approval';
    case 'RUNNING':
      return 'in progress';
    default:
      // A status written by a newer version: show it rather than fail the whole listing.
      return String(run.status);
  }
}

function approverOf(run: RunRecord): string | undefined {
  return run.summary?.approver ?? run.approver;
}

/** Candidates first (what the run acted on), then kept AMIs; each by kind, group, age, id. */
function sortItems(items: readonly LedgerItem[]): LedgerItem[] {
  const rank = (item: LedgerItem): number =>
    (item.status === 'KEPT' ? 1 : 0) * 2 + (item.kind === 'IMAGE' ? 0 : 1);
  return [...items].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      (a.group ?? '').localeCompare(b.group ?? '') ||
      (a.creationDate ?? '').localeCompare(b.creationDate ?? '') ||
      a.id.localeCompare(b.id),
  );
}

/** What the ledger says about why the item ended as it did, in the report's words. */
export function itemDetail(item: LedgerItem): string {
  if (isKeepReason(item.reason)) {
    return describeReason(item.reason, item.detail);
  }
  const parts: string[] = [];
  if (item.kind === 'SNAPSHOT' && item.sourceImageId) parts.push(`orphan of ${item.sourceImageId}`);
  if (typeof item.skipReason === 'string') parts.push(item.skipReason);
  else if (item.kind === 'IMAGE' && item.detail) parts.push(item.detail);
  if (item.status === 'DONE') {
    const freed = typeof item.gibFreed === 'number' ? item.gibFreed : 0;
    if (item.kind === 'IMAGE') {
      const deleted = typeof item.snapshotsDeleted === 'number' ? item.snapshotsDeleted : 0;
      parts.push(`${deleted} snapshot(s) deleted, ${freed} GiB freed`);
      for (const kept of keptSnapshots(item)) parts.push(kept);
    } else if (typeof item.snapshotOutcome === 'string') {
      parts.push(item.snapshotOutcome === 'deleted' ? `deleted, ${freed} GiB freed` : item.snapshotOutcome);
    }
  }
  return parts.join('; ');
}

/** Snapshots of a done AMI that were not deleted (shared, in use, already gone), with why. */
function keptSnapshots(item: LedgerItem): string[] {
  if (!Array.isArray(item.snapshotResults)) return [];
  return item.snapshotResults
    .filter((r): r is { snapshotId: string; outcome: string; detail?: string } => {
      return (
        typeof r === 'object' && r !== null && typeof r.snapshotId === 'string' && r.outcome !== 'deleted'
      );
    })
    .map((r) => `${r.snapshotId} ${r.outcome}${r.detail ? ` (${r.detail})` : ''}`);
}

function formatTime(iso: string): string {
  // Seconds are enough to tell runs apart at a glance; --json keeps the exact value.
  return iso.replace(/\.\d+Z$/, 'Z');
}

function truncate(text: string, width: number | undefined): string {
  return width === undefined || text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

// ----- JSON -----------------------------------------------------------------------------------

/**
 * The `--json` shapes. Field names are stable and always present; a value the ledger does not
 * hold (yet) is `null`, so scripts can rely on the keys.
 */
export interface HistoryRunJson {
  runId: string;
  startedAt: string;
  finishedAt: string | null;
  trigger: string;
  triggerImageId: string | null;
  dryRun: boolean;
  status: string;
  ending: string;
  approver: string | null;
  error: string | null;
  planHash: string | null;
  candidates: number | null;
  deregistered: number | null;
  snapshotsDeleted: number | null;
  skippedInUse: number | null;
  failed: number | null;
  deferred: number | null;
  gibFreed: number | null;
  estimatedMonthlySavingUsd: number | null;
}

export interface HistoryItemJson {
  kind: 'IMAGE' | 'SNAPSHOT';
  id: string;
  name: string | null;
  group: string | null;
  status: string;
  reason: string | null;
  detail: string;
  attempts: number;
  lastError: string | null;
  sizeGiB: number;
  gibFreed: number | null;
  sourceImageId: string | null;
  updatedAt: string;
}

export interface HistoryListJson {
  ledger: LedgerLocation;
  runs: HistoryRunJson[];
}

export interface HistoryRunDetailJson {
  ledger: LedgerLocation;
  run: HistoryRunJson;
  items: HistoryItemJson[];
}

function runToJson(run: RunRecord): HistoryRunJson {
  const s = run.summary;
  return {
    runId: run.runId,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt ?? null,
    trigger: run.trigger,
    triggerImageId: run.triggerImageId ?? null,
    dryRun: run.dryRun === true,
    status: run.status,
    ending: runEnding(run),
    approver: approverOf(run) ?? null,
    error: run.error ?? null,
    planHash: run.planHash ?? s?.planHash ?? null,
    candidates: s?.candidates ?? null,
    deregistered: s?.deregistered ?? null,
    snapshotsDeleted: s?.snapshotsDeleted ?? null,
    skippedInUse: s?.skippedInUse ?? null,
    failed: s?.failed ?? null,
    deferred: s?.deferred ?? null,
    gibFreed: s?.gibFreed ?? null,
    estimatedMonthlySavingUsd: s?.estimatedMonthlySavingUsd ?? null,
  };
}

function itemToJson(item: LedgerItem): HistoryItemJson {
  return {
    kind: item.kind,
    id: item.id,
    name: item.name ?? null,
    group: item.group ?? null,
    status: item.status,
    reason: item.reason ?? null,
    detail: itemDetail(item),
    attempts: item.attempts ?? 0,
    lastError: item.lastError ?? null,
    sizeGiB: item.sizeGiB ?? 0,
    gibFreed: typeof item.gibFreed === 'number' ? item.gibFreed : null,
    sourceImageId: item.sourceImageId ?? null,
    updatedAt: item.updatedAt,
  };
}

function json(value: HistoryListJson | HistoryRunDetailJson): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

// ----- flags ----------------------------------------------------------------------------------

function positiveInteger(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1)
      throw new InvalidArgumentError(`${flag} must be a whole number >= 1, got "${value}"`);
    return n;
  };
}

function nonEmpty(flag: string) {
  return (value: string): string => {
    if (value.trim() === '') throw new InvalidArgumentError(`${flag} needs a value`);
    return value;
  };
}
