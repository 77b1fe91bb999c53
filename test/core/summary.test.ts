import { describe, expect, it } from 'vitest';
import { estimateMonthlySavingUsd, summarisePlanSizes } from '../../functions/core/summary.ts';

describe('estimateMonthlySavingUsd', () => {
  it('prices GiB-months at 0.05 USD by default and rounds to cents', () => {
    // Prepare
    const gib = 333;

    // Act
    const usd = estimateMonthlySavingUsd(gib);
    const custom = estimateMonthlySavingUsd(1.1, 0.045);

    // Assess
    expect(usd).toBe(16.65);
    expect(custom).toBe(0.05);
    expect(estimateMonthlySavingUsd(0)).toBe(0);
  });
});

describe('summarisePlanSizes', () => {
  it('adds candidate and orphan snapshots', () => {
    // Prepare
    const totals = {
      candidates: 3,
      candidateSnapshots: 4,
      candidateSizeGiB: 80,
      orphanSnapshots: 2,
      orphanSizeGiB: 20,
      kept: 9,
    };

    // Act
    const summary = summarisePlanSizes(totals);

    // Assess
    expect(summary).toEqual({ images: 3, snapshots: 6, sizeGiB: 100, estimatedMonthlySavingUsd: 5 });
  });
});
