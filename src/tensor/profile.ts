// Per-operator wall time. CPU ops run synchronously on the calling thread, so the time between
// entering and leaving the dispatcher call is the op's own time; on CUDA it is launch time only.
import { flopsOf } from './flops.js';
import { observeOps } from './ops.js';

export interface OpProfileRow {
  /** Schema name, plus the input shapes when `byShape` was asked for. */
  key: string;
  calls: number;
  ms: number;
  /** Counted FLOPs (dense ops only; 0 for the rest). */
  flops: number;
}

const isTensor = (a: unknown): a is { shape: number[] } => !!a && typeof a === 'object' && 'shape' in a;
/** Input shapes: `[2,3] [3]`, with tensor lists (cat, stack) as `[2,3]+[2,5]`. */
const shapeKey = (args: unknown[]): string =>
  args
    .map((a) => (isTensor(a) ? `[${a.shape.join(',')}]`
      : Array.isArray(a) && a.some(isTensor) ? a.filter(isTensor).map((t) => `[${t.shape.join(',')}]`).join('+') : ''))
    .filter((s) => s !== '')
    .join(' ');

/**
 * Runs fn and returns its result and one row per op (or per op and input shapes), sorted by
 * time. Profiles nest: an inner profile's ops are also counted by the outer one.
 */
export function profileOps<T>(fn: () => T, opts: { byShape?: boolean } = {}): { result: T; rows: OpProfileRow[] } {
  const rows = new Map<string, OpProfileRow>();
  const result = observeOps((op, args, out, ms) => {
    const key = opts.byShape ? `${op} ${shapeKey(args)}` : op;
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { key, calls: 0, ms: 0, flops: 0 }));
    r.calls++;
    r.ms += ms;
    r.flops += flopsOf(op, args, out);
  }, fn);
  return { result, rows: [...rows.values()].sort((a, b) => b.ms - a.ms) };
}

/** A fixed-width table of the top rows: ms, share, calls, GFLOP/s. */
export function formatOpProfile(rows: OpProfileRow[], top = 25): string {
  const total = rows.reduce((s, r) => s + r.ms, 0);
  const lines = [`${'ms'.padStart(9)} ${'share'.padStart(6)} ${'calls'.padStart(7)} ${'GFLOP/s'.padStart(8)}  op`];
  for (const r of rows.slice(0, top)) {
    const gfs = r.flops > 0 ? (r.flops / 1e6 / r.ms).toFixed(1) : '';
    lines.push(`${r.ms.toFixed(1).padStart(9)} ${((100 * r.ms) / total).toFixed(1).padStart(5)}% ${String(r.calls).padStart(7)} ${gfs.padStart(8)}  ${r.key}`);
  }
  lines.push(`${total.toFixed(1).padStart(9)} total in ${rows.reduce((s, r) => s + r.calls, 0)} op calls`);
  return lines.join('\n');
}
