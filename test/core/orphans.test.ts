import { describe, expect, it } from 'vitest';
import { describedImageId, findOrphanSnapshots } from '../../functions/core/orphans.ts';
import { image, snapshot } from './fixtures.ts';

const created = (ami: string) =>
  `Created by CreateImage(i-06a469f2d64822242) for ${ami} from vol-06caf0d5af00505e7`;
const copied = (ami: string) =>
  `Copied for DestinationAmi ${ami} from SourceAmi ami-0123456789abcdef0 for SourceSnapshot snap-0aaa. Task created on 1,700,000,000,000.`;

describe('describedImageId', () => {
  it('reads the AMI from CreateImage and CopyImage descriptions only', () => {
    // Prepare
    const descriptions = [
      created('ami-654b5503'),
      copied('ami-0feed0001'),
      'Created by AWS Backup for ami-654b5503',
      '',
    ];

    // Act
    const ids = descriptions.map(describedImageId);

    // Assess
    expect(ids).toEqual(['ami-654b5503', 'ami-0feed0001', undefined, undefined]);
  });
});

describe('findOrphanSnapshots', () => {
  it('finds CreateImage and CopyImage leftovers of deleted AMIs, sorted by snapshot id', () => {
    // Prepare
    const snapshots = [
      snapshot({ snapshotId: 'snap-0002', description: copied('ami-0dead0002'), sizeGiB: 20 }),
      snapshot({ snapshotId: 'snap-0001', description: created('ami-0dead0001') }),
    ];

    // Act
    const orphans = findOrphanSnapshots(snapshots, []);

    // Assess
    expect(orphans).toEqual([
      {
        snapshotId: 'snap-0001',
        imageId: 'ami-0dead0001',
        sizeGiB: 8,
        description: created('ami-0dead0001'),
      },
      {
        snapshotId: 'snap-0002',
        imageId: 'ami-0dead0002',
        sizeGiB: 20,
        description: copied('ami-0dead0002'),
      },
    ]);
  });

  it('does not report a snapshot whose AMI still exists', () => {
    // Prepare
    const snapshots = [snapshot({ snapshotId: 'snap-0001', description: created('ami-0a11ce001') })];
    const images = [image({ imageId: 'ami-0a11ce001' })];

    // Act
    const orphans = findOrphanSnapshots(snapshots, images);

    // Assess
    expect(orphans).toEqual([]);
  });

  it('does not report a snapshot of a deleted AMI that another existing AMI still maps', () => {
    // Prepare: registered again from the snapshot after the original AMI was deregistered
    const snapshots = [snapshot({ snapshotId: 'snap-0001', description: created('ami-0dead0001') })];
    const images = [
      image({
        imageId: 'ami-0a11ce002',
        snapshots: [{ deviceName: '/dev/xvda', snapshotId: 'snap-0001', sizeGiB: 8 }],
      }),
    ];

    // Act
    const orphans = findOrphanSnapshots(snapshots, images);

    // Assess
    expect(orphans).toEqual([]);
  });

  it('ignores snapshots that are not completed or were not made by CreateImage or CopyImage', () => {
    // Prepare
    const snapshots = [
      snapshot({ snapshotId: 'snap-0001', description: created('ami-0dead0001'), state: 'pending' }),
      snapshot({ snapshotId: 'snap-0002', description: created('ami-0dead0001'), state: 'error' }),
      snapshot({ snapshotId: 'snap-0003', description: 'nightly backup of ami-0dead0001' }),
    ];

    // Act
    const orphans = findOrphanSnapshots(snapshots, []);

    // Assess
    expect(orphans).toEqual([]);
  });
});
