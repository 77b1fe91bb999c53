import { describe, expect, it } from 'vitest';
import {
  NO_PROGRESS,
  nextSlice,
  prefixHash,
  ROTATE_PASS_CALLS,
  RotateProgressError,
  rotatePasses,
  verifyProgress,
} from '../../functions/core/rotate-passes.ts';

describe('rotate passes', () => {
  it('bounds the passes by the cap: its sharing checks and one reference call per 10 candidates', () => {
    // Act / Assess
    expect(ROTATE_PASS_CALLS / 20).toBeLessThanOrEqual(400); // seconds at the describe refill
    expect(rotatePasses(0)).toBe(1);
    expect(rotatePasses(7_272)).toBe(1); // 7,272 + 728 = 8,000 calls
    expect(rotatePasses(7_273)).toBe(2);
    expect(rotatePasses(20_000)).toBe(3); // 22,000 calls
    expect(rotatePasses(10, 1)).toBe(11);
  });

  it('accepts only the previous pass over a prefix of the same list', () => {
    // Prepare
    const ids = ['ami-1', 'ami-2', 'ami-3'];
    const after2 = {
      ...NO_PROGRESS,
      pass: 0,
      sharing: { checked: 2, checkedHash: prefixHash(ids.slice(0, 2)), shared: [] },
    };

    // Act / Assess
    expect(() => verifyProgress(NO_PROGRESS, 0, { sharingIds: ids })).not.toThrow();
    expect(() => verifyProgress(after2, 1, { sharingIds: ids })).not.toThrow();
    expect(() => verifyProgress(after2, 2, { sharingIds: ids })).toThrow(RotateProgressError);
    expect(() => verifyProgress(after2, 1, { sharingIds: ['ami-2', 'ami-1', 'ami-3'] })).toThrow(
      /other AMIs/,
    );
    expect(() => verifyProgress(after2, 1, { sharingIds: ['ami-1'] })).toThrow(/other AMIs/);
    expect(nextSlice(ids, 2, 5)).toEqual(['ami-3']);
    expect(nextSlice(ids, 1, 0)).toEqual([]);
  });
});
