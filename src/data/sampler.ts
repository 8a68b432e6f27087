// detectron2's TrainingSampler as a pure function of the stream position. The infinite stream is
// epoch after epoch of a permutation of the dataset's indices [0, N):
//
//   indexAt(k) = permutation(floor(k / N))[k mod N]
//   permutation(e) = Fisher-Yates (Durstenfeld: i from N-1 down to 1, swap i with rng.int(i + 1))
//                    of [0, N), rng = Rng.for(SAMPLER_KEY, seed, e)
//
// The key carries a constant tag because the mapper's generator for stream position k is
// Rng.for(seed, k): an untagged Rng.for(seed, e) would make epoch e's shuffle and the augmentation
// of position e draw the same numbers. (Rng.for hashes the key's length, so the 3-part key cannot
// collide with the mapper's 2-part keys.)
//
// Data parallelism, as detectron2's islice(stream, rank, None, world_size): rank r of w takes the
// global positions k = r, r + w, r + 2w, ... ; localToGlobal maps its j-th position to k.
import { check } from '../errors.js';
import { Rng } from './rng.js';

/** First key part of the shuffle generator (see above). */
export const SAMPLER_KEY = 0x5a3b1e;

/** Global stream position of rank `rank`'s `local`-th sample, with `worldSize` ranks. */
export function localToGlobal(local: number, rank: number, worldSize: number): number {
  return local * worldSize + rank;
}

/** Checks rank / world size, naming the option at fault. */
export function checkShard(rank: number, worldSize: number): void {
  check(Number.isInteger(worldSize) && worldSize >= 1, 'AHS_ERR_INVALID_ARGUMENT', () => `worldSize must be a positive integer, got ${worldSize}`);
  check(
    Number.isInteger(rank) && rank >= 0 && rank < worldSize,
    'AHS_ERR_INVALID_ARGUMENT',
    () => `rank must be an integer in [0, ${worldSize}) for worldSize ${worldSize}, got ${rank}`,
  );
}

export class TrainingSampler {
  readonly size: number;
  readonly seed: number;
  readonly shuffle: boolean;
  #epoch = -1;
  #perm: Uint32Array = new Uint32Array(0);

  /** `shuffle: false` streams 0..N-1 over and over (detectron2's shuffle=False). */
  constructor(size: number, seed: number, opts: { shuffle?: boolean } = {}) {
    check(Number.isInteger(size) && size > 0 && size < 2 ** 32, 'AHS_ERR_INVALID_ARGUMENT', () => `TrainingSampler: size must be a positive integer below 2^32, got ${size}`);
    check(Number.isSafeInteger(seed) && seed >= 0, 'AHS_ERR_INVALID_ARGUMENT', () => `TrainingSampler: seed must be a non-negative integer, got ${seed}`);
    this.size = size;
    this.seed = seed;
    this.shuffle = opts.shuffle ?? true;
  }

  /** Epoch e's order of the dataset indices (a fresh array). */
  permutation(epoch: number): Uint32Array {
    check(Number.isSafeInteger(epoch) && epoch >= 0, 'AHS_ERR_INVALID_ARGUMENT', () => `TrainingSampler: epoch must be a non-negative integer, got ${epoch}`);
    const p = new Uint32Array(this.size);
    for (let i = 0; i < p.length; i++) p[i] = i;
    if (!this.shuffle) return p;
    const rng = Rng.for(SAMPLER_KEY, this.seed, epoch);
    for (let i = p.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }

  /** Dataset index at global stream position k. */
  indexAt(k: number): number {
    check(Number.isSafeInteger(k) && k >= 0, 'AHS_ERR_INVALID_ARGUMENT', () => `TrainingSampler: stream position must be a non-negative integer, got ${k}`);
    const epoch = Math.floor(k / this.size);
    // One cached epoch: the stream is read in (nearly) increasing order.
    if (epoch !== this.#epoch) {
      this.#perm = this.permutation(epoch);
      this.#epoch = epoch;
    }
    return this.#perm[k - epoch * this.size]!;
  }
}
