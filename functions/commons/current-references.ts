/**
 * Deregister's "in use right now" check (invariant 3) in one account and region, with that
 * account's own clients: live instances, the launch-template read (shared for a few seconds by
 * the deregistrations of the account and region, launch-template-read.ts) and EC2's own
 * DescribeImageReferences (instances, launch templates, SSM parameters, Image Builder recipes;
 * it sees the caller's account only). Written once, for the owner account and for each consumer
 * of a shared AMI alike: in use anywhere is in use. Any failed read throws, never "unused".
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import { findInstanceReferences } from '../adapters/image-actions.ts';
import { readAwsImageReferences } from '../adapters/image-references.ts';
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
  const [instances, templates, aws] = await Promise.all([
    findInstanceReferences(place.ec2, imageId),
    currentLaunchTemplateReferences(deps, place.ec2, place.key, imageId),
    readAwsImageReferences(place.ec2, [imageId]),
  ]);
  const account = place.consumerAccountId;
  const named = (source: string) => (account === undefined ? source : `account ${account}: ${source}`);
  return {
    inventory: [...instances, ...templates.references].map((ref) => named(ref.source)),
    aws: aws.map((ref) => named(awsReferenceSource(ref))),
    launchTemplatesReadAt: templates.readStartedAt,
  };
}
