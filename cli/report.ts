/**
 * The original amicleaner's tables, rendered from a Plan, and the plan's `--json` form.
 * Pure functions: they return strings, the commands decide where they go.
 */
import Table from 'cli-table3';
import type { KeepReason, Plan, PlanGroup } from '../functions/core/model.ts';
import { visible } from '../functions/core/visible-text.ts';
import { type Column, layoutColumns, wrapText } from './table-layout.ts';

/** ASCII borders and no colours, like the original's output, so it pastes cleanly into tickets. */
const ASCII = {
  chars: {
    top: '-',
    'top-mid': '+',
    'top-left': '+',
    'top-right': '+',
    bottom: '-',
    'bottom-mid': '+',
    'bottom-left': '+',
    'bottom-right': '+',
    left: '|',
    'left-mid': '+',
    mid: '-',
    'mid-mid': '+',
    right: '|',
    'right-mid': '+',
    middle: '|',
  },
  style: { head: [] as string[], border: [] as string[] },
};

/** Widest a free-text column may grow before its words wrap (reasons can name many references). */
export const WRAP_WIDTH = 62;

export interface FittedTable {
  readonly text: string;
  /** Heads of the columns left out to fit the width. */
  readonly dropped: readonly string[];
}

/** A table laid out to fit `width` (see table-layout.ts); no width: every column at full size. */
export function fitTable(
  columns: readonly Column[],
  rows: readonly (readonly (string | number)[])[],
  width?: number,
): FittedTable {
  const cells = rows.map((row) => row.map((cell) => visible(String(cell))));
  const layout = layoutColumns(columns, cells, width);
  const t = new Table({
    head: layout.shown.map((i, k) => wrapText(columns[i]?.head ?? '', layout.widths[k] as number)),
    ...ASCII,
    // Cells arrive wrapped to their width; the two spaces are cli-table3's padding.
    colWidths: layout.widths.map((w) => w + 2),
  });
  t.push(
    ...cells.map((row) => layout.shown.map((i, k) => wrapText(row[i] ?? '', layout.widths[k] as number))),
  );
  return { text: stripRowSeparators(t.toString()), dropped: layout.dropped };
}

/** A table whose columns never drop; `wrapLast` wraps the last (free-text) column. */
export function table(
  head: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  options: { wrapLast?: boolean; width?: number | undefined } = {},
): string {
  const columns: Column[] = head.map((h, i) =>
    options.wrapLast && i === head.length - 1 ? { head: h, wrap: true, maxWidth: WRAP_WIDTH } : { head: h },
  );
  return fitTable(columns, rows, options.width).text;
}

/** One line under a table that left columns out, so nobody mistakes it for the whole record. */
export function droppedNote(fitted: FittedTable, width: number | undefined): string {
  if (fitted.dropped.length === 0) return '';
  const note = `(${fitted.dropped.join(', ')} not shown to fit ${width} columns; --wide shows every column)`;
  return `${width === undefined ? note : wrapText(note, width)}\n`;
}

/**
 * cli-table3 draws a rule between every row; the original drew one under the header only.
 * The header may span several lines, so the rule kept is the first one after the top.
 */
function stripRowSeparators(rendered: string): string {
  const lines = rendered.split('\n');
  const rule = lines[0] ?? '';
  const headerRule = lines.indexOf(rule, 1);
  return lines
    .filter((line, i) => i === 0 || i === headerRule || i === lines.length - 1 || line !== rule)
    .join('\n');
}

const REASON_TEXT: Record<KeepReason, string> = {
  NO_MAPPING: 'no mapping',
  EXCLUDED_MAPPING_VALUE: 'excluded mapping value',
  IN_USE: 'in use',
  KEEP_PREVIOUS: 'keep-previous',
  MIN_AGE: 'ami-min-days',
  OPT_OUT_TAG: 'opt-out tag',
  DEREGISTRATION_PROTECTION: 'deregistration protection',
  SHARED: 'shared',
  NOT_AVAILABLE: 'not available',
  NOT_REQUESTED: 'not in --from-ids',
  MAX_DELETIONS_PER_RUN: 'deferred (over --max-deletions)',
  AWS_REPORTS_IN_USE: 'in use (AWS)',
  IN_USE_BY_ACCOUNT: 'in use by another account',
  USAGE_REPORT_NOT_READY: 'shared, usage report not ready',
  USAGE_REPORT_FAILED: 'shared, usage report failed',
  CONSUMER_UNREADABLE: 'shared, consumer unreadable',
};

export function describeReason(reason: KeepReason, detail?: string): string {
  return detail ? `${REASON_TEXT[reason]}: ${detail}` : REASON_TEXT[reason];
}

function isExcludedGroup(group: PlanGroup): boolean {
  return (
    group.candidates.length === 0 &&
    group.kept.every((k) => k.reason === 'NO_MAPPING' || k.reason === 'EXCLUDED_MAPPING_VALUE')
  );
}

export interface ReportOptions {
  readonly fullReport: boolean;
  readonly checkOrphans: boolean;
  /** Terminal width the tables must fit; undefined: no limit. */
  readonly width?: number | undefined;
}

