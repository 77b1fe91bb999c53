/**
 * `amicleaner report`'s arithmetic: what the ledger's items say the cleanup removed, freed and
 * restored, totalled per month, per group and per region. Pure: ledger items in, rows out.
 *
 * - AMIs removed: AMI items that were deregistered (as the run summary counts them), in the
 *   month of the deregistration; a later restore does not undo the count, it adds a restore.
 * - Snapshots deleted, GiB freed: items that ended DONE, in the month they did. A RESTORED item
 *   no longer counts: its snapshots exist again and are billed again.
 * - Saving: GiB freed × the price per GiB-month, an upper bound (snapshots are incremental).
 * - Restores: items with status RESTORED (written by `amicleaner restore`), in the month of the
 *   restore.
 */
import type { LedgerItem } from '../../functions/adapters/ledger/index.ts';
import { estimateMonthlySavingUsd } from '../../functions/core/summary.ts';
import type { ItemStatus } from '../../functions/core/workflow.ts';

/** Written by `amicleaner restore` (`ItemStore.markRestored`). */
export const RESTORED_STATUS: ItemStatus = 'RESTORED';
export const ORPHAN_SNAPSHOTS_GROUP = '(orphan snapshots)';
const UNKNOWN = '(unknown)';

export interface TotalsRow {
  /** The month (`YYYY-MM`, UTC), group name or region. */
  readonly key: string;
  /** Runs with anything counted in this row. */
  readonly runs: number;
  readonly amisRemoved: number;
  readonly snapshotsDeleted: number;
  readonly gibFreed: number;
  readonly monthlySavingUsd: number;
  readonly restored: number;
}

export interface AuditTotals {
  readonly byMonth: readonly TotalsRow[];
  readonly byGroup: readonly TotalsRow[];
  readonly byRegion: readonly TotalsRow[];
  readonly total: TotalsRow;
}

export interface TotalsOptions {
  readonly pricePerGibMonth: number;
  /** `YYYY-MM`: only what happened in this month or later. */
  readonly since?: string;
}

type Breakdown = 'month' | 'group' | 'region';

/** One thing the ledger says happened to one item, in one month. */
interface Fact {
  readonly runId: string;
  readonly month: string;
  readonly group: string;
  readonly region: string;
  readonly amisRemoved: number;
  readonly snapshotsDeleted: number;
  readonly gibFreed: number;
  readonly restored: number;
}

const month = (iso: unknown): string =>
  typeof iso === 'string' && /^\d{4}-\d{2}/.test(iso) ? iso.slice(0, 7) : UNKNOWN;
const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

function factsOf(item: LedgerItem): Fact[] {
  const where = {
    runId: item.runId,
    group: item.group ?? (item.kind === 'SNAPSHOT' ? ORPHAN_SNAPSHOTS_GROUP : UNKNOWN),
    region: item.region ?? UNKNOWN,
  };
  const none = { amisRemoved: 0, snapshotsDeleted: 0, gibFreed: 0, restored: 0 };
  const facts: Fact[] = [];
  if (item.kind === 'IMAGE' && typeof item.deregisteredAt === 'string') {
    facts.push({ ...where, ...none, month: month(item.deregisteredAt), amisRemoved: 1 });
  }
  if (item.status === 'DONE') {
    const snapshotsDeleted = num(item.snapshotsDeleted);
    const gibFreed = num(item.gibFreed);
    if (snapshotsDeleted > 0 || gibFreed > 0) {
      facts.push({ ...where, ...none, month: month(item.updatedAt), snapshotsDeleted, gibFreed });
    }
  }
  if (item.status === RESTORED_STATUS) {
    facts.push({ ...where, ...none, month: month(item.restoredAt ?? item.updatedAt), restored: 1 });
  }
  return facts;
}

class Accumulator {
  readonly #runs = new Set<string>();
  amisRemoved = 0;
  snapshotsDeleted = 0;
  gibFreed = 0;
  restored = 0;

  add(fact: Fact): void {
    this.#runs.add(fact.runId);
    this.amisRemoved += fact.amisRemoved;
    this.snapshotsDeleted += fact.snapshotsDeleted;
    this.gibFreed += fact.gibFreed;
    this.restored += fact.restored;
  }

  row(key: string, pricePerGibMonth: number): TotalsRow {
    return {
      key,
      runs: this.#runs.size,
      amisRemoved: this.amisRemoved,
      snapshotsDeleted: this.snapshotsDeleted,
      gibFreed: this.gibFreed,
      monthlySavingUsd: estimateMonthlySavingUsd(this.gibFreed, pricePerGibMonth),
      restored: this.restored,
    };
  }
}

export function auditTotals(items: Iterable<LedgerItem>, options: TotalsOptions): AuditTotals {
  const buckets: Record<Breakdown, Map<string, Accumulator>> = {
    month: new Map(),
    group: new Map(),
    region: new Map(),
  };
  const total = new Accumulator();
  for (const item of items) {
    for (const fact of factsOf(item)) {
      if (options.since !== undefined && fact.month < options.since) continue;
      total.add(fact);
      for (const breakdown of ['month', 'group', 'region'] as const) {
        const key = fact[breakdown];
        const bucket = buckets[breakdown].get(key) ?? new Accumulator();
        bucket.add(fact);
        buckets[breakdown].set(key, bucket);
      }
    }
  }
  const rows = (breakdown: Breakdown) =>
    [...buckets[breakdown]].map(([key, acc]) => acc.row(key, options.pricePerGibMonth));
  return {
    // Months in time order; groups by what they freed, largest first; regions by name.
    byMonth: rows('month').sort((a, b) => a.key.localeCompare(b.key)),
    byGroup: rows('group').sort((a, b) => b.gibFreed - a.gibFreed || a.key.localeCompare(b.key)),
    byRegion: rows('region').sort((a, b) => a.key.localeCompare(b.key)),
    total: total.row('total', options.pricePerGibMonth),
  };
}
