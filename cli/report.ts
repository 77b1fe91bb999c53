/**
 * The original amicleaner's tables, rendered from a Plan, and the plan's `--json` form.
 * Pure functions: they return strings, the commands decide where they go.
 */
import Table from 'cli-table3';
import type { KeepReason, Plan, PlanGroup } from '../functions/core/model.ts';

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
export const WRAP_WIDTH = 64;

export function table(
  head: string[],
  rows: (string | number)[][],
  options: { wrapLast?: boolean } = {},
): string {
  const widths = options.wrapLast ? [...head.slice(0, -1).map(() => null), WRAP_WIDTH] : [];
  const t = new Table({ head, ...ASCII, ...(options.wrapLast ? { colWidths: widths, wordWrap: true } : {}) });
  // Only the header and body are separated, as in the original.
  t.push(...rows.map((row) => row.map(String)));
  return stripRowSeparators(t.toString());
}

/** cli-table3 draws a rule between every row; the original drew one under the header only. */
function stripRowSeparators(rendered: string): string {
  const lines = rendered.split('\n');
  const rule = lines[0] ?? '';
  return lines.filter((line, i) => i === 0 || i === 2 || i === lines.length - 1 || line !== rule).join('\n');
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
}

/** The whole human report of a plan: what the original printed, plus why AMIs were kept. */
export function renderPlanReport(plan: Plan, options: ReportOptions): string {
  const out: string[] = [];
  if (options.fullReport) {
    for (const group of plan.groups) {
      // The original listed the excluded group's AMIs too; they are shown, never removed.
      const images = isExcludedGroup(group) ? group.kept : group.candidates;
      if (images.length === 0) continue;
      out.push(group.name);
      out.push(
        table(
          ['AMI ID', 'AMI Name', 'Creation Date'],
          images.map((i) => [i.imageId, i.name, i.creationDate]),
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
    ),
  );

  const deferred = plan.groups.reduce(
    (n, g) => n + g.kept.filter((k) => k.reason === 'MAX_DELETIONS_PER_RUN').length,
    0,
  );
  if (deferred > 0) {
    // Not candidates: their sharing was not checked. A later run plans them again.
    out.push(
      `${deferred} more ${deferred === 1 ? 'AMI' : 'AMIs'} deferred to a later run (over --max-deletions); listed as kept below.`,
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
          ),
    );
  }

  out.push(renderKeptSection(plan, options.fullReport));
  const t = plan.totals;
  out.push(
    `Plan ${plan.planHash.slice(0, 12)}: ${t.candidates} AMIs with ${t.candidateSnapshots} snapshots (${t.candidateSizeGiB} GiB)` +
      (options.checkOrphans ? `, ${t.orphanSnapshots} orphan snapshots (${t.orphanSizeGiB} GiB)` : '') +
      ` in ${plan.region}`,
  );
  return `${out.join('\n')}\n`;
}

/** Counts by reason; with --full-report, every kept AMI with its reason and detail. */
function renderKeptSection(plan: Plan, full: boolean): string {
  const kept = plan.groups.flatMap((g) => g.kept.map((k) => ({ ...k, group: g.name })));
  if (kept.length === 0) return 'AMIs kept: none';
  const counts = new Map<KeepReason, number>();
  for (const k of kept) counts.set(k.reason, (counts.get(k.reason) ?? 0) + 1);
  const line = `AMIs kept (${kept.length}): ${[...counts].map(([reason, n]) => `${n} ${REASON_TEXT[reason]}`).join(', ')}`;
  if (!full) return line;
  return `${line}\n${table(
    ['Group name', 'AMI ID', 'AMI Name', 'Kept because'],
    kept.map((k) => [k.group, k.imageId, k.name, describeReason(k.reason, k.detail)]),
    { wrapLast: true },
  )}`;
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
