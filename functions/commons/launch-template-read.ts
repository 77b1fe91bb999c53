/**
 * The launch-template half of Deregister's "in use right now" check (invariant 3), shared by the
 * deregistrations of one account and region. Reading `$Default` and `$Latest` of every template
 * costs one page per 200 versions; done for every AMI, that bound deletion to
 * 20/s ÷ pages (2.86 AMIs/s at 1,334 templates, README "Backlog"). So a full read is recorded in
 * the ledger with the time it started, and a deregistration within `LAUNCH_TEMPLATE_READ_MAX_AGE_MS`
 * of that start uses it. Each AMI still gets its own instance read and EC2's own
 * DescribeImageReferences (which covers launch templates) right before it goes.
 *
 * A recorded read that is older, dated in the future, or not in the shape written is not used:
 * the deregistration reads for itself, as before. Nothing in a Lambda's input can skip the read.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import { readLaunchTemplateReferences } from '../adapters/image-actions.ts';
import type { Ledger } from '../adapters/ledger/index.ts';
import type { ImageReference } from '../core/model.ts';

/** How old a recorded read may be, from its start to this AMI's check. */
export const LAUNCH_TEMPLATE_READ_MAX_AGE_MS = 5_000;
/** Larger reads are not recorded (a DynamoDB item holds 400 KB); each AMI then reads for itself. */
export const LAUNCH_TEMPLATE_READ_MAX_BYTES = 300_000;

export interface LaunchTemplateCheck {
  readonly references: ImageReference[];
  /** When the read this answer comes from started (ISO 8601), recorded on the item for audit. */
  readonly readStartedAt: string;
}

export interface LaunchTemplateReadDeps {
  readonly ledger: Pick<Ledger, 'getLaunchTemplateRead' | 'recordLaunchTemplateRead'>;
  readonly now: () => Date;
}

export async function currentLaunchTemplateReferences(
  deps: LaunchTemplateReadDeps,
  ec2: EC2Client,
  lockKey: string,
  imageId: string,
): Promise<LaunchTemplateCheck> {
  const recorded = await deps.ledger.getLaunchTemplateRead(lockKey);
  if (recorded !== undefined) {
    const age = deps.now().getTime() - Date.parse(recorded.startedAt);
    if (age >= 0 && age <= LAUNCH_TEMPLATE_READ_MAX_AGE_MS) {
      const sources = recorded.references[imageId] ?? [];
      return {
        references: sources.map((source) => ({ imageId, kind: 'launch-template', source })),
        readStartedAt: recorded.startedAt,
      };
    }
  }
  const readStartedAt = deps.now().toISOString();
  const byImage = await readLaunchTemplateReferences(ec2);
  const references = Object.fromEntries(
    [...byImage].map(([id, refs]) => [id, refs.map((ref) => ref.source)]),
  );
  if (Buffer.byteLength(JSON.stringify(references)) <= LAUNCH_TEMPLATE_READ_MAX_BYTES) {
    await deps.ledger.recordLaunchTemplateRead(lockKey, { startedAt: readStartedAt, references });
  }
  return { references: byImage.get(imageId) ?? [], readStartedAt };
}
