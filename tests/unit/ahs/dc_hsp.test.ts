// DC-HSP (src/models/ahs/dc_hsp.ts): state-dict names and parameter count, identity at init in
// both modes, the adjusted embedding against a plain-JS transcription of the formula, the rank
// mask's monotonicity in c_k, gradients (from zero init and once B != 0), and input checks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClassAwareProjection, type ClassAwareProjectionOptions } from '../../../src/models/ahs/dc_hsp.js';
import { l2Normalize } from '../../../src/models/catseg/cost_volume.js';
import { defaultDType, manualSeed, noGrad, setDefaultDType, tensor, tidy, type Tensor } from '../../../src/tensor/index.js';
import { isAhsError } from '../../helpers/ahs_error.js';
import { assertClose, jsRandom, maxAbsDiff, noLeak } from '../../helpers/assert_close.js';
import { gradcheck, leaf } from '../../helpers/gradcheck.js';

const D = 16, R = 4, T = 5;
const MODES = ['gate', 'rank'] as const;
const make = (mode: 'gate' | 'rank', o: Partial<ClassAwareProjectionOptions> = {}) => new ClassAwareProjection({ dim: D, rank: R, mode, ...o });

/** Unit vectors along the last dim from deterministic JS random values. */
const unitText = (shape: number[], seed: number): Tensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  return l2Normalize(tensor(jsRandom(n, seed), { shape }), -1);
};

/** Gives B (up.weight) deterministic non-zero values, so the adjustment is active. */
const activate = (m: ClassAwareProjection, seed = 3, scale = 0.5) =>
  noGrad(() => m.up.weight.copy_(tensor(jsRandom(D * R, seed, -scale, scale), { shape: [D, R] })));

/** Norms along the last dim. */
const norms = (x: Tensor): number[] => tidy(() => x.norm(2, -1).flatten().toArray());

