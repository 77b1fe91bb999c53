/**
 * The two opinions on "in use" (our inventory, EC2's DescribeImageReferences), where the workflow
 * asks them: in planning, once rotation has picked the candidates (Rotate, the CLI's `plan`), and
 * again when the plan is approved (LoadApproved). One place, so the callers cannot drift apart.
 * Every read fails closed.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import { decideSharedImage, keepSharedInUse, type SharedImageVerdict } from '../core/cross-account-use.ts';
import { findReferences } from '../core/in-use.ts';
import type { PlanGroup, ReferenceAnswers } from '../core/model.ts';
import {
  type FilteredGroups,
  planCandidates,
  rotateStep,
  secondOpinionStep,
  sharingCheckStep,
} from '../core/plan.ts';
import {
  IMAGE_REFERENCES_PER_CALL,
  NO_PROGRESS,
  nextSlice,
  prefixHash,
  type RotateProgress,
  verifyProgress,
  verifyReferencesProgress,
} from '../core/rotate-passes.ts';
import { awsSourcesByImage, referencedByEither } from '../core/second-opinion.ts';
import type { PlanSettings } from '../core/settings.ts';
import { readAwsImageReferences, readImagesSharedWithAccount } from './image-references.ts';
import { type ImageUsageOptions, readImageUsage } from './image-usage-report.ts';
import { type InventoryClients, readInventory, readLaunchPermissions } from './inventory.ts';

export interface RotateWithChecksInput {
  readonly filtered: FilteredGroups;
  readonly settings: PlanSettings;
  readonly now: Date | string;
  /** The run's `maxDeletionsPerRun`: at most this many AMIs are checked for sharing. */
  readonly limit?: number;
  /**
   * `sharedAmis: delete-when-unused` only: how to ask for image usage reports. Without it, a shared
   * candidate has no evidence and is kept (fail closed).
   */
  readonly usage?: ImageUsageOptions;
}

/** Rotated groups whose candidates both our inventory and AWS call unused (others are kept), in one go. */
export async function rotateWithAwsChecks(
  ec2: EC2Client,
  input: RotateWithChecksInput,
): Promise<PlanGroup[]> {
  const outcome = await rotatePass(ec2, { ...input, pass: 0, callsPerPass: Number.POSITIVE_INFINITY });
  if (!outcome.done) throw new Error('an unbounded Rotate pass always finishes'); // unreachable
  return outcome.groups;
}

export interface RotatePassInput extends RotateWithChecksInput {
  /** This pass (0 = the first); `progress` must be the one pass `pass - 1` stored. */
  readonly pass: number;
  /** What earlier passes read (absent for the first pass). */
  readonly progress?: RotateProgress;
  /** Describe calls this pass may make (`ROTATE_PASS_CALLS` in the workflow). */
  readonly callsPerPass: number;
}

export type RotatePassOutcome =
  | { readonly done: true; readonly groups: PlanGroup[] }
  | { readonly done: false; readonly progress: RotateProgress };

/**
 * One bounded pass of `rotateWithAwsChecks`: the next launch permissions, then (once every
 * sharing check is read and the candidates are final) the next DescribeImageReferences, at most
 * `callsPerPass` calls in all. Done when both lists are read: then the shared-AMI evidence and
 * the plan's groups, exactly as in one go.
 */
export async function rotatePass(ec2: EC2Client, input: RotatePassInput): Promise<RotatePassOutcome> {
  const { filtered, settings, now, limit } = input;
  const { pass } = input;
  const previous = input.progress ?? NO_PROGRESS;
  let budget = input.callsPerPass;
  const sharingCheckedIds = sharingCheckStep({
    filtered,
    settings,
    now,
    ...(limit === undefined ? {} : { limit }),
  });
  verifyProgress(previous, pass, { sharingIds: sharingCheckedIds });

  const toCheck = nextSlice(sharingCheckedIds, previous.sharing.checked, budget);
  const newlyShared = await readLaunchPermissions(ec2, toCheck);
  budget -= toCheck.length;
  const checked = previous.sharing.checked + toCheck.length;
  const sharing = {
    checked,
    checkedHash: prefixHash(sharingCheckedIds.slice(0, checked)),
    shared: [...previous.sharing.shared, ...newlyShared],
  };
  if (checked < sharingCheckedIds.length) {
    return { done: false, progress: { pass, sharing, references: previous.references } };
  }

  const sharedImageIds = new Set(sharing.shared);
  const rotated = rotateStep({
    filtered,
    settings,
    now,
    sharedImageIds,
    sharingCheckedIds,
    ...(limit === undefined ? {} : { limit }),
  });
  const candidateIds = planCandidates({ groups: rotated }).map((c) => c.imageId);
  verifyReferencesProgress(previous, candidateIds);
  const toAsk = nextSlice(candidateIds, previous.references.checked, budget * IMAGE_REFERENCES_PER_CALL);
  const asked = previous.references.checked + toAsk.length;
  const references = {
    checked: asked,
    checkedHash: prefixHash(candidateIds.slice(0, asked)),
    answers: [...previous.references.answers, ...(await readAwsImageReferences(ec2, toAsk))],
  };
  if (asked < candidateIds.length) return { done: false, progress: { pass, sharing, references } };

  const groups = secondOpinionStep({ groups: rotated, awsReferences: references.answers });
  if (settings.sharedAmis !== 'delete-when-unused') return { done: true, groups };
  return { done: true, groups: await keepSharedUnlessUnused(ec2, groups, sharedImageIds, input) };
}

