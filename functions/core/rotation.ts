/**
 * Rotation: inside one group, decide which AMIs become deletion candidates and why every other
 * one is kept. Order of the rules matters and follows DESIGN.md: in use, not available, the
 * newest `keepPrevious`, then minimum age, opt-out tag, deregistration protection and sharing.
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
>;

export interface RotationContext {
  readonly settings: RotationSettings;
  /** The run's reference time; rotation never reads the clock. */
  readonly now: Date | string;
  /** AMIs with launch permissions for other accounts (looked up by the adapter, see `sharingCheckImageIds`). */
  readonly sharedImageIds: ReadonlySet<string>;
}

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
 * Ids of the images that would be candidates if sharing were not checked, so the adapter fetches
 * launch permissions for those only. Public images are left out (`isPublic` already decides
 * them), and nothing is returned when `includeShared` is on.
 */
export function sharingCheckImageIds(
  groups: readonly RotationGroup[],
  ctx: Omit<RotationContext, 'sharedImageIds'>,
): string[] {
  if (ctx.settings.includeShared) return [];
  const nowMs = toEpochMs(ctx.now);
  const ids = groups.flatMap((g) =>
    evaluate(g, ctx.settings, nowMs)
      .filter((v) => !v.kept && !v.image.isPublic)
      .map((v) => v.image.imageId),
  );
  return [...new Set(ids)].sort();
}

/** Rotates one group. Candidates and kept images come out newest first. */
export function rotateGroup(group: RotationGroup, ctx: RotationContext): PlanGroup {
  const nowMs = toEpochMs(ctx.now);
  const candidates: PlanCandidate[] = [];
  const kept: KeptImage[] = [...(group.inUse ?? [])];
  for (const { image, kept: k } of evaluate(group, ctx.settings, nowMs)) {
    if (k) {
      kept.push(k);
    } else if (!ctx.settings.includeShared && (image.isPublic || ctx.sharedImageIds.has(image.imageId))) {
      kept.push(keep(image, group.name, 'SHARED', image.isPublic ? 'public' : 'shared with other accounts'));
    } else {
      candidates.push(toCandidate(image, group.name));
    }
  }
  kept.sort(compareNewestFirst);
  return { name: group.name, candidates, kept };
}
