/** Bounded parallelism for AWS calls: fast, but never more in flight than a service's bucket wants. */

/**
 * Maps with at most `limit` calls in flight. After the first failure no new call starts, and the
 * promise rejects with that failure only once the calls already in flight have settled: a Lambda
 * that returned while writes were still landing would leave items behind its own failure handling.
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T);
      } catch (err) {
        failed = true; // stop the other workers from starting new calls
        throw err;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failure = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failure) throw failure.reason;
  return results;
}
