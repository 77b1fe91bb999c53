/**
 * Orphan snapshots: left behind by CreateImage or CopyImage after their AMI was deregistered
 * without them (the original only knew CreateImage, and did not check other AMIs' mappings).
 */
import type { Image, OrphanSnapshot, Snapshot } from './model.ts';

const CREATE_IMAGE = /^Created by CreateImage\(i-[0-9a-f]+\) for (ami-[0-9a-f]+)\b/;
const COPY_IMAGE =
  /^Copied for DestinationAmi (ami-[0-9a-f]+) from SourceAmi ami-[0-9a-f]+ for SourceSnapshot snap-[0-9a-f]+/;

/** The AMI a snapshot's description says it was made for (the destination of a copy), if any. */
export function describedImageId(description: string): string | undefined {
  return (CREATE_IMAGE.exec(description) ?? COPY_IMAGE.exec(description))?.[1];
}

/**
 * A snapshot is an orphan iff it is completed, its description names an AMI that no longer
 * exists, and no existing AMI maps it (an AMI can be registered from another AMI's snapshot).
 * Sorted by snapshot id.
 */
export function findOrphanSnapshots(
  snapshots: readonly Snapshot[],
  images: readonly Pick<Image, 'imageId' | 'snapshots'>[],
): OrphanSnapshot[] {
  const imageIds = new Set(images.map((i) => i.imageId));
  const mapped = new Set(images.flatMap((i) => i.snapshots.map((s) => s.snapshotId)));
  const orphans: OrphanSnapshot[] = [];
  for (const s of snapshots) {
    if (s.state !== 'completed' || mapped.has(s.snapshotId)) continue;
    const imageId = describedImageId(s.description);
    if (imageId === undefined || imageIds.has(imageId)) continue;
    orphans.push({ snapshotId: s.snapshotId, imageId, sizeGiB: s.sizeGiB, description: s.description });
  }
  return orphans.sort((a, b) => (a.snapshotId < b.snapshotId ? -1 : a.snapshotId > b.snapshotId ? 1 : 0));
}
