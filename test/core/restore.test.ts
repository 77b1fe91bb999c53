import { describe, expect, it } from 'vitest';
import {
  InvalidRetentionError,
  retentionTags,
  savingStartsAt,
  validateRecycleBinRetention,
} from '../../functions/core/recycle-bin.ts';
import { planRestore, type RestorableItem, type RestoreObservation } from '../../functions/core/restore.ts';

const NOW = new Date('2026-05-10T00:00:00.000Z');
const image = (over: Partial<RestorableItem> = {}): RestorableItem => ({
  kind: 'IMAGE',
  id: 'ami-0000000000000000a',
  status: 'DONE',
  snapshots: [
    { snapshotId: 'snap-00000000000000001', sizeGiB: 8 },
    { snapshotId: 'snap-00000000000000002', sizeGiB: 8, sharedWith: ['ami-0000000000000000b'] },
  ],
  deregisteredAt: '2026-05-01T00:00:00.000Z',
  retainedUntil: '2026-05-08T00:00:00.000Z',
  snapshotsRetainedUntil: '2026-05-15T00:00:00.000Z',
  ...over,
});
const seen = (over: Partial<RestoreObservation> = {}): RestoreObservation => ({
  imagesInBin: new Map(),
  snapshotsInBin: new Map(),
  existingImages: new Set(),
  existingSnapshots: new Set(),
  now: NOW,
  ...over,
});
const bin = (...ids: string[]) => new Map(ids.map((id) => [id, { exitTime: '2026-06-01T00:00:00.000Z' }]));

describe('validateRecycleBinRetention', () => {
  it('defaults snapshot days to image days', () => {
    expect(validateRecycleBinRetention({ imageDays: 7 })).toEqual({ imageDays: 7, snapshotDays: 7 });
  });

  it.each([
    [{ imageDays: 14, snapshotDays: 7 }, /snapshotDays \(7\) must be >= imageDays \(14\)/],
    [{ imageDays: 0 }, /imageDays must be a whole number of days from 1 to 365, got 0/],
    [{ imageDays: 366 }, /from 1 to 365, got 366/],
    [{ imageDays: 1.5 }, /got 1.5/],
    [{ imageDays: '7' }, /got "7"/],
  ])('refuses %j with a clear message', (value, message) => {
    expect(() => validateRecycleBinRetention(value)).toThrow(InvalidRetentionError);
    expect(() => validateRecycleBinRetention(value)).toThrow(message);
  });

  it('names the settings as the caller spells them', () => {
    expect(() =>
      validateRecycleBinRetention({ imageDays: 9, snapshotDays: 3 }, { image: '--a', snapshot: '--b' }),
    ).toThrow('--b (3) must be >= --a (9)');
  });
});

describe('retention tags and saving start', () => {
  it('sets the fixed pair the rules match and the run id', () => {
    expect(retentionTags('run-7')).toEqual([
      { Key: 'amicleaner:retain', Value: 'recycle-bin' },
      { Key: 'amicleaner:run-id', Value: 'run-7' },
    ]);
  });

  it('starts the saving when the snapshot retention ends, at once without retention', () => {
    expect(savingStartsAt(NOW, { imageDays: 3, snapshotDays: 10 }).toISOString()).toBe(
      '2026-05-20T00:00:00.000Z',
    );
    expect(savingStartsAt(NOW, undefined)).toEqual(NOW);
  });
});

describe('planRestore', () => {
  it('restores an AMI whole: its deleted snapshots first (not the shared one it never deleted), then the AMI', () => {
    const decisions = planRestore(
      [image()],
      undefined,
      seen({ imagesInBin: bin('ami-0000000000000000a'), snapshotsInBin: bin('snap-00000000000000001') }),
    );
    expect(decisions).toEqual([
      {
        kind: 'IMAGE',
        id: 'ami-0000000000000000a',
        action: 'restore',
        snapshotIds: ['snap-00000000000000001'],
        restoreImage: true,
      },
    ]);
  });

  it('after a partial failure restores only what is in the bin; snapshots that still exist stay as they are', () => {
    const item = image({
      status: 'FAILED',
      snapshots: [
        { snapshotId: 'snap-00000000000000001', sizeGiB: 8 },
        { snapshotId: 'snap-00000000000000003', sizeGiB: 8 },
      ],
    });
    const [decision] = planRestore(
      [item],
      undefined,
      seen({
        imagesInBin: bin('ami-0000000000000000a'),
        snapshotsInBin: bin('snap-00000000000000001'),
        existingSnapshots: new Set(['snap-00000000000000003']),
      }),
    );
    expect(decision).toMatchObject({
      action: 'restore',
      snapshotIds: ['snap-00000000000000001'],
      restoreImage: true,
    });
  });

  it.each([
    ['retention-passed', image(), seen({ now: new Date('2026-05-09T00:00:00.000Z') })],
    ['not-found', image({ retainedUntil: '2026-06-01T00:00:00.000Z' }), seen()],
    ['not-retained', image({ retainedUntil: undefined }), seen()],
    ['already-restored', image({ status: 'RESTORED' }), seen()],
    [
      'already-restored',
      image(),
      seen({
        existingImages: new Set(['ami-0000000000000000a']),
        existingSnapshots: new Set(['snap-00000000000000001']),
      }),
    ],
    ['not-deleted', image({ status: 'KEPT' }), seen()],
  ])('says %s', (reason, item, observation) => {
    const [decision] = planRestore([item], ['ami-0000000000000000a'], observation);
    expect(decision).toMatchObject({ action: 'refuse', reason });
  });

  it('refuses an AMI whose deleted snapshot left the bin, naming it, rather than restore an AMI that cannot boot', () => {
    const [decision] = planRestore(
      [image()],
      undefined,
      seen({ imagesInBin: bin('ami-0000000000000000a'), now: new Date('2026-05-16T00:00:00.000Z') }),
    );
    expect(decision).toMatchObject({ action: 'refuse', reason: 'retention-passed' });
    expect(decision && 'detail' in decision ? decision.detail : '').toContain('snap-00000000000000001');
  });

  it('without --ami decides only on items that may have deleted something; --ami reports an id the run lacks', () => {
    const kept = image({ id: 'ami-0000000000000000c', status: 'KEPT' });
    expect(planRestore([kept], undefined, seen())).toEqual([]);
    expect(planRestore([kept], ['ami-0000000000000000d'], seen())).toEqual([
      expect.objectContaining({ id: 'ami-0000000000000000d', reason: 'not-in-run' }),
    ]);
  });

  it('restores an orphan snapshot from the bin', () => {
    const orphan: RestorableItem = { kind: 'SNAPSHOT', id: 'snap-00000000000000009', status: 'DONE' };
    expect(planRestore([orphan], undefined, seen({ snapshotsInBin: bin('snap-00000000000000009') }))).toEqual(
      [
        {
          kind: 'SNAPSHOT',
          id: 'snap-00000000000000009',
          action: 'restore',
          snapshotIds: ['snap-00000000000000009'],
          restoreImage: false,
        },
      ],
    );
  });
});
