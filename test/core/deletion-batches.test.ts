import { describe, expect, it } from 'vitest';
import {
  batchExecutionName,
  boundedExecutionName,
  hashDeletionBatch,
  packDeletionBatches,
} from '../../functions/core/deletion-batches.ts';

const ami = (n: number, snapshots = 1) => ({
  imageId: `ami-${n.toString(16).padStart(17, '0')}`,
  snapshotIds: Array.from(
    { length: snapshots },
    (_, i) => `snap-${(n * 100 + i).toString(16).padStart(17, '0')}`,
  ),
});
const orphan = (n: number) => ({ snapshotId: `snap-${n.toString(16).padStart(17, 'f')}` });

describe('deletion batches', () => {
  it('keeps the deletion order, AMIs then orphans, and cuts at the item limit', () => {
    // Prepare
    const images = Array.from({ length: 7 }, (_, i) => ami(i));
    const orphans = [orphan(1), orphan(2)];

    // Act
    const batches = packDeletionBatches(
      { images, orphanSnapshots: orphans },
      { maxItems: 4, maxBytes: 24_576 },
    );

    // Assess
    expect(batches.map((b) => [b.images.length, b.orphanSnapshots.length])).toEqual([
      [4, 0],
      [3, 1],
      [0, 1],
    ]);
    expect(batches.flatMap((b) => b.images)).toEqual(images);
    expect(batches.flatMap((b) => b.orphanSnapshots)).toEqual(orphans);
  });

  it('cuts at the byte limit, so AMIs with many snapshots make smaller batches that still fit', () => {
    // Prepare: each AMI with 20 snapshot ids is about 560 B of JSON.
    const images = Array.from({ length: 30 }, (_, i) => ami(i, 20));

    // Act
    const batches = packDeletionBatches({ images, orphanSnapshots: [] }, { maxItems: 1000, maxBytes: 4096 });

    // Assess
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) expect(JSON.stringify(batch).length).toBeLessThanOrEqual(4096);
    expect(batches.flatMap((b) => b.images)).toEqual(images);
  });

  it('refuses an item no batch can hold instead of dropping it', () => {
    // Act / Assess
    expect(() =>
      packDeletionBatches({ images: [ami(1, 200)], orphanSnapshots: [] }, { maxItems: 10, maxBytes: 1024 }),
    ).toThrow(/alone is \d+ B, past a batch's 1024 B/);
  });

  it('hashes a batch by its ids: one snapshot id more is another hash', () => {
    // Prepare
    const batch = { images: [ami(1, 2)], orphanSnapshots: [orphan(3)] };
    const widened = {
      images: [{ ...ami(1, 2), snapshotIds: [...ami(1, 2).snapshotIds, 'snap-00000000000000bad'] }],
      orphanSnapshots: [orphan(3)],
    };

    // Act / Assess
    expect(hashDeletionBatch('eu-west-1', batch)).toBe(
      hashDeletionBatch('eu-west-1', structuredClone(batch)),
    );
    expect(hashDeletionBatch('eu-west-1', widened)).not.toBe(hashDeletionBatch('eu-west-1', batch));
    expect(hashDeletionBatch('us-east-1', batch)).not.toBe(hashDeletionBatch('eu-west-1', batch));
  });

  it('names child executions within 80 characters, distinct for two long run ids', () => {
    // Prepare
    const long = 'r'.repeat(80);

    // Act
    const first = batchExecutionName(long, 1);
    const second = batchExecutionName(long, 2);

    // Assess
    expect(batchExecutionName('manual-1', 3)).toBe('manual-1-delete-3');
    expect(first).toHaveLength(80);
    expect(first).not.toBe(second);
    expect(boundedExecutionName('a b/c')).toBe('a-b-c');
  });
});
