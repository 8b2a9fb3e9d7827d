/**
 * A small, seeded pseudo-random generator: every random choice in the project
 * (data splits, shuffles, augmentations, weight initialisation) draws from an
 * {@linkcode Rng}, so a run is reproduced exactly by its seed.
 *
 * The generator is sfc32 (Chris Doty-Humphrey's "small fast counting" PRNG,
 * 128 bits of state, 32-bit outputs), keyed by hashing the seed with the
 * splitmix32 finaliser. {@linkcode Rng.fork} derives a child stream from the
 * parent's *key* and a label, not from its current position, so forks are
 * deterministic however much the parent has been used, and the "split" and
 * "augment" streams of a run never disturb each other.
 *
 * Not for cryptography.
 *
 * @example
 * ```ts
 * import { Rng } from "./rng.ts";
 * const rng = new Rng(42);
 * const order = rng.permutation(10); // the same for every run with seed 42
 * const augment = rng.fork("augment"); // independent of what `rng` draws next
 * const angle = augment.uniform(-50, 50);
 * ```
 *
 * @module
 */

const TWO_POW_32 = 4294967296;

/** The splitmix32 finaliser: a bijective avalanche of a 32-bit word. */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/** Hashes any number of 32-bit words into a 4-word key (a sponge over `mix32`). */
function keyFromWords(words: readonly number[]): Uint32Array {
  let h = 0x6a09e667;
  for (const w of words) h = mix32((h ^ mix32(w >>> 0)) + 0x85ebca6b);
  h = mix32(h ^ words.length);
  const key = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    h = mix32(h + i);
    key[i] = h;
  }
  return key;
}

/** The UTF-8 bytes of `s`, packed little-endian into 32-bit words. */
function stringWords(s: string): number[] {
  const bytes = new TextEncoder().encode(s);
  const words = new Array<number>(Math.ceil(bytes.length / 4)).fill(0);
  for (let i = 0; i < bytes.length; i++) words[i >>> 2] |= bytes[i] << (8 * (i & 3));
  return [bytes.length, ...words];
}

/** Splits a safe integer (possibly negative or above 2^32) into its low and high words. */
function integerWords(n: number): [number, number] {
  const lo = n >>> 0; // n mod 2^32, also for negative n
  const hi = Math.floor((n - lo) / TWO_POW_32) >>> 0;
  return [lo, hi];
}

/**
 * A 32-bit seed derived from a string (UTF-8, hashed), for seeds given as
 * names, e.g. `new Rng(seedFromString("fashion-mnist split"))`.
 */
export function seedFromString(s: string): number {
  return keyFromWords(stringWords(s))[0];
}

/**
 * A seeded pseudo-random stream (sfc32). The same seed always gives the same
 * sequence of draws; see the module documentation.
 */
export class Rng {
  /** The seed this stream (or its root, for a fork) was made from. */
  readonly seed: number;
  private key: Uint32Array;
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;
  /** Second Box-Muller deviate, kept for the next `normal` call. */
  private spareNormal: number | null = null;

  /**
   * A stream seeded by `seed`, any safe integer (negative and > 2^32 seeds
   * are distinct from their 32-bit truncations).
   */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) {
      throw new Error(`Rng: the seed must be a safe integer, got ${seed}`);
    }
    this.seed = seed;
    const [lo, hi] = integerWords(seed);
    this.key = keyFromWords([0x5eed, lo, hi]);
    this.reset();
  }

  /** Restarts the state from the key: the first draw after construction. */
  private reset(): void {
    [this.a, this.b, this.c, this.d] = this.key;
    this.d = (this.d | 1) >>> 0; // the counter word; any value works, odd is customary
    this.spareNormal = null;
    for (let i = 0; i < 16; i++) this.uint32(); // warm-up, as sfc32 recommends
  }

  /** A uniform 32-bit unsigned integer in [0, 2^32). */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.uint32() / TWO_POW_32;
  }

  /** A uniform integer in [0, n), without modulo bias; `n` is an integer in [1, 2^32]. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new Error(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    }
    // Reject the top, incomplete copy of [0, n) in [0, 2^32).
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let u = this.uint32();
    while (u >= limit) u = this.uint32();
    return u % n;
  }

  /** A uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo) {
      throw new Error(`Rng.uniform: need finite lo <= hi, got [${lo}, ${hi})`);
    }
    return lo + (hi - lo) * this.next();
  }

  /** A normal (Gaussian) deviate with the given mean and standard deviation (Box-Muller). */
  normal(mean = 0, std = 1): number {
    if (!(std >= 0) || !Number.isFinite(std)) {
      throw new Error(`Rng.normal: std must be finite and >= 0, got ${std}`);
    }
    let z: number;
    if (this.spareNormal !== null) {
      z = this.spareNormal;
      this.spareNormal = null;
    } else {
      const u = 1 - this.next(); // (0, 1], so the log is finite
      const v = this.next();
      const r = Math.sqrt(-2 * Math.log(u));
      z = r * Math.cos(2 * Math.PI * v);
      this.spareNormal = r * Math.sin(2 * Math.PI * v);
    }
    return mean + std * z;
  }

  /** Shuffles `array` in place (Fisher-Yates) and returns it. */
  shuffle<T>(array: T[]): T[];
  /** Shuffles a typed array in place (Fisher-Yates) and returns it. */
  shuffle<A extends Int32Array | Uint32Array | Float32Array | Float64Array | Uint8Array>(
    array: A,
  ): A;
  shuffle(array: { length: number; [i: number]: unknown }): unknown {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = array[i];
      array[i] = array[j];
      array[j] = t;
    }
    return array;
  }

  /** A uniformly random permutation of 0, 1, ..., n - 1. */
  permutation(n: number): Int32Array {
    if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) {
      throw new Error(`Rng.permutation: n must be a non-negative integer, got ${n}`);
    }
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /**
   * An independent child stream named by `label`. It depends only on this
   * stream's seed (and fork path) and the label, not on how many numbers have
   * been drawn, so `rng.fork("augment")` is the same stream at any point of a
   * run. Different labels (and a string vs. the same number) give unrelated
   * streams; forks can be forked again.
   */
  fork(label: string | number): Rng {
    let labelWords: number[];
    if (typeof label === "number") {
      if (!Number.isSafeInteger(label)) {
        throw new Error(`Rng.fork: a numeric label must be a safe integer, got ${label}`);
      }
      labelWords = [0x4e554d, ...integerWords(label)];
    } else {
      labelWords = [0x535452, ...stringWords(label)];
    }
    const child = new Rng(this.seed);
    child.key = keyFromWords([0xf02c, ...this.key, ...labelWords]);
    child.reset();
    return child;
  }
}

/**
 * A seed for tfjs's seeded initialisers and random ops, from a run's seed and a stream number
 * (one per layer or op): `seed · 1000 + stream + 1`, never 0. tfjs reads a seed of 0 as "no
 * seed" and draws from `Math.random` instead, so `seed · 1000 + i` made the first layer of
 * every seed-0 model random.
 *
 * @example
 * ```ts
 * import { tfjsSeed } from "./rng.ts";
 * tfjsSeed(0, 0); // 1
 * tfjsSeed(2, 500); // 2501
 * ```
 */
export function tfjsSeed(seed: number, stream: number): number {
  const v = seed * 1000 + stream + 1;
  return v === 0 ? 0x7fffffff : v;
}
