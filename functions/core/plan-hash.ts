/**
 * The plan hash binds an approval to exactly what would be deleted, and where. It covers ids
 * only (not names, sizes or kept images): those are what a person approves to lose.
 */
import { createHash } from 'node:crypto';

export interface PlanHashInput {
  readonly region: string;
  readonly candidates: readonly {
    readonly imageId: string;
    readonly snapshots: readonly { readonly snapshotId: string }[];
  }[];
  readonly orphanSnapshots: readonly { readonly snapshotId: string }[];
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** sha256 (hex) of a canonical, order-independent serialisation. */
export function computePlanHash(input: PlanHashInput): string {
  const candidates = input.candidates
    .map((c) => [c.imageId, c.snapshots.map((s) => s.snapshotId).sort(byText)] as const)
    .sort((a, b) => byText(a[0], b[0]) || byText(JSON.stringify(a[1]), JSON.stringify(b[1])));
  const orphans = input.orphanSnapshots.map((s) => s.snapshotId).sort(byText);
  // Versioned, positional JSON: no key-order ambiguity, and a format change changes every hash.
  const canonical = JSON.stringify(['ami-cleaner/plan/v1', input.region, candidates, orphans]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}
