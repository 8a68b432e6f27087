// src/optim: AdamW against a plain-JS transcription of torch.optim.AdamW's update, exact resume
// through the optimizer state dict, full-model gradient clipping, detectron2's LR schedules, and
// an end-to-end MLP fit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Linear, ReLU, Sequential } from '../../../src/nn/index.js';
import { AdamW, clipGradNorm, cosineLr, makeSchedule, polyLr, warmupFactor } from '../../../src/optim/index.js';
import { keep, liveTensorCount, manualSeed, noGrad, tensor, tidy, type Tensor } from '../../../src/tensor/index.js';
import { assertClose, jsRandom, noLeak } from '../../helpers/assert_close.js';

/** torch.optim.AdamW (single-tensor path), written out in plain JS on float64 arrays. */
class JsAdamW {
  readonly m: number[];
  readonly v: number[];
  step = 0;
  constructor(readonly p: number[], readonly betas: [number, number] = [0.9, 0.999], readonly eps = 1e-8) {
    this.m = p.map(() => 0);
    this.v = p.map(() => 0);
  }
  update(grad: number[], lr: number, weightDecay: number): void {
    const [b1, b2] = this.betas;
    this.step += 1;
    const bc1 = 1 - b1 ** this.step;
    const bc2 = 1 - b2 ** this.step;
    for (let i = 0; i < this.p.length; i++) {
      this.p[i]! *= 1 - lr * weightDecay; // decoupled weight decay, applied first
      this.m[i] = b1 * this.m[i]! + (1 - b1) * grad[i]!;
      this.v[i] = b2 * this.v[i]! + (1 - b2) * grad[i]! ** 2;
      const denom = Math.sqrt(this.v[i]!) / Math.sqrt(bc2) + this.eps;
      this.p[i]! -= (lr / bc1) * (this.m[i]! / denom);
    }
  }
}

/** Loss whose gradient is known in closed form: L = sum(c * p^2 / 2 + d * p) -> dL/dp = c * p + d. */
function quadLoss(p: Tensor, c: number[], d: number[]): Tensor {
  const ct = tensor(c, { dtype: p.dtype, shape: p.shape });
  const dt = tensor(d, { dtype: p.dtype, shape: p.shape });
  return p.mul(p).mul(ct).mul(0.5).add(p.mul(dt)).sum();
}

