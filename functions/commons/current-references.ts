/**
 * Deregister's "in use right now" check (invariant 3) in one account and region, with that
 * account's own clients: live instances, the launch-template read (shared for a few seconds by
 * the deregistrations of the account and region, launch-template-read.ts) and EC2's own
 * DescribeImageReferences (instances, launch templates, SSM parameters, Image Builder recipes;
 * it sees the caller's account only). Written once, for the owner account and for each consumer
 * of a shared AMI alike: in use anywhere is in use. Any failed read throws, never "unused", and
 * only once the other reads have settled, so no ledger write lands after the Lambda has failed.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import { mapWithConcurrency } from '../adapters/concurrency.ts';
import { findInstanceReferences } from '../adapters/image-actions.ts';
import { readAwsImageReferences } from '../adapters/image-references.ts';
import { DESCRIBE_CONCURRENCY } from '../adapters/inventory.ts';
import { awsReferenceSource } from '../core/second-opinion.ts';
import { currentLaunchTemplateReferences, type LaunchTemplateReadDeps } from './launch-template-read.ts';

/** One account and region to check in. */
export interface CheckedPlace {
  readonly ec2: EC2Client;
  /** Its target key (`<account>-<region>`): the shared launch-template read is `LTREAD#<key>`. */
  readonly key: string;
  /** A consumer's account id: each source then starts `account <id>: `. Absent for the owner. */
  readonly consumerAccountId?: string;
}

/** Both answers for one AMI in one account, as the ledger records them. */
export interface CurrentAnswers {
  /** Our sources: `instance …`, `launch-template …`. */
  readonly inventory: string[];
  /** AWS's sources: `<resource type> <arn>`. */
  readonly aws: string[];
  /** When the launch-template read this check used started (ISO 8601), for the audit. */
  readonly launchTemplatesReadAt: string;
}

export async function currentAnswers(
  deps: LaunchTemplateReadDeps,
  place: CheckedPlace,
  imageId: string,
): Promise<CurrentAnswers> {
  const reads = await Promise.allSettled([
    findInstanceReferences(place.ec2, imageId),
    currentLaunchTemplateReferences(deps, place.ec2, place.key, imageId),
    readAwsImageReferences(place.ec2, [imageId]),
  ]);
  const [instances, templates, aws] = [settled(reads[0]), settled(reads[1]), settled(reads[2])];
  const account = place.consumerAccountId;
  const named = (source: string) => (account === undefined ? source : `account ${account}: ${source}`);
  return {
    inventory: [...instances, ...templates.references].map((ref) => named(ref.source)),
    aws: aws.map((ref) => named(awsReferenceSource(ref))),
    launchTemplatesReadAt: templates.readStartedAt,
  };
}

/** A consumer of a shared AMI, reached with its own credentials. */
export interface ConsumerPlace extends CheckedPlace {
  readonly consumerAccountId: string;
}

/** Every consumer's answers together; `launchTemplatesReadAt` by consumer account. */
export interface ConsumerAnswers extends Omit<CurrentAnswers, 'launchTemplatesReadAt'> {
  readonly launchTemplatesReadAt: Readonly<Record<string, string>>;
}

/** The same check in every consumer, a bounded number at a time; any failure throws. */
export async function consumerAnswers(
  deps: LaunchTemplateReadDeps,
  consumers: readonly ConsumerPlace[],
  imageId: string,
): Promise<ConsumerAnswers> {
  const found = await mapWithConcurrency(consumers, DESCRIBE_CONCURRENCY, (each) =>
    currentAnswers(deps, each, imageId),
  );
  return {
    inventory: found.flatMap((each) => each.inventory),
    aws: found.flatMap((each) => each.aws),
    launchTemplatesReadAt: Object.fromEntries(
      found.map((each, i) => [consumers[i]?.consumerAccountId, each.launchTemplatesReadAt]),
    ),
  };
}

function settled<T>(read: PromiseSettledResult<T>): T {
  if (read.status === 'rejected') throw read.reason;
  return read.value;
}
