/**
 * What `amicleaner history` prints: the runs table, one run's items, and the `--json` shapes.
 * Loaded when `history` runs (it needs the ledger's types and cli-table3, not the CLI's start-up).
 */
import type { LedgerItem, RunRecord } from '../functions/adapters/ledger/index.ts';
import { isKeepReason } from '../functions/core/model.ts';
import { ledgerUnavailable, UnknownRunError } from './errors.ts';
import type { CliIo } from './io.ts';
import type { LedgerLocation, OpenedLedger } from './ledger-location.ts';
import { count, describeReason, droppedNote, fitTable, prose } from './report.ts';
import type { Column } from './table-layout.ts';

export interface HistoryViewOptions {
  readonly limit: number;
  readonly run?: string | undefined;
  readonly json: boolean;
  /** Width the tables must fit; undefined: every column at full size (`--wide`, or a pipe). */
  readonly width?: number | undefined;
}

/** A run's error is cut to this in the runs table, which stays readable; --run and --json show all of it. */
const LIST_ERROR_WIDTH = 80;

export async function showHistory(
  opened: OpenedLedger,
  options: HistoryViewOptions,
  io: CliIo,
): Promise<void> {
  if (options.run === undefined) await listRuns(opened, options, io);
  else await showRun(opened, options.run, options, io);
}

async function listRuns(opened: OpenedLedger, options: HistoryViewOptions, io: CliIo): Promise<void> {
  const runs = await read(opened, () => opened.ledger.listRuns({ limit: options.limit }));
  if (options.json) {
    io.out(json({ ledger: opened.location, runs: runs.map(runToJson) }));
    return;
  }
  if (runs.length === 0) {
    io.out(`no runs recorded in ${opened.where}\n`);
    return;
  }
  const fitted = runsTable(runs, options.width, LIST_ERROR_WIDTH);
  const heading = prose(`Runs in ${opened.where}, newest first:`, options.width);
  io.out(`${heading}\n${fitted.text}\n${droppedNote(fitted, options.width)}`);
}

async function showRun(
  opened: OpenedLedger,
  runId: string,
  options: HistoryViewOptions,
  io: CliIo,
): Promise<void> {
  const run = await read(opened, () => opened.ledger.getRun(runId));
  if (!run)
    throw new UnknownRunError(`no run "${runId}" in ${opened.where}; \`amicleaner history\` lists them`);
  const items = sortItems(await read(opened, () => opened.ledger.listItems(runId)));
  if (options.json) {
    io.out(json({ ledger: opened.location, run: runToJson(run), items: items.map(itemToJson) }));
    return;
  }
  const runTable = runsTable([run], options.width);
  const out = [`Run ${run.runId} in ${opened.where}:`, runTable.text];
  const dropped = [...runTable.dropped];
  if (run.planHash) out.push(`Plan ${run.planHash}`);
  if (items.length === 0) {
    out.push('No AMIs or snapshots recorded for this run.');
  } else {
    out.push(`AMIs and snapshots (${items.length}):`);
    const itemTable = fitTable(
      ITEM_COLUMNS,
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
      options.width,
    );
    out.push(itemTable.text);
    dropped.push(...itemTable.dropped.filter((head) => !dropped.includes(head)));
  }
  io.out(`${prose(out.join('\n'), options.width)}\n${droppedNote({ text: '', dropped }, options.width)}`);
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

/**
 * The runs table. To fit a narrow terminal the counts' headers wrap first, then columns go in
 * this order: the start time (the run id carries it), candidates and deferred (the summary's
 * other counts say what happened), the trigger, then the remaining counts. Run id, status and
 * how the run ended always stay.
 */
const RUN_COLUMNS: readonly Column[] = [
  { head: 'Run ID' },
  { head: 'Started at', dropRank: 1 },
  { head: 'Trigger', dropRank: 4 },
  { head: 'Status' },
  { head: 'Candidates', dropRank: 2 },
  { head: 'Deregistered', dropRank: 8 },
  { head: 'Snapshots deleted', dropRank: 6 },
  { head: 'Failed', dropRank: 7 },
  { head: 'Deferred', dropRank: 3 },
  { head: 'GiB freed', dropRank: 5 },
  { head: 'Approver / ended', wrap: true, minWidth: 16 },
];

/** One run's items: the kind (the id's prefix says it) and attempts go first, then group, name. */
const ITEM_COLUMNS: readonly Column[] = [
  { head: 'Kind', dropRank: 1 },
  { head: 'ID' },
  { head: 'Name', wrap: true, dropRank: 4 },
  { head: 'Group', wrap: true, dropRank: 3 },
  { head: 'Status' },
  { head: 'Reason / detail', wrap: true, minWidth: 24 },
  { head: 'Attempts', dropRank: 2 },
  { head: 'Last error', wrap: true },
];

function runsTable(runs: readonly RunRecord[], width: number | undefined, errorWidth?: number) {
  return fitTable(
    RUN_COLUMNS,
    runs.map((run) => {
      const s = run.summary;
      const n = (value: number | undefined): string | number => (value === undefined ? '-' : value);
      return [
        run.runId,
        formatTime(run.startedAt),
        run.triggerImageId ? `${run.trigger} (${run.triggerImageId})` : run.trigger,
        run.status,
        n(s?.candidates),
        n(s?.deregistered),
        n(s?.snapshotsDeleted),
        n(s?.failed),
        n(s?.deferred),
        n(s?.gibFreed),
        truncate(runEnding(run), errorWidth),
      ];
    }),
    width,
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
      parts.push(`${count(deleted, 'snapshot')} deleted, ${freed} GiB freed`);
      for (const kept of keptSnapshots(item)) parts.push(kept);
    } else if (typeof item.snapshotOutcome === 'string') {
      parts.push(item.snapshotOutcome === 'deleted' ? `deleted, ${freed} GiB freed` : item.snapshotOutcome);
    }
  }
  if (item.status === 'RESTORED' && typeof item.restoredAt === 'string') {
    parts.push(`restored from the Recycle Bin ${item.restoredAt}`);
  }
  if (typeof item.restoreError === 'string') parts.push(`restore failed: ${item.restoreError}`);
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