describe('AdamW', () => {
  it('matches a plain-JS torch.optim.AdamW over 6 steps: two param groups (lr multipliers, weight decays), changing lr, a param without grad', () => {
    const base = liveTensorCount();
    const init = [jsRandom(6, 1), jsRandom(4, 2), jsRandom(3, 3)];
    const cs = [jsRandom(6, 4, 0.5, 2), jsRandom(4, 5, 0.5, 2)];
    const ds = [jsRandom(6, 6), jsRandom(4, 7)];
    const params = init.map((v) => keep(tensor(v, { dtype: 'float64' }).requiresGrad_(true)));
    const [pa, pb, pc] = params as [Tensor, Tensor, Tensor];
    const opt = new AdamW([
      { params: [pa, pc], weightDecay: 0.05 },
      { params: [pb], lrMultiplier: 0.1, weightDecay: 0 },
    ], { lr: 0.01, betas: [0.9, 0.99], eps: 1e-8 });
    const ja = new JsAdamW(init[0]!.slice(), [0.9, 0.99]);
    const jb = new JsAdamW(init[1]!.slice(), [0.9, 0.99]);
    const lrs = [0.01, 0.01, 0.005, 0.02, 0.001, 0.01];
    let afterFirst = -1;
    for (const lr of lrs) {
      tidy(() => {
        opt.lr = lr;
        quadLoss(pa, cs[0]!, ds[0]!).add(quadLoss(pb, cs[1]!, ds[1]!)).backward();
        // Gradients in closed form, from the JS parameters (equal to the engine's up to rounding).
        ja.update(ja.p.map((x, i) => cs[0]![i]! * x + ds[0]![i]!), lr, 0.05);
        jb.update(jb.p.map((x, i) => cs[1]![i]! * x + ds[1]![i]!), lr * 0.1, 0);
        opt.step();
        opt.zeroGrad();
        assert.equal(pa.grad, null, 'zeroGrad sets grads to null');
      });
      // The first step allocates exp_avg and exp_avg_sq for the two parameters with grads; later
      // steps must not add any tensor.
      if (afterFirst < 0) {
        afterFirst = liveTensorCount();
        assert.equal(afterFirst, base + params.length + 4, 'state: two moments per parameter with a grad');
      } else assert.equal(liveTensorCount(), afterFirst, 'an optimizer step leaks no tensors');
    }
    assertClose(pa, ja.p, 1e-12, 1e-10, 'group 0 (lr x1, wd 0.05)');
    assertClose(pb, jb.p, 1e-12, 1e-10, 'group 1 (lr x0.1, wd 0)');
    assertClose(pc, init[2]!, 0, 0, 'a parameter without a grad is skipped entirely (no weight decay either)');
    // The updates moved the parameters substantially, so the comparison above is not trivial.
    assert.ok(Math.max(...pa.toArray().map((v, i) => Math.abs(v - init[0]![i]!))) > 0.01, 'parameters moved');
    const sd = opt.stateDict();
    assert.deepEqual(sd.meta.steps, { '0.0': 6, '1.0': 6 }, 'step counts per named parameter');
    assertClose(sd.tensors.get('0.0.exp_avg')!, ja.m, 1e-12, 1e-10, 'exp_avg');
    assertClose(sd.tensors.get('1.0.exp_avg_sq')!, jb.v, 1e-15, 1e-10, 'exp_avg_sq');
    opt.dispose();
    for (const p of params) p.dispose();
    assert.equal(liveTensorCount(), base, 'optimizer state and parameters freed');
  });

  it('stateDict -> new optimizer -> loadStateDict, then continuing is bitwise identical to an uninterrupted run', () => {
    const base = liveTensorCount();
    const c = jsRandom(8, 10, 0.5, 2);
    const d = jsRandom(8, 11);
    const init = [jsRandom(8, 12), jsRandom(3, 13)];
    const mk = (vals: number[][]) => vals.map((v) => keep(tensor(v).requiresGrad_(true))); // float32, as in training
    const sched = makeSchedule('WarmupCosineLR', 0.01, 10, { warmupIters: 2 });
    const stepOnce = (opt: AdamW, ps: Tensor[], it: number) => tidy(() => {
      opt.lr = sched(it);
      quadLoss(ps[0]!, c, d).add(ps[1]!.pow(2).sum()).backward();
      opt.step();
      opt.zeroGrad();
    });
    const groups = (ps: Tensor[]) => [{ params: [ps[0]!], names: ['w'] }, { params: [ps[1]!], names: ['b'], lrMultiplier: 0.5, weightDecay: 0 }];
    // Uninterrupted: 6 steps.
    const pu = mk(init);
    const ou = new AdamW(groups(pu), { lr: 0.01, weightDecay: 0.1 });
    for (let it = 0; it < 6; it++) stepOnce(ou, pu, it);
    // Interrupted after 3 steps: save parameters and optimizer state, rebuild both, continue.
    const p1 = mk(init);
    const o1 = new AdamW(groups(p1), { lr: 0.01, weightDecay: 0.1 });
    for (let it = 0; it < 3; it++) stepOnce(o1, p1, it);
    const savedParams = p1.map((p) => Float32Array.from(p.data<'float32'>()));
    const sd = o1.stateDict();
    const savedState = { meta: JSON.parse(JSON.stringify(sd.meta)) as typeof sd.meta, tensors: new Map([...sd.tensors].map(([k, t]) => [k, keep(t.clone())])) };
    o1.dispose();
    for (const p of p1) p.dispose();
    const p2 = savedParams.map((a) => keep(tensor(a).requiresGrad_(true)));
    const o2 = new AdamW(groups(p2), { lr: 123, weightDecay: 0.1 }); // lr comes back from the state
    o2.loadStateDict(savedState);
    assert.equal(o2.lr, sched(2), 'lr restored');
    for (const t of savedState.tensors.values()) t.dispose(); // loadStateDict copied them
    for (let it = 3; it < 6; it++) stepOnce(o2, p2, it);
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(Array.from(p2[i]!.data<'float32'>()), Array.from(pu[i]!.data<'float32'>()), `param ${i} bitwise equal after resume`);
    }
    // Sanity: not resuming the moments gives a different result (so the check above has teeth).
    const p3 = savedParams.map((a) => keep(tensor(a).requiresGrad_(true)));
    const o3 = new AdamW(groups(p3), { lr: 0.01, weightDecay: 0.1 });
    for (let it = 3; it < 6; it++) stepOnce(o3, p3, it);
    assert.notDeepEqual(Array.from(p3[0]!.data<'float32'>()), Array.from(pu[0]!.data<'float32'>()), 'fresh moments differ');
    for (const o of [ou, o2, o3]) o.dispose();
    for (const p of [...pu, ...p2, ...p3]) p.dispose();
    assert.equal(liveTensorCount(), base);
  });

  it('loadStateDict rejects a state with another number of groups or shapes', () => {
    const base = liveTensorCount();
    const p = keep(tensor([1, 2]).requiresGrad_(true));
    const o = new AdamW([p], { lr: 0.1 });
    tidy(() => { p.sum().backward(); o.step(); });
    const sd = o.stateDict();
    const two = new AdamW([{ params: [p] }, { params: [] }], { lr: 0.1 });
    assert.throws(() => two.loadStateDict(sd), /param groups/);
    const q = keep(tensor([1, 2, 3]).requiresGrad_(true));
    const o3 = new AdamW([q], { lr: 0.1 });
    assert.throws(() => o3.loadStateDict(sd), /shape/);
    for (const x of [o, two, o3]) x.dispose();
    p.dispose();
    q.dispose();
    assert.equal(liveTensorCount(), base);
  });
});

