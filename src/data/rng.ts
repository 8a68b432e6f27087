// Counter-based randomness for data loading: every random draw of a training sample comes from a
// generator keyed by (seed, stream coordinates...), never from a shared global generator. Which
// worker maps a sample, and in which order, then cannot change what it sees, and a resumed run
// re-derives exactly the draws an uninterrupted run would have made.
//
// The key is hashed into a 128-bit xoshiro128** state (murmur3's fmix32 over the coordinates,
// then splitmix32 to spread it); doubles take 53 bits from two outputs.

const fmix32 = (h: number): number => {
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
};

export class Rng {
  #s0: number; #s1: number; #s2: number; #s3: number;

  /** A generator for the given coordinates (non-negative integers below 2^53 each). */
  static for(...key: number[]): Rng {
    let h = 0x9e3779b9 ^ key.length;
    for (const k of key) {
      if (!Number.isSafeInteger(k) || k < 0) throw new RangeError(`Rng.for: key parts must be non-negative safe integers, got ${k}`);
      h = fmix32(h ^ fmix32(k >>> 0));
      h = fmix32(h ^ fmix32(Math.floor(k / 2 ** 32) + 0x632be59b));
    }
    return new Rng(h);
  }

  private constructor(seed: number) {
    let x = seed >>> 0;
    const split = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.#s0 = split(); this.#s1 = split(); this.#s2 = split(); this.#s3 = split();
    if ((this.#s0 | this.#s1 | this.#s2 | this.#s3) === 0) this.#s0 = 1;
  }

  /** Next 32 random bits as an unsigned integer (xoshiro128**). */
  nextU32(): number {
    const r = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9) >>> 0;
    const t = this.#s1 << 9;
    this.#s2 ^= this.#s0; this.#s3 ^= this.#s1; this.#s1 ^= this.#s2; this.#s0 ^= this.#s3;
    this.#s2 ^= t; this.#s3 = rotl(this.#s3, 11);
    return r;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextU32() >>> 5, lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n) (n a positive integer), without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`Rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(this.random() * n);
  }

  /** Uniform integer in [lo, hi] inclusive (Python's random.randint). */
  intInclusive(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** Uniform float in [lo, hi) (Python's random.uniform). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.random();
  }

  /** True with probability p. */
  bernoulli(p = 0.5): boolean {
    return this.random() < p;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
