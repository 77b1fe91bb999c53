/**
 * Use across accounts (issue 9 §3), on plain data.
 *
 * - **In use anywhere means in use.** Every target of a region writes the AMIs its own resources
 *   reference (`TargetReferences`, CollectReferences). Planning a target unions the other targets'
 *   documents of the same region with its own references before any rotation
 *   (`consumerUseByImage`, `splitUsedByOtherAccounts`).
 * - **Shared AMIs, opt-in.** A shared would-be candidate may go only when every source says nobody
 *   uses it: AWS's image usage report (instances and launch templates in every account it is
 *   shared with) and the references read directly in the consumer accounts the hub can assume
 *   into (`decideSharedImage`). A report not ready in time, a failed report or an unreadable
 *   consumer keeps the AMI with that reason.
 */
import type { KeepReason, KeptImage, PlanCandidate, PlanGroup } from './model.ts';
import { compareNewestFirst } from './rotation.ts';
import { isAccountId, isRegion } from './target.ts';

/** What CollectReferences writes for one target: the AMIs that account's resources reference in that region. */
export interface TargetReferences {
  readonly accountId: string;
  readonly region: string;
  /** ISO-8601 time the reads finished. */
  readonly readAt: string;
  /** Sorted by image id; each AMI's sources sorted, as `findReferences` gives them. */
  readonly images: readonly ReferencedImage[];
}

export interface ReferencedImage {
  readonly imageId: string;
  readonly sources: readonly string[];
}

/** A consumer account's use of an AMI: who, and through what. */
export interface AccountUse {
  readonly accountId: string;
  readonly sources: readonly string[];
}

/** A references document that is not what CollectReferences writes for the expected target. */
export class InvalidReferencesError extends Error {
  override readonly name = 'InvalidReferencesError';
}

const AMI_ID = /^ami-[0-9a-f]{8,17}$/;
/** Bounds a hostile document: more AMIs than an account can hold, or sources longer than any we write. */
const MAX_IMAGES = 1_000_000;
const MAX_SOURCES = 10_000;
const MAX_SOURCE_LENGTH = 2_048;

/** The document for one target, from AMI id -> what references it there. */
export function targetReferencesOf(
  accountId: string,
  region: string,
  readAt: string,
  sourcesByImage: ReadonlyMap<string, readonly string[]>,
): TargetReferences {
  const images = [...sourcesByImage]
    .filter(([, sources]) => sources.length > 0)
    .map(([imageId, sources]) => ({ imageId, sources: [...new Set(sources)] }))
    .sort((a, b) => (a.imageId < b.imageId ? -1 : a.imageId > b.imageId ? 1 : 0));
  return { accountId, region, readAt, images };
}

/**
 * Checks a document read back from the workspace: it must be a references document of the
 * expected account (when given) and region, with AMI ids and bounded sources. Anything else
 * throws, so a swapped, truncated or forged document never counts as "references nobody".
 */
