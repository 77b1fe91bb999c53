/**
 * Rotate in bounded passes. Planning reads one DescribeImageAttribute per would-be candidate and
 * one DescribeImageReferences per 10 candidates, both from the describe bucket (20 calls/s
 * refill): 20,000 candidates are 22,000 calls, about 1,100 s, past Lambda's 15 minutes. So Rotate
 * spends at most `ROTATE_PASS_CALLS` calls per invocation, stores what it read in the workspace,
 * and the state machine loops (`RotateDone?` → RotateNextPass) until the plan is built.
 *
 * Each pass is a pure function of the inventory and the previous pass's progress, so a retried
 * pass reads the same ids again and writes the same progress. The pass count is bounded by the
 * run's cap (`rotatePasses`), which is what the history budget (quotas.ts) counts.
 */
import { createHash } from 'node:crypto';
import type { AwsImageReference } from './model.ts';

/**
 * Describe calls one pass may make: 8,000 at 20/s is 400 s, which leaves the last pass room for
 * the image usage reports' bounded wait (180 s) and the workspace within ~10 minutes, under
 * Lambda's 15.
 */
export const ROTATE_PASS_CALLS = 8_000;
/** DescribeImageReferences takes up to 10 image ids a call. */
export const IMAGE_REFERENCES_PER_CALL = 10;

/** What the passes so far have read, stored in the workspace between passes. */
export interface RotateProgress {
  /** The pass that wrote it (0 = the first). */
  readonly pass: number;
  /** Launch permissions read for the first `checked` ids of the sharing-check list. */
  readonly sharing: ReadProgress & { readonly shared: readonly string[] };
  /** DescribeImageReferences asked about the first `checked` candidates. */
  readonly references: ReadProgress & { readonly answers: readonly AwsImageReference[] };
}

interface ReadProgress {
  readonly checked: number;
  /** `prefixHash` of the ids read: the next pass must be reading the same list. */
  readonly checkedHash: string;
}

/** The progress does not belong to this run's lists, or not to the previous pass. */
export class RotateProgressError extends Error {
  override readonly name = 'RotateProgressError';
}

/** sha256 of the ids read so far, in order. */
export function prefixHash(ids: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(ids), 'utf8').digest('hex');
}

/**
 * The most passes a run with this cap can need: at most `maxDeletionsPerRun` sharing checks and
 * as many candidates (10 a call), `callsPerPass` calls a pass, every pass but the last spending
 * its whole budget.
 */
export function rotatePasses(maxDeletionsPerRun: number, callsPerPass = ROTATE_PASS_CALLS): number {
  const calls = maxDeletionsPerRun + Math.ceil(maxDeletionsPerRun / IMAGE_REFERENCES_PER_CALL);
  return Math.max(1, Math.ceil(calls / callsPerPass));
}

export const NO_PROGRESS: RotateProgress = {
  pass: -1,
  sharing: { checked: 0, checkedHash: prefixHash([]), shared: [] },
  references: { checked: 0, checkedHash: prefixHash([]), answers: [] },
};

/**
 * Throws unless `progress` was written by pass `pass - 1` over a prefix of exactly these lists
 * (the inventory and filtered groups never change within a run, so anything else is a stale or
 * altered document: the run fails rather than plan from it).
 */
export function verifyProgress(
  progress: RotateProgress,
  pass: number,
  lists: { readonly sharingIds: readonly string[] },
): void {
  const { sharing, references } = progress;
  const whole = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;
  if (progress.pass !== pass - 1 || !whole(sharing?.checked) || !whole(references?.checked)) {
    throw new RotateProgressError(`pass ${pass}: the stored progress is not the previous pass's`);
  }
  if (
    sharing.checked > lists.sharingIds.length ||
    prefixHash(lists.sharingIds.slice(0, sharing.checked)) !== sharing.checkedHash ||
    !Array.isArray(sharing.shared) ||
    !Array.isArray(references.answers)
  ) {
    throw new RotateProgressError(
      `pass ${pass}: the stored progress was read from other AMIs than this run's`,
    );
  }
}

/** Throws unless the references read so far were asked about a prefix of `candidateIds`. */
export function verifyReferencesProgress(progress: RotateProgress, candidateIds: readonly string[]): void {
  const { checked, checkedHash } = progress.references;
  if (checked > candidateIds.length || prefixHash(candidateIds.slice(0, checked)) !== checkedHash) {
    throw new RotateProgressError('the stored references were read for other candidates than this run’s');
  }
}

/** The next ids of `ids` to read after `checked`, at most `budget` of them. */
export function nextSlice(ids: readonly string[], checked: number, budget: number): string[] {
  return ids.slice(checked, checked + Math.max(0, budget));
}
