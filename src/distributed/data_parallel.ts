// Data parallelism as torch's DistributedDataParallel does it, on a c10d process group: the same
// model in every process, rank 0's parameters and buffers broadcast at the start, and after each
// backward the gradients averaged over the processes in flat buckets (one allreduce per bucket),
// so every process applies the same update. The trainer calls it before gradient clipping.
import { createHash } from 'node:crypto';
import { dispose, noGrad, tidy, zerosLike, type Tensor } from '../tensor/index.js';
import { flattenBucket, fmtBytes, planBuckets, unflattenBucket, type Bucket } from './buckets.js';
import { allreduceSumFloat64, checkSameOnAllRanks } from './gather_json.js';
import type { ProcessGroup } from './process_group.js';

export class DataParallel {
  #plan: { key: string; buckets: Bucket[] } | null = null;

  constructor(readonly group: ProcessGroup, readonly bucketCapBytes: number) {}

  get rank(): number {
    return this.group.rank;
  }
  get worldSize(): number {
    return this.group.worldSize;
  }

  /** Every process takes rank 0's values of these tensors (the model's parameters and buffers,
   * after MODEL.WEIGHTS or a resume); first checks that all processes hold the same names,
   * shapes and dtypes. */
  async broadcastState(named: readonly [string, Tensor][], what = "the model's parameters and buffers"): Promise<void> {
    const signature = createHash('sha256').update(JSON.stringify(named.map(([k, t]) => [k, t.shape, t.dtype]))).digest('hex').slice(0, 16);
    await checkSameOnAllRanks(this.group, { tensors: named.length, signature }, `the list of ${what}`, 'every process must build the model from the same config and code');
    const tensors = named.map(([, t]) => t);
    const buckets = planBuckets(tensors, this.bucketCapBytes);
    for (const [k, b] of buckets.entries()) {
      const flat = tidy(() => {
        const f = flattenBucket(b, tensors);
        if (b.dtype !== 'bool') return f;
        const u = f.toDType('uint8'); // gloo has no bool reductions; bytes carry the same values
        f.dispose();
        return u;
      });
      try {
        await this.group.broadcast(flat, 0, `${what}, bucket ${k + 1}/${buckets.length} (${fmtBytes(b.bytes)})`);
        if (this.rank !== 0) {
          const back = b.dtype === 'bool' ? tidy(() => flat.toDType('bool')) : flat;
          unflattenBucket(b, back, tensors);
          if (back !== flat) back.dispose();
        }
      } finally {
        flat.dispose();
      }
    }
  }

  /**
   * grad = mean over processes of grad, for every parameter that has a gradient in some process
   * (one that got none here, because its branch was not taken on this process's batch, counts as
   * zeros; one with no gradient anywhere keeps none, as in a single process).
   */
  async averageGradients(params: readonly Tensor[]): Promise<void> {
    const w = this.worldSize;
    const grads = params.map((p) => p.grad);
    try {
      const present = Float64Array.from(grads, (g) => (g ? 1 : 0));
      await allreduceSumFloat64(this.group, present, 'the gradient presence mask');
      const live: Tensor[] = [];
      noGrad(() => params.forEach((p, i) => {
        if (present[i]! === 0) return;
        if (!grads[i]) {
          const z = zerosLike(p);
          p.grad = z;
          z.dispose();
          grads[i] = p.grad;
        }
        live.push(grads[i]!);
      }));
      const buckets = this.#bucketsFor(live);
      for (const [k, b] of buckets.entries()) {
        const flat = flattenBucket(b, live);
        try {
          await this.group.allreduceSum(flat, `gradient bucket ${k + 1}/${buckets.length} (${fmtBytes(b.bytes)})`);
          noGrad(() => flat.div_(w));
          unflattenBucket(b, flat, live);
        } finally {
          flat.dispose();
        }
      }
    } finally {
      dispose(grads.filter((g): g is Tensor => g !== null));
    }
  }

  /** The mean over processes of each value (loss terms for the logs); same keys on every rank. */
  async averageScalars(values: Record<string, number>): Promise<Record<string, number>> {
    const keys = Object.keys(values).sort();
    const v = Float64Array.from(keys, (k) => values[k]!);
    await allreduceSumFloat64(this.group, v, `the loss values (${keys.join(', ')})`);
    return Object.fromEntries(keys.map((k, i) => [k, v[i]! / this.worldSize]));
  }

  /** One line on what each step exchanges. */
  describeBuckets(params: readonly Tensor[]): string {
    const b = planBuckets(params, this.bucketCapBytes);
    const bytes = b.reduce((a, x) => a + x.bytes, 0);
    return `data parallel over ${this.worldSize} processes (${this.group.o.backend}): ${params.length} gradient tensors, ${fmtBytes(bytes)} averaged in ${b.length} bucket${b.length === 1 ? '' : 's'} of at most ${fmtBytes(this.bucketCapBytes)} per step`;
  }

  /** The bucket plan, made once for a given list of sizes and dtypes. */
  #bucketsFor(tensors: readonly Tensor[]): Bucket[] {
    const key = tensors.map((t) => `${t.dtype}:${t.numel}`).join(',');
    if (this.#plan?.key !== key) this.#plan = { key, buckets: planBuckets(tensors, this.bucketCapBytes) };
    return this.#plan.buckets;
  }
}
