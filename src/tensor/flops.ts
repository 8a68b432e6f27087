// Counts the multiply-add FLOPs (2 per MAC) of the dense ops that dominate the models: matmul,
// linear, bmm, mm, einsum, conv2d, conv_transpose2d and the addon's
// ahs::linear, ahs::attention and ahs::batched_matmul. Used by bench/ to report the achieved
// GFLOP/s of a whole pipeline; elementwise ops are not counted.
import { observeOps } from './ops.js';
import type { Tensor } from './tensor.js';

const shapeOf = (t: unknown): number[] => (t as Tensor).shape;
const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** The counted FLOPs of one op call (0 for ops that are not counted). */
export function flopsOf(op: string, args: unknown[], out: unknown): number {
  switch (op) {
    case 'aten::linear':
    case 'ahs::linear': { const x = shapeOf(args[0]); const w = shapeOf(args[1]); return 2 * (prod(x) / x[x.length - 1]!) * w[0]! * w[1]!; }
    case 'ahs::mlp': { // x [.., D] through fc1 [H, D] and fc2 [O, H]
      const x = shapeOf(args[0]); const w1 = shapeOf(args[1]); const w2 = shapeOf(args[3]);
      return 2 * (prod(x) / x[x.length - 1]!) * (w1[0]! * w1[1]! + w2[0]! * w2[1]!);
    }
    case 'ahs::guided_linear': { const w = shapeOf(args[2]); return 2 * (prod(shapeOf(out)) / w[0]!) * w[0]! * w[1]!; }
    case 'aten::mm':
    case 'aten::bmm':
    case 'aten::matmul':
    case 'ahs::batched_matmul': { const a = shapeOf(args[0]); return 2 * prod(shapeOf(out)) * a[a.length - 1]!; }
    case 'ahs::attention': { // q [B, H, L, D] k^T, then [B, H, L, S] v [B, H, S, Dv]
      const q = shapeOf(args[0]); const k = shapeOf(args[1]); const v = shapeOf(args[2]);
      return 2 * q[0]! * q[1]! * q[2]! * k[2]! * (q[3]! + v[3]!);
    }
    case 'aten::conv2d': { const w = shapeOf(args[1]); return 2 * prod(shapeOf(out)) * w[1]! * w[2]! * w[3]!; }
    case 'aten::conv_transpose2d': { const x = shapeOf(args[0]); const w = shapeOf(args[1]); return 2 * prod(x) * w[1]! * w[2]! * w[3]!; }
    case 'aten::einsum': {
      // Product of every index's size, once per multiply-add.
      const [lhs] = (args[0] as string).replace(/\s/g, '').split('->') as [string];
      const sizes = new Map<string, number>();
      lhs.split(',').forEach((spec, i) => {
        const s = shapeOf((args[1] as unknown[])[i]);
        [...spec].forEach((c, j) => sizes.set(c, s[j]!));
      });
      return 2 * [...sizes.values()].reduce((a, b) => a * b, 1);
    }
    default: return 0;
  }
}

/** Runs fn and returns its result and the FLOPs of the counted ops it ran. */
export function countFlops<T>(fn: () => T): { result: T; flops: number } {
  let flops = 0;
  const result = observeOps((op, args, out) => { flops += flopsOf(op, args, out); }, fn);
  return { result, flops };
}
