/**
 * Keyed collections that page in key order without O(n^2) work: a Map for lookups plus a sorted
 * key array rebuilt lazily (once after a batch of inserts, not per insert). Deleted keys stay in
 * the array as tombstones until the next rebuild, so a delete is O(1).
 */
export class SortedStore<T> {
  private readonly byKey = new Map<string, T>();
  private keys: string[] = [];
  private dirty = false;
  private tombstones = 0;

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): T | undefined {
    return this.byKey.get(key);
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  set(key: string, value: T): void {
    if (!this.byKey.has(key)) this.dirty = true;
    this.byKey.set(key, value);
  }

  delete(key: string): boolean {
    const removed = this.byKey.delete(key);
    if (removed) this.tombstones++;
    return removed;
  }

  values(): IterableIterator<T> {
    return this.byKey.values();
  }

  /** Values in key order. */
  *sortedValues(): Generator<T> {
    for (const key of this.sortedKeys()) {
      const value = this.byKey.get(key);
      if (value !== undefined) yield value;
    }
  }

  /**
   * Up to `limit` matching values after `startAfter` (exclusive), in key order. `lastKey` is set
   * only when at least one more matching value exists, so the final page carries no token (as
   * AWS does); the look-ahead stops at the next match, which keeps total work linear.
   */
  page(
    startAfter: string | undefined,
    limit: number,
    matches: (value: T) => boolean,
    /** Ends the scan early once keys leave a range (e.g. an SSM path prefix). */
    beyond?: (key: string) => boolean,
  ): { items: T[]; lastKey: string | undefined } {
    const keys = this.sortedKeys();
    const items: T[] = [];
    let lastKey: string | undefined;
    for (let i = startAfter === undefined ? 0 : upperBound(keys, startAfter); i < keys.length; i++) {
      const key = keys[i] as string;
      if (beyond?.(key)) break;
      const value = this.byKey.get(key);
      if (value === undefined || !matches(value)) continue;
      if (items.length === limit) return { items, lastKey };
      items.push(value);
      lastKey = key;
    }
    return { items, lastKey: undefined };
  }

  private sortedKeys(): string[] {
    if (this.dirty || this.tombstones > this.keys.length / 2) {
      this.keys = [...this.byKey.keys()].sort(compareKeys);
      this.dirty = false;
      this.tombstones = 0;
    }
    return this.keys;
  }
}

/** Plain code-unit order: stable across locales, and what `upperBound` assumes. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Index of the first key strictly greater than `key`. */
export function upperBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