/** The whole human report of a plan: what the original printed, plus why AMIs were kept. */
export function renderPlanReport(plan: Plan, options: ReportOptions): string {
  const out: string[] = [];
  if (options.fullReport) {
    for (const group of plan.groups) {
      // The original listed the excluded group's AMIs too; they are shown, never removed.
      const images = isExcludedGroup(group) ? group.kept : group.candidates;
      if (images.length === 0) continue;
      out.push(visible(group.name));
      out.push(
        table(
          ['AMI ID', 'AMI Name', 'Creation Date'],
          images.map((i) => [i.imageId, i.name, i.creationDate]),
          { width: options.width },
        ),
      );
    }
  }

  out.push('AMIs to be removed:');
  out.push(
    table(
      ['Group name', 'candidates'],
      plan.groups
        .filter((g) => g.candidates.length > 0 || isExcludedGroup(g))
        .map((g) => [
          g.name,
          isExcludedGroup(g) ? `0 (${g.kept.length} excluded, never removed)` : g.candidates.length,
        ]),
      { width: options.width },
    ),
  );

  const deferred = plan.groups.reduce(
    (n, g) => n + g.kept.filter((k) => k.reason === 'MAX_DELETIONS_PER_RUN').length,
    0,
  );
  if (deferred > 0) {
    // Not candidates: their sharing was not checked. A later run plans them again.
    out.push(
      `${count(deferred, 'more AMI', 'more AMIs')} deferred to a later run (over --max-deletions); listed as kept below.`,
    );
  }

  if (options.checkOrphans) {
    out.push('Orphan snapshots to be removed:');
    out.push(
      plan.orphanSnapshots.length === 0
        ? 'none'
        : table(
            ['Snapshot ID', 'AMI ID (gone)', 'Size GiB'],
            plan.orphanSnapshots.map((o) => [o.snapshotId, o.imageId, o.sizeGiB]),
            { width: options.width },
          ),
    );
  }

  out.push(renderKeptSection(plan, options.fullReport, options.width));
  const t = plan.totals;
  out.push(
    `Plan ${plan.planHash.slice(0, 12)}: ${count(t.candidates, 'AMI')} with ${count(t.candidateSnapshots, 'snapshot')} (${t.candidateSizeGiB} GiB)` +
      (options.checkOrphans
        ? `, ${count(t.orphanSnapshots, 'orphan snapshot')} (${t.orphanSizeGiB} GiB)`
        : '') +
      ` in ${plan.region}`,
  );
  return `${prose(out.join('\n'), options.width)}\n`;
}

/** Text lines wrapped to the width at spaces; table lines (`+`, `|`) are laid out already. */
export function prose(text: string, width: number | undefined): string {
  if (width === undefined) return text;
  const isTableLine = (line: string) => line.startsWith('+') || line.startsWith('|');
  return text
    .split('\n')
    .map((line) => (isTableLine(line) ? line : wrapText(line, width)))
    .join('\n');
}

/** Counts by reason; with --full-report, every kept AMI with its reason and detail. */
function renderKeptSection(plan: Plan, full: boolean, width: number | undefined): string {
  const kept = plan.groups.flatMap((g) => g.kept.map((k) => ({ ...k, group: g.name })));
  if (kept.length === 0) return 'AMIs kept: none';
  const counts = new Map<KeepReason, number>();
  for (const k of kept) counts.set(k.reason, (counts.get(k.reason) ?? 0) + 1);
  const line = `AMIs kept (${kept.length}): ${[...counts].map(([reason, n]) => `${n} ${REASON_TEXT[reason]}`).join(', ')}`;
  if (!full) return line;
  const fitted = fitTable(
    [
      { head: 'Group name', dropRank: 2 },
      { head: 'AMI ID' },
      { head: 'AMI Name', wrap: true, dropRank: 1 },
      { head: 'Kept because', wrap: true, maxWidth: WRAP_WIDTH, minWidth: 24 },
    ],
    kept.map((k) => [k.group, k.imageId, k.name, describeReason(k.reason, k.detail)]),
    width,
  );
  return `${line}\n${fitted.text}${fitted.dropped.length > 0 ? `\n${droppedNote(fitted, width).trimEnd()}` : ''}`;
}

/** `1 AMI`, `2 AMIs`: every count the CLI prints agrees with its noun. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? singular : plural}`;
}

/** The `--json` shape: stable field names that scripts can rely on. */
export function planToJson(plan: Plan) {
  return {
    planHash: plan.planHash,
    region: plan.region,
    createdAt: plan.createdAt,
    totals: plan.totals,
    groups: plan.groups.map((g) => ({
      name: g.name,
      candidates: g.candidates.map((c) => ({
        imageId: c.imageId,
        name: c.name,
        creationDate: c.creationDate,
        snapshotIds: c.snapshots.map((s) => s.snapshotId),
        sizeGiB: c.snapshots.reduce((sum, s) => sum + s.sizeGiB, 0),
      })),
      kept: g.kept.map((k) => ({
        imageId: k.imageId,
        name: k.name,
        reason: k.reason,
        ...(k.detail ? { detail: k.detail } : {}),
      })),
    })),
    orphanSnapshots: plan.orphanSnapshots.map((o) => ({
      snapshotId: o.snapshotId,
      imageId: o.imageId,
      sizeGiB: o.sizeGiB,
    })),
  };
}