describe('clipGradNorm', () => {
  it('scales gradients to the max norm and returns the pre-clip total norm (2 and inf); no-op below the limit', () => {
    const base = liveTensorCount();
    const ga = jsRandom(5, 20, -3, 3);
    const gb = jsRandom(7, 21, -3, 3);
    const pa = keep(tensor(ga.map(() => 0), { dtype: 'float64' }).requiresGrad_(true));
    const pb = keep(tensor(gb.map(() => 0), { dtype: 'float64' }).requiresGrad_(true));
    const pc = keep(tensor([0], { dtype: 'float64' }).requiresGrad_(true)); // no grad: ignored
    const setGrads = () => tidy(() => {
      pa.grad = tensor(ga, { dtype: 'float64' });
      pb.grad = tensor(gb, { dtype: 'float64' });
    });
    const all = [...ga, ...gb];
    const l2 = Math.sqrt(all.reduce((s, v) => s + v * v, 0));
    setGrads();
    noLeak(() => {
      const total = clipGradNorm([pa, pb, pc], 0.5);
      assertClose(total, l2, 1e-12, 1e-12, 'returns the L2 norm before clipping');
      const coef = 0.5 / (l2 + 1e-6); // torch: max_norm / (total_norm + 1e-6)
      assertClose(pa.grad!, ga.map((v) => v * coef), 1e-14, 1e-12, 'grad a scaled');
      assertClose(pb.grad!, gb.map((v) => v * coef), 1e-14, 1e-12, 'grad b scaled');
      const after = Math.sqrt([...pa.grad!.toArray(), ...pb.grad!.toArray()].reduce((s, v) => s + v * v, 0));
      assertClose(after, 0.5, 1e-6, 0, 'joint norm after clipping is the max norm');
      assert.equal(pc.grad, null, 'a parameter without grad stays without grad');
    });
    setGrads();
    noLeak(() => {
      const total = clipGradNorm([pa, pb], 1e6);
      assertClose(total, l2, 1e-12, 1e-12);
      assertClose(pa.grad!, ga, 0, 0, 'below the limit the grads are unchanged');
    });
    setGrads();
    noLeak(() => {
      const inf = Math.max(...all.map(Math.abs));
      const total = clipGradNorm([pa, pb], 0.1, Infinity);
      assertClose(total, inf, 0, 0, 'inf norm = max |g|');
      assertClose(pb.grad!, gb.map((v) => (v * 0.1) / (inf + 1e-6)), 1e-14, 1e-12, 'inf-norm clipping');
    });
    assert.equal(clipGradNorm([pc], 1), 0, 'no grads -> 0');
    for (const p of [pa, pb, pc]) p.dispose();
    assert.equal(liveTensorCount(), base, 'clipGradNorm leaks nothing');
  });
});

