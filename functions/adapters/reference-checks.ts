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

/** Rotated groups whose candidates both our inventory and AWS call unused (others are kept). */
export async function rotateWithAwsChecks(
  ec2: EC2Client,
  input: RotateWithChecksInput,
): Promise<PlanGroup[]> {
  const { filtered, settings, now, limit } = input;
  const sharingCheckedIds = sharingCheckStep({
    filtered,
    settings,
    now,
    ...(limit === undefined ? {} : { limit }),
  });
  const sharedImageIds = await readLaunchPermissions(ec2, sharingCheckedIds);
  const rotated = rotateStep({
    filtered,
    settings,
    now,
    sharedImageIds,
    sharingCheckedIds,
    ...(limit === undefined ? {} : { limit }),
  });
  const candidateIds = planCandidates({ groups: rotated }).map((c) => c.imageId);
  const awsReferences = await readAwsImageReferences(ec2, candidateIds);
  const checked = secondOpinionStep({ groups: rotated, awsReferences });
  if (settings.sharedAmis !== 'delete-when-unused') return checked;
  return keepSharedUnlessUnused(ec2, checked, sharedImageIds, input);
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
