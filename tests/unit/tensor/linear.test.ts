// linear: ahs::linear (oneDNN's sgemm where libtorch loaded it, native/src/ops/linear.cc) against a
// plain-JS product, over the layouts callers pass: batched inputs, permuted (non-contiguous)
// inputs, transposed weights, no bias, empty dims; and aten::linear when autograd records.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { enableGrad, linear, noGrad, tensor, zeros } from '../../../src/tensor/index.js';
import { assertClose, jsRandom, noLeak } from '../../helpers/assert_close.js';

/** x [M, K] @ w [N, K]^T + b in float64 from float32-rounded inputs. */
function naiveLinear(x: number[], w: number[], b: number[] | null, M: number, K: number, N: number): number[] {
  const out: number[] = [];
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
    let s = b ? b[n]! : 0;
    for (let k = 0; k < K; k++) s += x[m * K + k]! * w[n * K + k]!;
    out.push(s);
  }
  return out;
}
const f32 = (n: number, seed: number) => jsRandom(n, seed, -1, 1).map(Math.fround);

describe('linear (float32, CPU)', () => {
  // [M, K, N]: short inner and output dims (oneDNN when present) and a wide one (BLAS).
  for (const [M, K, N] of [[37, 64, 24], [300, 256, 129], [5, 300, 300]] as const) {
    it(`[${M}, ${K}] @ [${N}, ${K}]^T: with and without bias, batched, permuted input, transposed weight`, () => noLeak(() => {
      const xv = f32(M * K, 1), wv = f32(N * K, 2), bv = f32(N, 3);
      const x = tensor(xv, { shape: [M, K] }), w = tensor(wv, { shape: [N, K] }), b = tensor(bv, { shape: [N] });
      const tol = 2e-5 * Math.sqrt(K);
      noGrad(() => {
        assertClose(linear(x, w, b), naiveLinear(xv, wv, bv, M, K, N), tol, 0, 'bias');
        assertClose(linear(x, w), naiveLinear(xv, wv, null, M, K, N), tol, 0, 'no bias');
        // The same rows as [1, M, K] and through a permuted view (stored [K, M]).
        assertClose(linear(x.view([1, M, K]), w, b), naiveLinear(xv, wv, bv, M, K, N), tol, 0, 'batched');
        const xT = x.transpose(0, 1).contiguous().transpose(0, 1);
        assertClose(linear(xT, w, b), naiveLinear(xv, wv, bv, M, K, N), tol, 0, 'non-contiguous input');
        const wT = w.transpose(0, 1).contiguous().transpose(0, 1);
        assertClose(linear(x, wT, b), naiveLinear(xv, wv, bv, M, K, N), tol, 0, 'transposed weight storage');
      });
    }));
  }

  it('empty inputs: zero rows give [0, N]; an empty inner dim gives the bias', () => noLeak(() => {
    noGrad(() => {
      assert.deepEqual(linear(zeros([0, 8]), zeros([4, 8])).shape, [0, 4]);
      const b = tensor([1, 2, 3], { shape: [3] });
      assertClose(linear(zeros([2, 0]), zeros([3, 0]), b), [1, 2, 3, 1, 2, 3], 0);
    });
  }));

  it('records a graph when an input requires grad (aten::linear): the weight gets its gradient', () => noLeak(() => {
    const x = tensor(f32(6 * 4, 4), { shape: [6, 4] });
    const w = tensor(f32(3 * 4, 5), { shape: [3, 4] }).requiresGrad_();
    enableGrad(() => linear(x, w).sum().backward());
    assert.ok(w.grad, 'no gradient: the forward-only kernel ran under autograd');
    // d(sum(x w^T))/dw[n, k] = sum_m x[m, k]
    const xs = x.sum(0).toArray();
    assertClose(w.grad!, [0, 1, 2].flatMap(() => xs), 1e-6);
  }));
});
