/**
 * Rotation: inside one group, decide which AMIs become deletion candidates and why every other
 * one is kept. Order of the rules matters and follows DESIGN.md: in use, not available, the
 * newest `keepPrevious`, then minimum age, opt-out tag, deregistration protection and sharing.
 * Sharing is only known for the AMIs whose launch permissions were read (at most the run's
 * deletion cap of them); any other would-be candidate is kept as MAX_DELETIONS_PER_RUN.
 */
import type { Image, ImageReference, KeepReason, KeptImage, PlanCandidate, PlanGroup } from './model.ts';
import type { PlanSettings } from './settings.ts';

/** The single group of a `--from-ids` run. */
export const FROM_IDS_GROUP = 'from-ids';

/** `--from-ids` named an AMI the inventory does not hold (typo, other region, not owned). */
export class UnknownImageError extends Error {
  override readonly name = 'UnknownImageError';
}

export type RotationSettings = Pick<
  PlanSettings,
  'keepPrevious' | 'minAgeDays' | 'optOutTagKey' | 'includeShared' | 'fromIds'
> &
  Partial<Pick<PlanSettings, 'sharedAmis'>>;

export interface RotationContext {
  readonly settings: RotationSettings;
  /** The run's reference time; rotation never reads the clock. */
  readonly now: Date | string;
  /** AMIs with launch permissions for other accounts (looked up by the adapter, see `sharingCheckImageIds`). */
  readonly sharedImageIds: ReadonlySet<string>;
  /**
   * AMIs whose launch permissions were read (what `sharingCheckImageIds` returned). Unless
   * `includeShared` is on, a would-be candidate that is not public and not among these is never a
   * candidate: it is kept as MAX_DELETIONS_PER_RUN and planned again by a later run.
   */
  readonly sharingCheckedIds: ReadonlySet<string>;
  /** The run's deletion cap, only for the words of a MAX_DELETIONS_PER_RUN detail. */
  readonly maxDeletionsPerRun?: number;
}

/** The sharing check's input: everything but the results of the lookup. */
export type SharingCheckContext = Omit<
  RotationContext,
  'sharedImageIds' | 'sharingCheckedIds' | 'maxDeletionsPerRun'
>;

/** A group as rotation sees it: its images not in use, plus those already kept as in use. */
export interface RotationGroup {
  readonly name: string;
  readonly images: readonly Image[];
  readonly inUse?: readonly KeptImage[];
}

const DAY_MS = 86_400_000;

function creationMs(creationDate: string): number {
  const ms = Date.parse(creationDate);
  // An unreadable date sorts as newest, so it is kept rather than rotated out.
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
}

/** Newest first; ties broken by image id so the order never depends on input order. */
export function compareNewestFirst(
  a: Pick<Image, 'creationDate' | 'imageId'>,
  b: Pick<Image, 'creationDate' | 'imageId'>,
): number {
  const byDate = creationMs(b.creationDate) - creationMs(a.creationDate);
  if (byDate !== 0 && !Number.isNaN(byDate)) return byDate;
  return a.imageId < b.imageId ? -1 : a.imageId > b.imageId ? 1 : 0;
}

export function toEpochMs(now: Date | string): number {
  const ms = typeof now === 'string' ? Date.parse(now) : now.getTime();
  if (Number.isNaN(ms)) throw new RangeError(`now is not a valid time: ${String(now)}`);
  return ms;
}

export function keep(image: Image, group: string, reason: KeepReason, detail?: string): KeptImage {
  const kept = { imageId: image.imageId, name: image.name, creationDate: image.creationDate, group, reason };
  return detail === undefined ? kept : { ...kept, detail };
}

function toCandidate(image: Image, group: string): PlanCandidate {
  return {
    imageId: image.imageId,
    name: image.name,
    creationDate: image.creationDate,
    group,
    snapshots: image.snapshots.map((s) => ({ snapshotId: s.snapshotId, sizeGiB: s.sizeGiB })),
  };
}

/** Throws `UnknownImageError` unless every `--from-ids` id is in `images`. */
export function assertKnownImageIds(images: readonly Image[], ids: readonly string[]): void {
  const known = new Set(images.map((i) => i.imageId));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new UnknownImageError(`--from-ids names AMIs not owned in this region: ${unknown.join(', ')}`);
  }
}

/**
 * Removes referenced images from a group first, so they neither become candidates nor use up a
 * `keepPrevious` slot (as in the original).
 */
export function splitInUse(
  group: string,
  images: readonly Image[],
  references: ReadonlyMap<string, readonly ImageReference[]>,
): { remaining: Image[]; inUse: KeptImage[] } {
  const remaining: Image[] = [];
  const inUse: KeptImage[] = [];
  for (const image of [...images].sort(compareNewestFirst)) {
    const refs = references.get(image.imageId);
    if (refs && refs.length > 0) {
      inUse.push(keep(image, group, 'IN_USE', refs.map((r) => r.source).join('; ')));
    } else {
      remaining.push(image);
    }
  }
  return { remaining, inUse };
}

type Verdict = { image: Image; kept?: KeptImage };

