// Small JSON values between processes (detectron2's comm.all_gather of pickled objects): each
// rank's value as UTF-8 bytes, lengths gathered first so the padded byte tensors all have the
// length of the longest. For loader positions, generator states, evaluator counts.
import { AhsError } from '../errors.js';
import { dispose, tensor, tidy } from '../tensor/index.js';
import type { ProcessGroup } from './process_group.js';

/** Every rank's value, by rank. */
export async function allGatherJson<T>(group: ProcessGroup, value: T, what: string): Promise<T[]> {
  const bytes = Buffer.from(JSON.stringify(value) ?? 'null', 'utf8');
  const len = tensor(new Float64Array([bytes.length]), { device: group.device });
  const lens = await group.allGather(len, `the sizes of ${what}`);
  const sizes = lens.map((t) => t.item());
  dispose([len, ...lens]);
  const max = Math.max(...sizes);
  const padded = new Uint8Array(max);
  padded.set(bytes);
  const mine = tensor(padded, { device: group.device });
  const all = await group.allGather(mine, what);
  try {
    return all.map((t, r) => {
      const text = Buffer.from(t.data<'uint8'>().subarray(0, sizes[r]!)).toString('utf8');
      return JSON.parse(text) as T;
    });
  } catch (err) {
    throw new AhsError('AHS_ERR_DIST', `rank ${group.rank}: ${what} from another rank could not be decoded (${(err as Error).message})`, { cause: err });
  } finally {
    dispose([mine, ...all]);
  }
}

/** Rank 0's value on every rank. */
export async function broadcastJson<T>(group: ProcessGroup, value: T, what: string): Promise<T> {
  return (await allGatherJson(group, value, what))[0]!;
}

/** Fails on every rank, naming the ranks that differ, unless all ranks hold the same value. */
export async function checkSameOnAllRanks(group: ProcessGroup, value: unknown, what: string, hint = ''): Promise<void> {
  const all = await allGatherJson(group, value, what);
  const ref = JSON.stringify(all[0]);
  const differ = all.map((v, r) => (JSON.stringify(v) === ref ? -1 : r)).filter((r) => r >= 0);
  if (differ.length) {
    const show = (v: unknown): string => { const s = JSON.stringify(v); return s.length > 120 ? `${s.slice(0, 117)}...` : s; };
    throw new AhsError('AHS_ERR_DIST', `rank ${group.rank} of ${group.worldSize}: ${what} differs between processes: rank 0 has ${show(all[0])}, ${differ.map((r) => `rank ${r} has ${show(all[r])}`).join(', ')}${hint ? `; ${hint}` : ''}`);
  }
}

/** Sums a float64 vector over ranks (exact for integer counts below 2^53), in place. */
export async function allreduceSumFloat64(group: ProcessGroup, values: Float64Array, what: string): Promise<void> {
  const t = tidy(() => tensor(values, { device: group.device }));
  try {
    await group.allreduceSum(t, what);
    values.set(t.data<'float64'>());
  } finally {
    t.dispose();
  }
}