describe('LR schedules (detectron2 solver/lr_scheduler.py)', () => {
  // detectron2's _get_warmup_factor_at_iter, WarmupCosineLR.get_lr and WarmupPolyLR.get_lr, written out.
  const d2Warmup = (method: 'linear' | 'constant', it: number, warmupIters: number, factor: number) => {
    if (it >= warmupIters) return 1.0;
    if (method === 'constant') return factor;
    const alpha = it / warmupIters;
    return factor * (1 - alpha) + alpha;
  };
  const d2Cosine = (base: number, it: number, maxIters: number, wi: number, wf: number, wm: 'linear' | 'constant' = 'linear') =>
    base * d2Warmup(wm, it, wi, wf) * 0.5 * (1.0 + Math.cos((Math.PI * it) / maxIters));
  const d2Poly = (base: number, it: number, maxIters: number, power: number, wi: number, wf: number) =>
    base * d2Warmup('linear', it, wi, wf) * Math.pow(1.0 - it / maxIters, power);

  it('cosineLr / polyLr / warmupFactor at several iterations (with and without warmup)', () => {
    const its = [0, 1, 5, 10, 99, 100, 500, 999, 1000, 40000, 79999, 80000];
    for (const it of its) {
      // CAT-Seg: base 2e-4, 80k iterations, no warmup (WARMUP_ITERS 0, WARMUP_FACTOR 1).
      assertClose(cosineLr(2e-4, it, 80000, { warmupIters: 0, warmupFactor: 1 }), d2Cosine(2e-4, it, 80000, 0, 1), 0, 1e-15, `cosine it ${it}`);
      assertClose(cosineLr(0.01, it, 1000, { warmupIters: 100, warmupFactor: 0.001 }), d2Cosine(0.01, it, 1000, 100, 0.001), 0, 1e-15, `cosine warmup it ${it}`);
      assertClose(cosineLr(0.01, it, 1000, { warmupIters: 100, warmupFactor: 0.1, warmupMethod: 'constant' }), d2Cosine(0.01, it, 1000, 100, 0.1, 'constant'), 0, 1e-15, `cosine constant warmup it ${it}`);
      if (it <= 1000) {
        assertClose(polyLr(0.01, it, 1000, 0.9, { warmupIters: 10, warmupFactor: 0.01 }), d2Poly(0.01, it, 1000, 0.9, 10, 0.01), 0, 1e-15, `poly it ${it}`);
        assertClose(makeSchedule('WarmupPolyLR', 0.01, 1000, { power: 0.9 })(it), d2Poly(0.01, it, 1000, 0.9, 0, 0.001), 0, 1e-15, `poly schedule it ${it}`);
      }
    }
    // Closed-form landmarks.
    assert.equal(cosineLr(2e-4, 0, 80000), 2e-4, 'cosine starts at the base lr');
    assertClose(cosineLr(2e-4, 40000, 80000), 1e-4, 1e-18, 0, 'cosine is half way at half the iterations');
    assertClose(cosineLr(2e-4, 80000, 80000), 0, 1e-18, 0, 'cosine ends at 0');
    assert.equal(warmupFactor(0, { warmupIters: 1000, warmupFactor: 0.001 }), 0.001, 'linear warmup starts at the factor');
    assertClose(warmupFactor(500, { warmupIters: 1000, warmupFactor: 0.001 }), 0.5005, 1e-15, 0, 'linear warmup half way');
    assert.equal(warmupFactor(1000, { warmupIters: 1000 }), 1, 'warmup ends at 1');
    assert.equal(warmupFactor(3, {}), 1, 'no warmup by default (warmupIters 0)');
    assertClose(polyLr(1, 500, 1000, 2), 0.25, 1e-15, 0, 'poly (1 - 1/2)^2');
    assertClose(makeSchedule('WarmupCosineLR', 0.01, 1000, { warmupIters: 100 })(50), d2Cosine(0.01, 50, 1000, 100, 0.001), 0, 1e-15, 'makeSchedule cosine');
  });
});

describe('end to end', () => {
  it('a two-layer MLP (Linear-ReLU-Linear) trained with AdamW for 200 steps cuts the loss below 10% of its initial value', () => {
    const base = liveTensorCount();
    manualSeed(0);
    const mlp = new Sequential(new Linear(3, 32), new ReLU(), new Linear(32, 1));
    // Fixed synthetic regression: y = sin(2 x0) + x1 * x2 - 0.5 x2, 128 points in [-1, 1]^3.
    const xs = jsRandom(128 * 3, 77);
    const ys = Array.from({ length: 128 }, (_, i) => Math.sin(2 * xs[3 * i]!) + xs[3 * i + 1]! * xs[3 * i + 2]! - 0.5 * xs[3 * i + 2]!);
    const x = keep(tensor(xs, { shape: [128, 3] }));
    const y = keep(tensor(ys, { shape: [128, 1] }));
    const opt = new AdamW(mlp.parameters(), { lr: 0.01, weightDecay: 1e-4 });
    const lossAt = () => tidy(() => noGrad(() => mlp.forward(x).sub(y).pow(2).mean().item()));
    const initial = lossAt();
    for (let it = 0; it < 200; it++) {
      tidy(() => {
        const loss = mlp.forward(x).sub(y).pow(2).mean();
        loss.backward();
        clipGradNorm(mlp.parameters(), 10);
        opt.lr = cosineLr(0.01, it, 200);
        opt.step();
        opt.zeroGrad();
      });
    }
    const final = lossAt();
    assert.ok(final < 0.1 * initial, `final loss ${final} is not below 10% of the initial ${initial}`);
    assert.ok(Number.isFinite(final));
    opt.dispose();
    mlp.dispose();
    x.dispose();
    y.dispose();
    assert.equal(liveTensorCount(), base, 'training loop leaks no tensors');
  });
});