/** Every rule except sharing, which needs launch permissions the adapter fetches afterwards. */
function evaluate(group: RotationGroup, settings: RotationSettings, nowMs: number): Verdict[] {
  const sorted = [...group.images].sort(compareNewestFirst);
  const fromIds = settings.fromIds ? new Set(settings.fromIds) : undefined;
  const verdicts: Verdict[] = [];
  let previousKept = 0;
  for (const image of sorted) {
    const k = (reason: KeepReason, detail?: string): Verdict => ({
      image,
      kept: keep(image, group.name, reason, detail),
    });
    if (fromIds && !fromIds.has(image.imageId)) {
      verdicts.push(k('NOT_REQUESTED', 'not named by --from-ids'));
      continue;
    }
    if (image.state !== 'available') {
      verdicts.push(k('NOT_AVAILABLE', `state ${image.state}`));
      continue;
    }
    // keepPrevious and minAgeDays protect a history; AMIs named explicitly have opted out of that.
    if (!fromIds && previousKept < settings.keepPrevious) {
      previousKept += 1;
      verdicts.push(k('KEEP_PREVIOUS', `one of the ${settings.keepPrevious} newest not in use`));
      continue;
    }
    if (!fromIds && settings.minAgeDays > 0) {
      const ageMs = nowMs - Date.parse(image.creationDate);
      // NaN (unreadable date) fails the comparison below, so it is kept: fail closed.
      if (!(ageMs >= settings.minAgeDays * DAY_MS)) {
        const days = Number.isNaN(ageMs) ? 'unknown' : (ageMs / DAY_MS).toFixed(1);
        verdicts.push(k('MIN_AGE', `age ${days} days, minimum ${settings.minAgeDays}`));
        continue;
      }
    }
    if (Object.hasOwn(image.tags, settings.optOutTagKey)) {
      verdicts.push(
        k('OPT_OUT_TAG', `tag ${settings.optOutTagKey}=${image.tags[settings.optOutTagKey] ?? ''}`),
      );
      continue;
    }
    if (image.deregistrationProtection) {
      verdicts.push(k('DEREGISTRATION_PROTECTION'));
      continue;
    }
    verdicts.push({ image });
  }
  return verdicts;
}

/**
 * Oldest first, ties broken by image id: the order in which the ledger's `recordPlan` admits
 * candidates under the cap (and defers the rest). Kept identical to it on purpose, so the AMIs
 * whose sharing is checked are the ones the cap would admit first.
 */
export function compareOldestFirst(
  a: Pick<Image, 'creationDate' | 'imageId'>,
  b: Pick<Image, 'creationDate' | 'imageId'>,
): number {
  return a.creationDate.localeCompare(b.creationDate) || a.imageId.localeCompare(b.imageId);
}

/**
 * Ids of the images that would be candidates if sharing were not checked, so the adapter fetches
 * launch permissions (one DescribeImageAttribute each) for those only: oldest first across all
 * groups, at most `limit` of them (the run's `maxDeletionsPerRun`; default: no limit), since a run
 * can never delete more. Public images are left out and do not count against the limit
 * (`isPublic` already decides them); nothing is returned when `includeShared` is on.
 */
export function sharingCheckImageIds(
  groups: readonly RotationGroup[],
  ctx: SharingCheckContext,
  limit: number = Number.POSITIVE_INFINITY,
): string[] {
  if (!(limit === Number.POSITIVE_INFINITY || (Number.isInteger(limit) && limit >= 0))) {
    throw new RangeError(`limit must be a whole number >= 0, got ${limit}`);
  }
  if (ctx.settings.includeShared) return [];
  const nowMs = toEpochMs(ctx.now);
  const wouldBe = new Map<string, Image>();
  for (const g of groups) {
    for (const v of evaluate(g, ctx.settings, nowMs)) {
      if (!v.kept && !v.image.isPublic) wouldBe.set(v.image.imageId, v.image);
    }
  }
  return [...wouldBe.values()]
    .sort(compareOldestFirst)
    .slice(0, limit)
    .map((i) => i.imageId);
}

function deferralDetail(limit: number | undefined): string {
  return limit === undefined || !Number.isFinite(limit)
    ? "over this run's deletion limit; planned again next run"
    : `over this run's limit of ${limit}; planned again next run`;
}

/** Rotates one group. Candidates and kept images come out newest first. */
export function rotateGroup(group: RotationGroup, ctx: RotationContext): PlanGroup {
  const nowMs = toEpochMs(ctx.now);
  const candidates: PlanCandidate[] = [];
  const kept: KeptImage[] = [...(group.inUse ?? [])];
  for (const { image, kept: k } of evaluate(group, ctx.settings, nowMs)) {
    if (k) {
      kept.push(k);
    } else if (ctx.settings.includeShared) {
      candidates.push(toCandidate(image, group.name));
    } else if (
      ctx.sharedImageIds.has(image.imageId) &&
      !image.isPublic &&
      ctx.settings.sharedAmis === 'delete-when-unused'
    ) {
      // A candidate only until its usage evidence is weighed (`keepSharedInUse`); kept if none is.
      candidates.push(toCandidate(image, group.name));
    } else if (image.isPublic || ctx.sharedImageIds.has(image.imageId)) {
      kept.push(keep(image, group.name, 'SHARED', image.isPublic ? 'public' : 'shared with other accounts'));
    } else if (!ctx.sharingCheckedIds.has(image.imageId)) {
      // Launch permissions not read: fail closed, and let a later run (with room) plan it.
      kept.push(keep(image, group.name, 'MAX_DELETIONS_PER_RUN', deferralDetail(ctx.maxDeletionsPerRun)));
    } else {
      candidates.push(toCandidate(image, group.name));
    }
  }
  kept.sort(compareNewestFirst);
  return { name: group.name, candidates, kept };
}
