// batchedMatmul: the fused CPU kernel (native/src/ops/batched_matmul.cc) and the matmul fallback
// against a plain-JS product, on the strided views linear attention feeds it (permuted heads,
// transposed keys), with two batch dims.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AhsError } from '../../../src/errors.js';
import { batchedMatmul, enableGrad, noGrad, setFusedKernels, tensor, zeros } from '../../../src/tensor/index.js';
import { assertClose, jsRandom, noLeak } from '../../helpers/assert_close.js';
import { naiveBmm } from '../../helpers/naive.js';

describe('batchedMatmul', () => {
  for (const fused of [true, false]) {
    it(`${fused ? 'fused kernel' : 'matmul fallback'}: [N, H, M, K] @ [N, H, K, P] on permuted and transposed views`, () => noLeak(() => {
      const prev = setFusedKernels(fused);
      try {
        const [N, H, M, K, P] = [3, 2, 5, 4, 6];
        // a: stored (N, M, H, K), viewed (N, H, M, K); b: stored (N, H, P, K), viewed transposed (N, H, K, P).
        const aStored = jsRandom(N * M * H * K, 1, -1, 1);
        const bStored = jsRandom(N * H * P * K, 2, -1, 1);
        const a = tensor(aStored, { shape: [N, M, H, K], dtype: 'float64' }).permute([0, 2, 1, 3]);
        const b = tensor(bStored, { shape: [N, H, P, K], dtype: 'float64' }).transpose(-2, -1);
        const av: number[] = [], bv: number[] = [];
        for (let n = 0; n < N; n++) for (let h = 0; h < H; h++) {
          for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) av.push(aStored[((n * M + m) * H + h) * K + k]!);
          for (let k = 0; k < K; k++) for (let p = 0; p < P; p++) bv.push(bStored[((n * H + h) * P + p) * K + k]!);
        }
        const out = noGrad(() => batchedMatmul(a, b));
        assert.deepEqual(out.shape, [N, H, M, P]);
        assertClose(out, naiveBmm(av, bv, N * H, M, K, P), 1e-12, 0);
      } finally {
        setFusedKernels(prev);
      }
    }));
  }

  it('an empty inner dim gives zeros; a graph-recording call still differentiates', () => noLeak(() => {
    assertClose(noGrad(() => batchedMatmul(zeros([2, 3, 0]), zeros([2, 0, 4]))), new Array(24).fill(0), 0);
    const a = tensor(jsRandom(2 * 3 * 4, 3, -1, 1), { shape: [2, 3, 4] }).requiresGrad_();
    const b = tensor(jsRandom(2 * 4 * 5, 4, -1, 1), { shape: [2, 4, 5] });
    enableGrad(() => batchedMatmul(a, b).sum().backward());
    assert.ok(a.grad, 'no gradient reached a: the forward-only kernel ran under autograd');
  }));

  it('rejects mismatched batch or inner dims, naming both shapes', () => noLeak(() => {
    assert.throws(() => batchedMatmul(zeros([2, 3, 4]), zeros([3, 4, 5])), (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_SHAPE' && /\[2,3,4\] @ \[3,4,5\]/.test(e.message));
    assert.throws(() => batchedMatmul(zeros([2, 3, 4]), zeros([2, 3, 5])), (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_SHAPE');
  }));
});