export function parseTargetReferences(
  value: unknown,
  expected: { readonly accountId?: string; readonly region: string },
  what = 'references document',
): TargetReferences {
  const fail = (problem: string) => new InvalidReferencesError(`${what}: ${problem}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail('not an object');
  const doc = value as Record<string, unknown>;
  if (!isAccountId(doc.accountId)) throw fail('accountId is not an account id');
  if (!isRegion(doc.region)) throw fail('region is not a region code');
  if (expected.accountId !== undefined && doc.accountId !== expected.accountId)
    throw fail(`written for account ${doc.accountId}, not ${expected.accountId}`);
  if (doc.region !== expected.region) throw fail(`written for region ${doc.region}, not ${expected.region}`);
  if (typeof doc.readAt !== 'string' || Number.isNaN(Date.parse(doc.readAt)))
    throw fail('readAt is not a time');
  if (!Array.isArray(doc.images) || doc.images.length > MAX_IMAGES) throw fail('images is not a list');
  const images: ReferencedImage[] = doc.images.map((raw: unknown, index: number) => {
    const entry = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    if (typeof entry.imageId !== 'string' || !AMI_ID.test(entry.imageId))
      throw fail(`images[${index}].imageId is not an AMI id`);
    const sources = entry.sources;
    if (
      !Array.isArray(sources) ||
      sources.length === 0 ||
      sources.length > MAX_SOURCES ||
      !sources.every((s) => typeof s === 'string' && s.length > 0 && s.length <= MAX_SOURCE_LENGTH)
    ) {
      throw fail(`images[${index}].sources is not a non-empty list of short strings`);
    }
    return { imageId: entry.imageId, sources: sources as string[] };
  });
  return { accountId: doc.accountId, region: doc.region, readAt: doc.readAt, images };
}

/**
 * AMI id -> every other account's use of it, from the consumer documents of one region. A
 * document of the planning account itself or of another region is refused: the first would
 * double-count, the second means the fan-out paired the wrong targets.
 */
export function consumerUseByImage(
  own: { readonly accountId: string; readonly region: string },
  consumers: readonly TargetReferences[],
): Map<string, AccountUse[]> {
  const seen = new Set<string>();
  const byImage = new Map<string, AccountUse[]>();
  for (const doc of consumers) {
    if (doc.region !== own.region)
      throw new InvalidReferencesError(`consumer ${doc.accountId} is in ${doc.region}, not ${own.region}`);
    if (doc.accountId === own.accountId)
      throw new InvalidReferencesError(`account ${doc.accountId} is given as its own consumer`);
    if (seen.has(doc.accountId)) throw new InvalidReferencesError(`consumer ${doc.accountId} is given twice`);
    seen.add(doc.accountId);
    for (const image of doc.images) {
      const uses = byImage.get(image.imageId) ?? [];
      uses.push({ accountId: doc.accountId, sources: image.sources });
      byImage.set(image.imageId, uses);
    }
  }
  for (const uses of byImage.values()) uses.sort((a, b) => (a.accountId < b.accountId ? -1 : 1));
  return byImage;
}

/** `account 333333333333: instance i-1 (running); account …`, for a person. */
export function describeAccountUse(uses: readonly AccountUse[]): string {
  return uses.map((u) => `account ${u.accountId}: ${u.sources.join('; ')}`).join(' | ');
}

/**
 * The images of one group that another account references leave it, kept IN_USE_BY_ACCOUNT
 * (detail names each account and what there uses it). Runs after our own in-use split and before
 * rotation, so they neither become candidates nor use a keepPrevious slot, as for IN_USE.
 */
export function splitUsedByOtherAccounts<I extends { imageId: string; name: string; creationDate: string }>(
  group: string,
  images: readonly I[],
  consumerUse: ReadonlyMap<string, readonly AccountUse[]>,
): { remaining: I[]; usedElsewhere: KeptImage[] } {
  const remaining: I[] = [];
  const usedElsewhere: KeptImage[] = [];
  for (const image of images) {
    const uses = consumerUse.get(image.imageId);
    if (uses === undefined || uses.length === 0) {
      remaining.push(image);
      continue;
    }
    usedElsewhere.push({
      imageId: image.imageId,
      name: image.name,
      creationDate: image.creationDate,
      group,
      reason: 'IN_USE_BY_ACCOUNT',
      detail: describeAccountUse(uses),
    });
  }
  return { remaining, usedElsewhere };
}

// ---------------------------------------------------------------------------------------------
// Shared AMIs
// ---------------------------------------------------------------------------------------------

/** One row of an image usage report: an account whose resources of a type reference the AMI. */
export interface UsageReportEntry {
  readonly imageId: string;
  readonly accountId: string;
  readonly resourceType: string;
  readonly usageCount: number;
}

/** What the usage report said about one AMI, or why it said nothing. */
export type UsageReportAnswer =
  | { readonly state: 'available'; readonly entries: readonly UsageReportEntry[] }
  /** Still pending when the bounded wait ended. */
  | { readonly state: 'not-ready'; readonly detail: string }
  /** The report failed (state `error`), or a call about it failed or answered wrongly. */
  | { readonly state: 'error'; readonly detail: string };

/** Everything known about who uses one shared would-be candidate. */
export interface SharedImageEvidence {
  readonly imageId: string;
  readonly usageReport: UsageReportAnswer;
  /** Consumer accounts (targets of this region the hub read) that reference it. */
  readonly consumerUse: readonly AccountUse[];
  /** Consumer accounts of this region the hub could not read (CollectReferences failed). */
  readonly unreadableConsumers: readonly string[];
}

export type SharedImageVerdict =
  | { readonly unused: true }
  | { readonly unused: false; readonly reason: KeepReason; readonly detail: string };

/**
 * Unused only when every source answered and none names a user. Order of the reasons: a named
 * user first (the most useful thing to show), then the unreadable consumer, then the report.
 */
export function decideSharedImage(evidence: SharedImageEvidence): SharedImageVerdict {
  const reportUsers =
    evidence.usageReport.state === 'available'
      ? evidence.usageReport.entries.filter((e) => e.imageId === evidence.imageId && e.usageCount > 0)
      : [];
  if (evidence.consumerUse.length > 0 || reportUsers.length > 0) {
    const parts = [
      ...(evidence.consumerUse.length > 0 ? [describeAccountUse(evidence.consumerUse)] : []),
      ...(reportUsers.length > 0
        ? [
            `usage report: ${reportUsers
              .map((e) => `account ${e.accountId} ${e.resourceType} x${e.usageCount}`)
              .join(', ')}`,
          ]
        : []),
    ];
    return { unused: false, reason: 'IN_USE_BY_ACCOUNT', detail: parts.join(' | ') };
  }
  if (evidence.unreadableConsumers.length > 0) {
    return {
      unused: false,
      reason: 'CONSUMER_UNREADABLE',
      detail: `shared, and account(s) ${[...evidence.unreadableConsumers].sort().join(', ')} could not be read`,
    };
  }
  if (evidence.usageReport.state === 'not-ready') {
    return { unused: false, reason: 'USAGE_REPORT_NOT_READY', detail: evidence.usageReport.detail };
  }
  if (evidence.usageReport.state === 'error') {
    return { unused: false, reason: 'USAGE_REPORT_FAILED', detail: evidence.usageReport.detail };
  }
  return { unused: true };
}

/**
 * Applies the verdicts: a shared candidate without a verdict, or with a keeping one, leaves the
 * candidates (fail closed: a candidate whose evidence was never gathered is kept, not deleted).
 * `sharedIds` are the candidates that are shared; other candidates are untouched.
 */
export function keepSharedInUse(
  groups: readonly PlanGroup[],
  sharedIds: ReadonlySet<string>,
  verdicts: ReadonlyMap<string, SharedImageVerdict>,
): PlanGroup[] {
  return groups.map((group) => {
    const stays: PlanCandidate[] = [];
    const moved: KeptImage[] = [];
    for (const candidate of group.candidates) {
      if (!sharedIds.has(candidate.imageId)) {
        stays.push(candidate);
        continue;
      }
      const verdict: SharedImageVerdict = verdicts.get(candidate.imageId) ?? {
        unused: false,
        reason: 'USAGE_REPORT_FAILED',
        detail: 'no usage evidence was gathered for this shared AMI',
      };
      if (verdict.unused) {
        stays.push(candidate);
        continue;
      }
      moved.push({
        imageId: candidate.imageId,
        name: candidate.name,
        creationDate: candidate.creationDate,
        group: candidate.group,
        reason: verdict.reason,
        detail: verdict.detail,
      });
    }
    if (moved.length === 0) return group;
    return { name: group.name, candidates: stays, kept: [...group.kept, ...moved].sort(compareNewestFirst) };
  });
}