/**
 * `delete-when-unused`: the shared candidates left after both opinions go only if the usage report
 * and every consumer account say nobody uses them. Consumers' references were unioned in
 * FilterInUse already (those AMIs are kept IN_USE_BY_ACCOUNT), so what is left to weigh here is
 * the report and the consumers that could not be read.
 */
async function keepSharedUnlessUnused(
  ec2: EC2Client,
  groups: PlanGroup[],
  sharedImageIds: ReadonlySet<string>,
  input: RotateWithChecksInput,
): Promise<PlanGroup[]> {
  const shared = planCandidates({ groups })
    .map((c) => c.imageId)
    .filter((id) => sharedImageIds.has(id));
  if (shared.length === 0) return groups;
  const reports = input.usage === undefined ? new Map() : await readImageUsage(ec2, shared, input.usage);
  const unreadableConsumers = input.filtered.consumers?.unreadable ?? [];
  const verdicts = new Map<string, SharedImageVerdict>();
  for (const imageId of shared) {
    const usageReport = reports.get(imageId);
    if (usageReport === undefined) continue; // no evidence: keepSharedInUse keeps it
    verdicts.set(imageId, decideSharedImage({ imageId, usageReport, consumerUse: [], unreadableConsumers }));
  }
  return keepSharedInUse(groups, new Set(shared), verdicts);
}

export interface ReferencesNowOptions {
  readonly region: string;
  readonly ssmParameterPaths: readonly string[];
  readonly now: () => Date;
}

/**
 * Approval time: every reference source read again (all pages) and DescribeImageReferences asked
 * about `imageIds`, concurrently. Returns both answers for each AMI that either calls in use.
 */
export async function referencesNow(
  clients: InventoryClients,
  options: ReferencesNowOptions,
  imageIds: readonly string[],
): Promise<Map<string, ReferenceAnswers>> {
  const [inventory, awsReferences] = await Promise.all([
    readReferenceSources(clients, options),
    readAwsImageReferences(clients.ec2, imageIds),
  ]);
  return referencedByEither(imageIds, findReferences(inventory), awsReferences);
}

/** Every reference source our inventory reads, every page; no AMIs, no snapshots. */
function readReferenceSources(clients: InventoryClients, options: ReferencesNowOptions) {
  return readInventory(clients, {
    region: options.region,
    ssmParameterPaths: options.ssmParameterPaths,
    includeSnapshots: false,
    includeImages: false,
    now: options.now,
  });
}

export interface AccountReferencesOptions extends ReferencesNowOptions {
  /** The account read (images it owns are not "shared with it"). */
  readonly accountId: string;
}

/**
 * CollectReferences in one account: every reference source our inventory reads (all pages, no
 * images, no snapshots), resolved to AMI ids, and EC2's DescribeImageReferences asked about the
 * images other accounts share with it. AMI id -> sources (ours, then AWS's), for every AMI either
 * names. Every read fails closed.
 */
export async function referencesInAccount(
  clients: InventoryClients,
  options: AccountReferencesOptions,
): Promise<{ readonly readAt: string; readonly sources: Map<string, string[]> }> {
  const [inventory, sharedWithIt] = await Promise.all([
    readReferenceSources(clients, options),
    readImagesSharedWithAccount(clients.ec2, options.accountId),
  ]);
  const awsReferences = await readAwsImageReferences(clients.ec2, sharedWithIt);
  const sources = new Map<string, string[]>();
  for (const [imageId, refs] of findReferences(inventory))
    sources.set(
      imageId,
      refs.map((r) => r.source),
    );
  for (const [imageId, aws] of awsSourcesByImage(awsReferences)) {
    sources.set(imageId, [...(sources.get(imageId) ?? []), ...aws.map((source) => `AWS ${source}`)]);
  }
  return { readAt: inventory.readAt, sources };
}
