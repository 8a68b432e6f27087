// multiHeadAttention: the fused CPU kernel (native/src/ops/attention.cc) and the composite form
// against a plain-JS computation from the definition, the per-window mask cycling over the batch,
// the heads-merged output layout, and a graph recorded when autograd is on (the fused kernel's own
// backward; its gradients are checked in attention_grad.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AhsError } from '../../../src/errors.js';
import { enableGrad, liveTensorCount, multiHeadAttention, noGrad, setFusedKernels, tensor, type Tensor } from '../../../src/tensor/index.js';
import { assertClose, jsRandom, noLeak, numelOf } from '../../helpers/assert_close.js';

/** softmax(scale q k^T + mask[b % M]) v from the definition: q, k, v [B, H, *, *] -> [B, L, H Dv]. */
function naiveMha(q: number[], k: number[], v: number[], dims: { B: number; H: number; L: number; S: number; D: number; Dv: number },
  scale: number, mask?: { vals: number[]; M: number }): number[] {
  const { B, H, L, S, D, Dv } = dims;
  const out = new Array<number>(B * L * H * Dv).fill(0);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let l = 0; l < L; l++) {
    const logits: number[] = [];
    for (let s = 0; s < S; s++) {
      let dot = 0;
      for (let d = 0; d < D; d++) dot += q[((b * H + h) * L + l) * D + d]! * k[((b * H + h) * S + s) * D + d]!;
      logits.push(scale * dot + (mask ? mask.vals[((b % mask.M) * L + l) * S + s]! : 0));
    }
    const mx = Math.max(...logits);
    const e = logits.map((x) => Math.exp(x - mx));
    const z = e.reduce((a, c) => a + c, 0);
    for (let dv = 0; dv < Dv; dv++) {
      let acc = 0;
      for (let s = 0; s < S; s++) acc += (e[s]! / z) * v[((b * H + h) * S + s) * Dv + dv]!;
      out[((b * L + l) * H + h) * Dv + dv] = acc;
    }
  }
  return out;
}

/** A [B, H, N, C] tensor stored as [B, N, H, C] (the permuted view a projection gives), and its values in [B, H, N, C] order. */
function headsView(B: number, H: number, N: number, C: number, seed: number): [Tensor, number[]] {
  const stored = jsRandom(B * N * H * C, seed, -1.5, 1.5);
  const t = tensor(stored, { shape: [B, N, H, C], dtype: 'float64' }).permute([0, 2, 1, 3]);
  const vals: number[] = [];
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) vals.push(stored[((b * N + n) * H + h) * C + c]!);
  return [t, vals];
}

describe('multiHeadAttention', () => {
  const dims = { B: 4, H: 3, L: 5, S: 7, D: 4, Dv: 6 };
  const M = 2;

  for (const fused of [true, false]) {
    it(`${fused ? 'fused kernel' : 'composite form'}: values of the definition, mask[b % M] per batch item, heads merged into [B, L, H Dv]`, () => noLeak(() => {
      const prev = setFusedKernels(fused);
      try {
        const { B, H, L, S, D, Dv } = dims;
        const [q, qv] = headsView(B, H, L, D, 1);
        const [k, kv] = headsView(B, H, S, D, 2);
        const [v, vv] = headsView(B, H, S, Dv, 3);
        // A mask with -100 entries (as Swin's) and ordinary ones, different for the two windows.
        const mvals = jsRandom(M * L * S, 4, -2, 2).map((x, i) => (i % 5 === 0 ? -100 : x));
        const mask = tensor(mvals, { shape: [M, L, S], dtype: 'float64' });
        const out = noGrad(() => multiHeadAttention(q, k, v, { mask, scale: 0.37 }));
        assert.deepEqual(out.shape, [B, L, H * Dv]);
        assertClose(out, naiveMha(qv, kv, vv, dims, 0.37, { vals: mvals, M }), 1e-12, 0, 'masked');
        const plain = noGrad(() => multiHeadAttention(q, k, v));
        assertClose(plain, naiveMha(qv, kv, vv, dims, 1 / Math.sqrt(D)), 1e-12, 0, 'default scale, no mask');
      } finally {
        setFusedKernels(prev);
      }
    }));
  }

  it('fused and composite agree in float32 on a Swin window shape with its -100 mask (denormal probabilities flushed)', () => noLeak(() => {
    const B = 8, H = 4, N = 36, D = 32, nW = 4;
    const mk = (seed: number) => tensor(jsRandom(B * N * H * D, seed, -3, 3), { shape: [B, N, H, D] }).permute([0, 2, 1, 3]);
    const [q, k, v] = [mk(5), mk(6), mk(7)];
    const mask = tensor(jsRandom(nW * N * N, 8, 0, 1).map((x) => (x < 0.5 ? -100 : 0)), { shape: [nW, N, N] });
    const fused = noGrad(() => multiHeadAttention(q, k, v, { mask }));
    const prev = setFusedKernels(false);
    try {
      assertClose(fused, noGrad(() => multiHeadAttention(q, k, v, { mask })), 2e-5, 1e-5, 'fused vs composite');
    } finally {
      setFusedKernels(prev);
    }
  }));

  it('records a graph when an input requires grad: gradients reach q, k and v', () => noLeak(() => {
    const { B, H, L, S, D, Dv } = dims;
    const leaf = (n: number, c: number, seed: number) => tensor(jsRandom(B * H * n * c, seed, -1, 1), { shape: [B, H, n, c] }).requiresGrad_();
    const [q, k, v] = [leaf(L, D, 9), leaf(S, D, 10), leaf(S, Dv, 11)];
    const out = enableGrad(() => multiHeadAttention(q, k, v));
    const expected = noGrad(() => multiHeadAttention(q, k, v));
    assertClose(out, expected, 1e-6, 1e-6, 'graph-recording forward equals the fused forward');
    enableGrad(() => out.pow(2).sum().backward());
    for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
      const g = t.grad;
      assert.ok(g, `${name}.grad is missing: no graph was recorded through the attention`);
      assert.ok(g.abs().sum().item() > 0, `${name}.grad is all zero`);
    }
  }));

  for (const fused of [true, false]) {
    it(`${fused ? 'fused kernel' : 'composite form'}: outside any scope only the output stays alive`, () => {
      const prev = setFusedKernels(fused);
      const [q] = headsView(2, 2, 3, 4, 13);
      try {
        const before = liveTensorCount();
        const out = noGrad(() => multiHeadAttention(q, q, q));
        assert.equal(liveTensorCount(), before + 1, 'intermediate tensors were left alive');
        out.dispose();
      } finally {
        q.dispose();
        setFusedKernels(prev);
      }
    });
  }

  it('rejects a mask whose window count does not divide the batch, naming the shapes', () => noLeak(() => {
    const [q] = headsView(4, 1, 3, 2, 12);
    const bad = tensor(new Array(numelOf([3, 3, 3])).fill(0), { shape: [3, 3, 3], dtype: 'float64' });
    assert.throws(() => multiHeadAttention(q, q, q, { mask: bad }), (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_SHAPE' && /\[M, 3, 3\] with M dividing 4, got \[3,3,3\]/.test(e.message));
  }));
});
