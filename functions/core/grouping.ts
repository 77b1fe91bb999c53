/**
 * Mapping: put AMIs into groups as the original aws-amicleaner did, by name substring or by an
 * ordered list of tag keys, with its known bugs fixed (see the comments below).
 */
import type { Image, KeepReason, KeptImage } from './model.ts';
import { assertKnownImageIds, compareNewestFirst, FROM_IDS_GROUP, keep } from './rotation.ts';
import type { PlanSettings } from './settings.ts';

/** The visible group of AMIs that are never deleted because they lack, or are excluded by, the mapping. */
export const EXCLUDED_GROUP = 'no-tags (excluded)';

export interface ImageGroup {
  /** Display name, unique within one grouping (disambiguated when two identities would share it). */
  readonly name: string;
  /** Identity: JSON of the ordered (key, value) pairs, e.g. `[["environment","dev"],["role","front"]]`. */
  readonly key: string;
  /** Newest first. */
  readonly images: readonly Image[];
}

export interface Grouping {
  /** Sorted by name. Never contains the excluded group. */
  readonly groups: readonly ImageGroup[];
  /** Kept in `EXCLUDED_GROUP` with NO_MAPPING or EXCLUDED_MAPPING_VALUE, newest first. */
  readonly excluded: readonly KeptImage[];
}

export type GroupingSettings = Pick<
  PlanSettings,
  'mappingKey' | 'mappingValues' | 'excludedMappingValues' | 'fromIds'
>;

type Mapped =
  | {
      readonly ok: true;
      readonly pairs: readonly (readonly [string, string])[];
      readonly displayName: string;
    }
  | { readonly ok: false; readonly reason: KeepReason; readonly detail: string };

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function mapByName(image: Image, settings: GroupingSettings): Mapped {
  // First matching value wins: the original put an AMI in every group whose value its name
  // contained, so one AMI could be rotated (and deleted) on behalf of two groups.
  const value = settings.mappingValues.find((v) => image.name.includes(v));
  if (value === undefined) {
    return {
      ok: false,
      reason: 'NO_MAPPING',
      detail: `name matches none of: ${settings.mappingValues.join(', ')}`,
    };
  }
  const excluded = settings.excludedMappingValues.find((v) => image.name.includes(v));
  if (excluded !== undefined) {
    return {
      ok: false,
      reason: 'EXCLUDED_MAPPING_VALUE',
      detail: `name contains excluded value "${excluded}"`,
    };
  }
  return { ok: true, pairs: [['name', value]], displayName: value };
}

function mapByTags(image: Image, settings: GroupingSettings): Mapped {
  // Exact key lookup: the original tested `tag.key in ".".join(filters)`, a substring test, so a
  // tag `env` (or `ron`) counted as one of the mapping `environment.role`.
  const missing = settings.mappingValues.filter((k) => !Object.hasOwn(image.tags, k));
  if (missing.length > 0) {
    return { ok: false, reason: 'NO_MAPPING', detail: `missing tag ${missing.join(', ')}` };
  }
  const pairs = settings.mappingValues.map((k) => [k, image.tags[k] ?? ''] as const);
  const excluded = pairs.find(([, v]) => settings.excludedMappingValues.includes(v));
  if (excluded !== undefined) {
    return {
      ok: false,
      reason: 'EXCLUDED_MAPPING_VALUE',
      detail: `${excluded[0]}=${excluded[1]} is an excluded mapping value`,
    };
  }
  // Sorted values, as the original displays them (`dev.front`, `front.prod`).
  return {
    ok: true,
    pairs,
    displayName: pairs
      .map(([, v]) => v)
      .sort(compareText)
      .join('.'),
  };
}

/**
 * Groups `images` by the mapping. In `--from-ids` mode every image lands in the single group
 * `from-ids` (rotation then keeps the ones not named); an unknown id throws `UnknownImageError`.
 */
export function groupImages(images: readonly Image[], settings: GroupingSettings): Grouping {
  if (settings.fromIds !== undefined) {
    assertKnownImageIds(images, settings.fromIds);
    const all = [...images].sort(compareNewestFirst);
    const groups = all.length > 0 ? [{ name: FROM_IDS_GROUP, key: JSON.stringify([]), images: all }] : [];
    return { groups, excluded: [] };
  }

  const byKey = new Map<string, { displayName: string; label: string; images: Image[] }>();
  const excluded: KeptImage[] = [];
  for (const image of images) {
    const mapped = settings.mappingKey === 'name' ? mapByName(image, settings) : mapByTags(image, settings);
    if (!mapped.ok) {
      excluded.push(keep(image, EXCLUDED_GROUP, mapped.reason, mapped.detail));
      continue;
    }
    // Identity is the ordered (key, value) tuple, not the display name: environment=a,role=b and
    // environment=b,role=a both display as `a.b` yet are different groups.
    const key = JSON.stringify(mapped.pairs);
    const label = mapped.pairs.map(([k, v]) => `${k}=${v}`).join(',');
    const entry = byKey.get(key) ?? { displayName: mapped.displayName, label, images: [] };
    entry.images.push(image);
    byKey.set(key, entry);
  }

  const nameCount = new Map<string, number>();
  for (const { displayName } of byKey.values()) {
    nameCount.set(displayName, (nameCount.get(displayName) ?? 0) + 1);
  }
  const groups: ImageGroup[] = [...byKey].map(([key, entry]) => {
    // Every colliding group gets the suffix, so the result does not depend on input order.
    const clash = (nameCount.get(entry.displayName) ?? 0) > 1 || entry.displayName === EXCLUDED_GROUP;
    return {
      name: clash ? `${entry.displayName} [${entry.label}]` : entry.displayName,
      key,
      images: entry.images.sort(compareNewestFirst),
    };
  });
  groups.sort((a, b) => compareText(a.name, b.name) || compareText(a.key, b.key));
  return { groups, excluded: excluded.sort(compareNewestFirst) };
}
