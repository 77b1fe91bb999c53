import { describe, expect, it } from 'vitest';
import { mapWithConcurrency } from '../../functions/adapters/concurrency.ts';

describe('mapWithConcurrency', () => {
  it('rejects with the first failure only after the calls in flight settled, and starts no new one', async () => {
    // Prepare: item 0 fails at once, item 1 is still writing, item 2 has not started.
    const finished: number[] = [];
    const started: number[] = [];
    const call = async (item: number) => {
      started.push(item);
      if (item === 0) throw new Error('denied');
      await new Promise((resolve) => setTimeout(resolve, 20));
      finished.push(item);
      return item;
    };

    // Act
    const outcome = await mapWithConcurrency([0, 1, 2], 2, call).catch((error: Error) => error);

    // Assess
    expect(outcome).toMatchObject({ message: 'denied' });
    expect(finished).toEqual([1]);
    expect(started).toEqual([0, 1]);
  });
});
