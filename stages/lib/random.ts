/**
 * Seeded randomness for everything defrost generates: task matrices, latents, label noise,
 * subsets, shuffles. A dataset must be a pure function of its parameters and seed, on every
 * platform and Node version, so nothing here uses Math.random or platform-dependent state.
 *
 * Streams are derived by name (`rng.fork('source/F')`), so adding a new random draw somewhere
 * never shifts the numbers drawn elsewhere.
 */
import { createHash } from 'node:crypto';

/**
 * Derived seeds already computed in this process: a training run makes a stream per epoch (its
 * shuffle), 2,000 of them for a small n, and the same ones again for every run of that n and seed;
 * three sha256 each were ~1% of a fixed-budget study's worker time (docs/performance.md,
 * "Per-instance overhead"). A pure function's results, so bounded by simply starting over.
 */
const derived = new Map<string, number>();
const DERIVED_LIMIT = 1 << 16;

/** 32-bit seed from any seed and a stream name, through sha256 (stable, well mixed). */
export function deriveSeed(seed: number | string, name: string): number {
  const text = `${seed}\u0000${name}`;
  const known = derived.get(text);
  if (known !== undefined) return known;
  const value = createHash('sha256').update(text).digest().readUInt32LE(0);
  if (derived.size >= DERIVED_LIMIT) derived.clear();
  derived.set(text, value);
  return value;
}

/**
 * sfc32 (Chris Doty-Humphrey's small fast counting generator): 128-bit state, passes
 * PractRand to 2^42+, and fast in plain 32-bit integer JavaScript.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | null = null;

  constructor(
    readonly seed: number | string,
    readonly stream = '',
  ) {
    this.a = deriveSeed(seed, `${stream}/a`);
    this.b = deriveSeed(seed, `${stream}/b`);
    this.c = deriveSeed(seed, `${stream}/c`);
    this.d = 1;
    for (let i = 0; i < 15; i++) this.nextUint32();
  }

  /** An independent stream named relative to this one. */
  fork(name: string): Rng {
    return new Rng(this.seed, `${this.stream}/${name}`);
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box-Muller, both values used). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fills `out` with N(0, 1) samples and returns it. */
  fillNormal<T extends Float32Array | Float64Array>(out: T): T {
    for (let i = 0; i < out.length; i++) out[i] = this.normal();
    return out;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    this.shuffle(p);
    return p;
  }

  /** Shuffles in place (Fisher-Yates). */
  shuffle<T extends { length: number; [i: number]: number }>(values: T): T {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = values[i];
      values[i] = values[j];
      values[j] = t;
    }
    return values;
  }
}
