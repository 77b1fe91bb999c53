/**
 * Undo through the EC2 Recycle Bin: the retention settings, the tags that make a deletion
 * retainable, and when the saving of a retained deletion starts. Pure.
 *
 * A Recycle Bin tag-level rule matches one tag key AND value exactly (CloudFormation's
 * `ResourceTagValue` is required), so the rule cannot match "any run id". The deletion steps
 * therefore set two tags in one CreateTags call: `RETAIN_TAG` (the fixed pair the rules match)
 * and `RUN_TAG_KEY` = the run id (what `amicleaner restore --run` looks for, and what an
 * operator sees in the console).
 */

/** The fixed pair both retention rules match. */
export const RETAIN_TAG = { key: 'amicleaner:retain', value: 'recycle-bin' } as const;
/** The run that deleted the resource. */
export const RUN_TAG_KEY = 'amicleaner:run-id';

/** Recycle Bin retention periods are 1 to 365 days (AWS::Rbin::Rule RetentionPeriodValue). */
export const MAX_RETENTION_DAYS = 365;

export interface RecycleBinRetention {
  /** Days a deregistered AMI stays restorable. */
  readonly imageDays: number;
  /** Days a deleted snapshot stays restorable; never fewer than `imageDays`. */
  readonly snapshotDays: number;
}

export class InvalidRetentionError extends Error {
  override readonly name = 'InvalidRetentionError';
}

/**
 * Checks retention days: whole numbers 1..365, and snapshots kept at least as long as AMIs. An AMI
 * restored after its snapshots' retention ended would have no snapshots to boot from.
 */
export function validateRecycleBinRetention(
  value: { readonly imageDays: unknown; readonly snapshotDays?: unknown },
  /** How the caller spells the two settings (a prop, a flag), for the message. */
  names: { readonly image: string; readonly snapshot: string } = {
    image: 'imageDays',
    snapshot: 'snapshotDays',
  },
): RecycleBinRetention {
  const imageDays = days(value.imageDays, names.image);
  const snapshotDays = days(value.snapshotDays ?? imageDays, names.snapshot);
  if (snapshotDays < imageDays) {
    throw new InvalidRetentionError(
      `${names.snapshot} (${snapshotDays}) must be >= ${names.image} (${imageDays}): ` +
        'an AMI restored after its snapshots left the Recycle Bin has no snapshots',
    );
  }
  return Object.freeze({ imageDays, snapshotDays });
}

function days(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_RETENTION_DAYS) {
    throw new InvalidRetentionError(
      `${name} must be a whole number of days from 1 to ${MAX_RETENTION_DAYS}, got ${JSON.stringify(value) ?? String(value)}`,
    );
  }
  return value;
}

/** The tags one CreateTags call sets on an AMI and its snapshots right before they are deleted. */
export function retentionTags(runId: string): readonly { readonly Key: string; readonly Value: string }[] {
  return [
    { Key: RETAIN_TAG.key, Value: RETAIN_TAG.value },
    { Key: RUN_TAG_KEY, Value: runId },
  ];
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * When a deletion made at `deletedAt` stops costing: a snapshot in the Recycle Bin is billed like
 * any other until its retention ends. Without retention the saving starts at once.
 */
export function savingStartsAt(deletedAt: Date, retention: RecycleBinRetention | undefined): Date {
  return retention === undefined
    ? deletedAt
    : new Date(deletedAt.getTime() + retention.snapshotDays * DAY_MS);
}

/** The one sentence the summary, the CLI and the approval page show when retention is on. */
export function savingDelayText(retention: RecycleBinRetention, startsAt?: Date): string {
  const when = startsAt === undefined ? '' : ` (from ${startsAt.toISOString().slice(0, 10)})`;
  return (
    `Recycle Bin retention is on: deleted snapshots stay restorable and billed for ${retention.snapshotDays} ` +
    `days, AMIs restorable for ${retention.imageDays} days; the saving starts when the retention ends${when}.`
  );
}

/** What the deletion steps record on a ledger item they tagged: when each retention ends. */
export function retentionRecord(
  deletedAt: Date,
  retention: RecycleBinRetention,
  kind: 'IMAGE' | 'SNAPSHOT',
): Readonly<Record<string, string>> {
  const until = (days: number) => new Date(deletedAt.getTime() + days * DAY_MS).toISOString();
  return kind === 'IMAGE'
    ? { retainedUntil: until(retention.imageDays), snapshotsRetainedUntil: until(retention.snapshotDays) }
    : { retainedUntil: until(retention.snapshotDays) };
}
