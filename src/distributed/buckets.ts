// Flat buckets, as torch DDP's Reducer: consecutive tensors of one dtype are packed into one flat
// buffer of at most `capBytes` (a tensor larger than the cap gets a bucket of its own), so a
// model's thousands of small gradients cost a few collectives instead of one each.
import { check } from '../errors.js';
import { ITEMSIZE, type DType } from '../tensor/dtype.js';
import { cat, noGrad, tidy, type Tensor } from '../tensor/index.js';

export interface Bucket {
  /** Positions of its tensors in the list planned, in order. */
  indices: number[];
  dtype: DType;
  /** Elements in the flat buffer (the sum of its tensors' numel). */
  numel: number;
  bytes: number;
}

/** Packs tensors (in list order) into buckets of one dtype and at most capBytes each. */
export function planBuckets(tensors: readonly { numel: number; dtype: DType }[], capBytes: number): Bucket[] {
  check(Number.isFinite(capBytes) && capBytes > 0, 'AHS_ERR_INVALID_ARGUMENT', () => `bucket cap must be a positive number of bytes, got ${capBytes}`);
  const out: Bucket[] = [];
  let cur: Bucket | null = null;
  tensors.forEach((t, i) => {
    const bytes = t.numel * ITEMSIZE[t.dtype];
    if (!cur || cur.dtype !== t.dtype || cur.bytes + bytes > capBytes) {
      cur = { indices: [], dtype: t.dtype, numel: 0, bytes: 0 };
      out.push(cur);
    }
    cur.indices.push(i);
    cur.numel += t.numel;
    cur.bytes += bytes;
  });
  return out;
}

/** The bucket's tensors flattened into one new contiguous 1-D tensor. */
export function flattenBucket(b: Bucket, tensors: readonly Tensor[]): Tensor {
  return tidy(() => cat(b.indices.map((i) => tensors[i]!.reshape([-1])), 0));
}

/** Copies a flat buffer back into the bucket's tensors, in place. */
export function unflattenBucket(b: Bucket, flat: Tensor, tensors: readonly Tensor[]): void {
  noGrad(() => tidy(() => {
    let offset = 0;
    for (const i of b.indices) {
      const t = tensors[i]!;
      const n = t.numel;
      t.copy_(flat.narrow(0, offset, n).view(t.shape));
      offset += n;
    }
  }));
}

/** "12.3 MB" for messages. */
export function fmtBytes(n: number): string {
  return n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} kB`;
}