describe('ClassAwareProjection (DC-HSP)', () => {
  it('names its parameters for the state dict and has dim (h1 + 2r) + 3 h1 + h1 h2 + 4 h2 + 2 of them (else the count reported by `info` or checkpoint keys are wrong)', () => {
    const m = make('gate');
    assert.deepEqual([...m.stateDict().keys()], [
      'gamma',
      'complexity.0.weight', 'complexity.0.bias', 'complexity.1.weight', 'complexity.1.bias',
      'complexity.4.weight', 'complexity.4.bias', 'complexity.5.weight', 'complexity.5.bias',
      'complexity.7.weight', 'complexity.7.bias',
      'down.weight', 'up.weight',
    ]);
    assert.deepEqual(m.down.weight.shape, [R, D]);
    assert.deepEqual(m.up.weight.shape, [D, R]);
    assert.deepEqual(m.gamma.shape, []);
    const formula = (dim: number, r: number, h1: number, h2: number) => dim * (h1 + 2 * r) + 3 * h1 + h1 * h2 + 4 * h2 + 2;
    assert.equal(m.numParameters(), formula(D, R, 256, 128));
    // The real widths: ViT-B (512) and ViT-L (768) with the default rank 64.
    for (const dim of [512, 768]) {
      const big = new ClassAwareProjection({ dim, mode: 'rank' });
      assert.equal(big.numParameters(), formula(dim, 64, 256, 128), `dim ${dim}`);
      big.dispose();
    }
    assert.equal(formula(512, 64, 256, 128), 230658);
    assert.equal(formula(768, 64, 256, 128), 328962);
    m.dispose();
  });

  it('initialises B to zero, gamma to 1 and A with std 1/sqrt(dim) (else the start is not the identity, or A t is mis-scaled)', () => {
    manualSeed(1);
    const m = new ClassAwareProjection({ dim: 512, rank: 64, mode: 'gate' });
    tidy(() => {
      assert.equal(m.up.weight.abs().amax().item(), 0);
      assert.equal(m.gamma.item(), 1);
      const std = m.down.weight.std().item();
      assert.ok(Math.abs(std - 1 / Math.sqrt(512)) < 0.002, `std(A) = ${std}, expected ~${1 / Math.sqrt(512)}`);
    });
    m.dispose();
  });

  for (const mode of MODES) {
    it(`${mode}: is the identity at init, in training mode, for (T, P, D) and (B, T, P, D), P = 1 and 3 (else switching DC-HSP on changes the baseline's logits)`, () => {
      const m = make(mode); // training mode: dropout on in the complexity MLP, which must not matter while B = 0
      noLeak(() => {
        for (const shape of [[T, 1, D], [T, 3, D], [2, T, 3, D]]) {
          const t = unitText(shape, 10 + shape.length);
          const out = m.forward(t);
          assert.deepEqual(out.shape, shape);
          assert.ok(maxAbsDiff(out, t) <= 1e-6, `${JSON.stringify(shape)}: max |t' - t| = ${maxAbsDiff(out, t)}`);
        }
        // Entries of +-0.25 on 16 dims have norm exactly 1 in float32: then the output is bit-identical.
        const exact = tensor(jsRandom(T * 3 * D, 7).map((v) => (v < 0 ? -0.25 : 0.25)), { shape: [T, 3, D] });
        assert.deepEqual(m.forward(exact).toArray(), exact.toArray(), 'unit-norm input must come back exactly');
      });
      m.dispose();
    });
  }

  it('complexity: one value in (0, 1) per class, from the normalised template mean (else P templates would get different c or c leaves (0, 1))', () => {
    manualSeed(2);
    const m = make('gate').eval();
    noLeak(() => {
      const t = unitText([T, 3, D], 21);
      const c = m.complexity(t);
      assert.deepEqual(c.shape, [T]);
      for (const v of c.toArray()) assert.ok(v > 0 && v < 1, `c = ${v}`);
      const manual = m.complexityNet.forward(l2Normalize(t.mean(1), -1)).squeeze(-1).sigmoid();
      assertClose(c, manual, 1e-7, 'c = sigmoid(MLP(normalize(mean_p t)))');
      // Template order does not matter, and a batched input gives one row per batch entry.
      assertClose(m.complexity(t.flip([1])), c, 1e-6, 'template order');
      const cb = m.complexity(t.unsqueeze(0).expand([2, -1, -1, -1]));
      assert.deepEqual(cb.shape, [2, T]);
      assertClose(cb.select(0, 1), c, 1e-6, 'batched complexity');
    });
    m.dispose();
  });

  for (const mode of MODES) {
    it(`${mode}: with B != 0 the output is normalize(t + gamma B (w * A t)) as written out in JS, stays unit-norm and moves (else the adjustment is wrong or a no-op)`, () => {
      manualSeed(4);
      const m = make(mode).eval();
      activate(m);
      noGrad(() => m.gamma.fill_(0.8));
      noLeak(() => {
        const t = unitText([T, 3, D], 31);
        const out = m.forward(t);
        assertClose(norms(out), 1, 1e-6, 'unit norm');
        assert.ok(maxAbsDiff(out, t) > 1e-3, `output did not move: ${maxAbsDiff(out, t)}`);
        const c = m.complexity(t).toArray();
        const A = m.down.weight.toArray(), Bw = m.up.weight.toArray(), g = m.gamma.item(), x = t.toArray();
        const weight = (k: number, j: number) => (mode === 'gate' ? c[k]! : 1 / (1 + Math.exp(-(R * c[k]! - j) / 2)));
        const expected: number[] = [];
        for (let k = 0; k < T; k++) for (let p = 0; p < 3; p++) {
          const v = x.slice((k * 3 + p) * D, (k * 3 + p + 1) * D);
          const h = Array.from({ length: R }, (_, j) => weight(k, j) * v.reduce((s, vi, i) => s + A[j * D + i]! * vi, 0));
          const y = v.map((vi, i) => vi + g * h.reduce((s, hj, j) => s + Bw[i * R + j]! * hj, 0));
          const n = Math.hypot(...y);
          expected.push(...y.map((yi) => yi / n));
        }
        assertClose(out.toArray(), expected, 2e-6, 'formula');
      });
      m.dispose();
    });
  }

  it('rank: the mask m_{k,j} = sigmoid((r c - j) / tau) grows with c_k, and about r c_k directions are past 1/2 (else c_k does not set the capacity)', () => {
    const m = make('rank').eval();
    const t = unitText([T, 1, D], 41);
    const bias = m.complexityNet.layers[7] as unknown as { bias: Tensor };
    let prevC = -1;
    let prev: number[] | null = null;
    for (const b of [-6, -2, -0.5, 0.5, 2, 6]) {
      noGrad(() => bias.bias.fill_(b)); // drives every c_k up with b
      tidy(() => {
        const c = m.complexity(t);
        const w = m.directionWeights(c); // (T, r)
        assert.deepEqual(w.shape, [T, R]);
        const c0 = c.toArray()[0]!;
        const w0 = w.select(0, 0).toArray();
        assert.ok(c0 > prevC, `c must grow with the last bias: ${c0} after ${prevC}`);
        assertClose(w0, Array.from({ length: R }, (_, j) => 1 / (1 + Math.exp(-(R * c0 - j) / 2))), 1e-6, 'mask formula');
        for (let j = 1; j < R; j++) assert.ok(w0[j]! < w0[j - 1]!, 'later directions switch on later');
        if (prev) for (let j = 0; j < R; j++) assert.ok(w0[j]! > prev[j]!, `m_${j} must grow with c`);
        assert.equal(w0.filter((v) => v > 0.5).length, Math.ceil(R * c0), `active directions at c = ${c0}`);
        prevC = c0;
        prev = w0;
      });
    }
    m.dispose();
  });

  it('gate: every direction gets weight c_k (else the gate mode is not the spec formula)', () => {
    const m = make('gate').eval();
    tidy(() => {
      const c = m.complexity(unitText([2, T, 3, D], 43));
      const w = m.directionWeights(c);
      assert.deepEqual(w.shape, [2, T, R]);
      assertClose(w, c.unsqueeze(-1).expand([2, T, R]).contiguous(), 0, 'gate weights');
    });
    m.dispose();
  });

  for (const mode of MODES) {
    it(`${mode}: at init only B gets a gradient, and it is non-zero (else training could never leave the zero init)`, () => {
      const m = make(mode);
      tidy(() => {
        const t = unitText([T, 3, D], 51);
        const w = tensor(jsRandom(T * 3 * D, 52), { shape: [T, 3, D] });
        m.forward(t).mul(w).sum().backward();
      });
      for (const [name, p] of m.namedParameters()) {
        const g = p.grad;
        assert.ok(g, `${name} has no gradient`);
        const gmax = tidy(() => g.abs().amax().item());
        g.dispose();
        assert.ok(Number.isFinite(gmax), `${name}: gradient not finite`);
        // While B = 0 the delta is 0 whatever A, gamma and c are, so their gradients vanish.
        if (name === 'up.weight') assert.ok(gmax > 1e-6, `B's gradient is ${gmax}`);
        else assert.equal(gmax, 0, `${name} must have a zero gradient at init`);
      }
      m.dispose();
    });

    it(`${mode}: once B != 0 every parameter gets a finite, non-zero gradient, dropout on (else a parameter is disconnected from the output)`, () => {
      manualSeed(6);
      const m = make(mode);
      activate(m);
      tidy(() => {
        const t = unitText([T, 3, D], 61);
        const w = tensor(jsRandom(T * 3 * D, 62), { shape: [T, 3, D] });
        m.forward(t).mul(w).sum().backward();
      });
      for (const [name, p] of m.namedParameters()) {
        const g = p.grad;
        assert.ok(g, `${name} has no gradient`);
        const [finite, gmax] = tidy(() => [g.isfinite().all().item(), g.abs().amax().item()]);
        g.dispose();
        assert.equal(finite, 1, `${name}: gradient not finite`);
        assert.ok(gmax > 0, `${name}: gradient is all zero`);
      }
      m.dispose();
    });

    it(`${mode}: d t'/d t matches finite differences in float64 (else the backward through the mean, MLP, mask or normalisation is wrong)`, () => {
      const prev = defaultDType();
      setDefaultDType('float64');
      try {
        manualSeed(7);
        const m = make(mode).eval();
        noGrad(() => m.up.weight.copy_(tensor(jsRandom(D * R, 71, -0.5, 0.5), { dtype: 'float64', shape: [D, R] })));
        gradcheck(`dc_hsp ${mode}`, (t) => m.forward(t), [leaf([2, 2, D], 72)], { atol: 1e-6, rtol: 1e-5 });
        m.dispose();
      } finally {
        setDefaultDType(prev);
      }
    });
  }

  it('saves and reloads through its state dict with identical outputs (else the enhanced checkpoint would not round-trip)', () => {
    const a = make('rank').eval();
    activate(a, 81);
    const b = make('rank').eval();
    b.loadStateDict(a.stateDict());
    tidy(() => {
      const t = unitText([T, 3, D], 82);
      assert.deepEqual(b.forward(t).toArray(), a.forward(t).toArray());
    });
    a.dispose();
    b.dispose();
  });

  it('rejects bad options and inputs with messages that name them (else users get an ATen error or silent garbage)', () => {
    assert.throws(() => new ClassAwareProjection({ dim: 0, mode: 'gate' }),
      isAhsError('AHS_ERR_INVALID_ARGUMENT', "ClassAwareProjection: option 'dim' must be a positive integer, got 0"));
    assert.throws(() => new ClassAwareProjection({ dim: 8, mode: 'wide' as 'gate' }),
      isAhsError('AHS_ERR_INVALID_ARGUMENT', "ClassAwareProjection: option 'mode' must be 'gate' or 'rank', got 'wide'"));
    assert.throws(() => new ClassAwareProjection({ dim: 8, mode: 'rank', tau: 0 }),
      isAhsError('AHS_ERR_INVALID_ARGUMENT', "ClassAwareProjection: option 'tau' must be a positive number, got 0"));
    const m = make('gate');
    tidy(() => {
      assert.throws(() => m.forward(unitText([T, 1, 8], 1)),
        isAhsError('AHS_ERR_SHAPE', 'ClassAwareProjection.forward: text embeddings must be (T, P, 16) or (B, T, P, 16), got [5,1,8]'));
      assert.throws(() => m.complexity(unitText([T, D], 1)),
        isAhsError('AHS_ERR_SHAPE', 'ClassAwareProjection.complexity: text embeddings must be (T, P, 16) or (B, T, P, 16), got [5,16]'));
    });
    m.dispose();
  });
});
