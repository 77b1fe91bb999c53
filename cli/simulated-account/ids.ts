/**
 * Deterministic identifiers. Seeded accounts must print the same ids on every run (the demo's
 * output is documented), so nothing here uses Math.random or the clock.
 */

/** FNV-1a over the seed text: a stable 32-bit start state for the generator. */
export function hashSeed(seed: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    hash ^= seed.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** mulberry32: tiny, fast and good enough for ids and test data (not for secrets). */
export class SeededRandom {
  private state: number;

  constructor(seed: string) {
    this.state = hashSeed(seed);
  }

  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  hex(length: number): string {
    let out = '';
    while (out.length < length) out += this.nextUint32().toString(16).padStart(8, '0');
    return out.slice(0, length);
  }
}

const BYTE_HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/** Eight hex digits; a table lookup, as this runs several times per generated image. */
function hex8(value: number): string {
  return (
    (BYTE_HEX[value >>> 24] as string) +
    (BYTE_HEX[(value >>> 16) & 0xff] as string) +
    (BYTE_HEX[(value >>> 8) & 0xff] as string) +
    (BYTE_HEX[value & 0xff] as string)
  );
}

/** A 32-bit mixing function (the Feistel round function below). */
function mix(value: number, key: number): number {
  let t = (value ^ key) >>> 0;
  t = Math.imul(t ^ (t >>> 16), 0x7feb352d);
  t = Math.imul(t ^ (t >>> 15), 0x846ca68b);
  return (t ^ (t >>> 16)) >>> 0;
}

/**
 * Issues unique AWS-style ids (`ami-` + 17 hex digits, ...) from a seed. Each id is a counter
 * run through a keyed 64-bit Feistel permutation: a bijection, so ids never repeat and no set of
 * issued ids is needed (100,000-image accounts are built in well under a second).
 */
export class IdGenerator {
  private readonly keys: readonly number[];
  private readonly random: SeededRandom;
  private readonly reserved = new Set<string>();
  private counter = 0;

  constructor(seed: string) {
    const keySource = new SeededRandom(`ids:${seed}`);
    this.keys = [0, 1, 2, 3].map(() => keySource.nextUint32());
    this.random = new SeededRandom(`uuids:${seed}`);
  }

  /**
   * `prefix-` followed by `hexLength` hex digits. With the default 17 digits the id starts with
   * `0`, as current AWS ids do, and is unique within this generator.
   */
  next(prefix: string, hexLength = 17): string {
    for (;;) {
      let left = 0;
      let right = this.counter++;
      for (const key of this.keys) {
        const next = (left ^ mix(right, key)) >>> 0;
        left = right;
        right = next;
      }
      const digits = hex8(left) + hex8(right);
      const id = `${prefix}-${hexLength > 16 ? digits.padStart(hexLength, '0') : digits.slice(16 - hexLength)}`;
      if (this.reserved.size === 0 || !this.reserved.has(id)) return id;
    }
  }

  /** Marks an id chosen by a caller as taken, so generated ids never collide with it. */
  reserve(id: string): void {
    this.reserved.add(id);
  }

  /** An RFC 4122-looking id, for request ids and message ids. */
  uuid(): string {
    const h = this.random.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}
