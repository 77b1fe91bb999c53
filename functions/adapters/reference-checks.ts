/**
 * The two opinions on "in use" (our inventory, EC2's DescribeImageReferences), where the workflow
 * asks them: in planning, once rotation has picked the candidates (Rotate, the CLI's `plan`), and
 * again when the plan is approved (LoadApproved). One place, so the callers cannot drift apart.
 * Every read fails closed.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import { findReferences } from '../core/in-use.ts';
import type { PlanGroup, ReferenceAnswers } from '../core/model.ts';
import {
  type FilteredGroups,
  planCandidates,
  rotateStep,
  secondOpinionStep,
  sharingCheckStep,
} from '../core/plan.ts';
import { referencedByEither } from '../core/second-opinion.ts';
import type { PlanSettings } from '../core/settings.ts';
import { readAwsImageReferences } from './image-references.ts';
import { type InventoryClients, readInventory, readLaunchPermissions } from './inventory.ts';

export interface RotateWithChecksInput {
  readonly filtered: FilteredGroups;
  readonly settings: PlanSettings;
  readonly now: Date | string;
  /** The run's `maxDeletionsPerRun`: at most this many AMIs are checked for sharing. */
  readonly limit?: number;
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
  return secondOpinionStep({ groups: rotated, awsReferences });
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
    readInventory(clients, {
      region: options.region,
      ssmParameterPaths: options.ssmParameterPaths,
      includeSnapshots: false,
      includeImages: false,
      now: options.now,
    }),
    readAwsImageReferences(clients.ec2, imageIds),
  ]);
  return referencedByEither(imageIds, findReferences(inventory), awsReferences);
}
