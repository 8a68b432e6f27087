// MH-FPN (MSFPN_TARGET guidance): identity at init through the zero gate, a real effect once the
// gate moves, gradients to every parameter, readable state-dict names and the parameter count.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MultiScaleFpn, multiScaleFpnParameterCount } from '../../../src/models/ahs/mh_fpn.js';
import { AdamW } from '../../../src/optim/index.js';
import { manualSeed, noGrad, randn, tidy, type Tensor } from '../../../src/tensor/index.js';
import { maxAbsDiff, noLeak } from '../../helpers/assert_close.js';
import { isAhsError } from '../../helpers/ahs_error.js';

const O = { width: 32, dim: 16, levels: 3, grid: [4, 4] as [number, number], groups: 4 };
const B = 2;

function inputs(o = O): { res3: Tensor; levels: Tensor[] } {
  return {
    res3: randn([B, o.dim, o.grid[0], o.grid[1]]),
    levels: Array.from({ length: o.levels }, () => randn([B, 1 + o.grid[0] * o.grid[1], o.width])),
  };
}

/** A fixed random projection of the output to a scalar, so that no gradient cancels under a plain sum. */
function scalarOf(y: Tensor, seed = 7): Tensor {
  manualSeed(seed);
  return y.mul(randn(y.shape)).sum();
}

describe('MultiScaleFpn', () => {
  it('is the identity at init: guide(res3) equals res3 exactly although the pyramid output is non-zero (else the zero gate is missing or broken)', () => {
    manualSeed(1);
    const m = new MultiScaleFpn(O);
    tidy(() => {
      const { res3, levels } = inputs();
      const out = m.forward(levels);
      assert.deepEqual(out.shape, [B, O.dim, 4, 4]);
      assert.ok(out.abs().amax().item() > 1e-3, 'the pyramid output itself must not be zero (else the test would be vacuous)');
      const g = m.guide(res3, levels);
      assert.deepEqual(g.toArray(), res3.toArray(), 'guide(res3) must be bitwise res3 at init');
    });
  });

  it('changes the guidance once the gate is non-zero, by exactly gate ⊙ out (else the gate is not applied per channel)', () => {
    manualSeed(2);
    const m = new MultiScaleFpn(O);
    tidy(() => {
      noGrad(() => m.gate.copy_(randn([O.dim])));
      const { res3, levels } = inputs();
      const g = m.guide(res3, levels);
      assert.ok(maxAbsDiff(g, res3) > 1e-3, 'a non-zero gate must change the guidance');
      const expected = res3.add(m.forward(levels).mul(m.gate.view([1, O.dim, 1, 1])));
      assert.ok(maxAbsDiff(g, expected) < 1e-6, 'guide must be res3 + gate[c] * out[:, c]');
    });
  });

  it('gives the gate a finite non-zero gradient at init (else training could never leave the identity)', () => {
    manualSeed(3);
    const m = new MultiScaleFpn(O);
    tidy(() => {
      const { res3, levels } = inputs();
      scalarOf(m.guide(res3, levels)).backward();
      const g = m.gate.grad!.toArray();
      assert.ok(g.every(Number.isFinite) && g.every((v) => v !== 0), `every gate channel needs a gradient, got ${g}`);
      // The rest of the module only learns once the gate has moved: its gradients are exactly zero now.
      assert.equal(m.out_proj.weight.grad!.abs().amax().item(), 0);
    });
  });

  it('leaves the identity after one AdamW step on a loss of the guidance (else the zero init would be a fixed point)', () => {
    manualSeed(6);
    const m = new MultiScaleFpn(O);
    const opt = new AdamW(m.parameters(), { lr: 1e-2 });
    tidy(() => {
      const { res3, levels } = inputs();
      scalarOf(m.guide(res3, levels)).backward();
      opt.step();
      assert.ok(maxAbsDiff(m.guide(res3, levels), res3) > 1e-4, 'one step must move the guidance off res3');
    });
  });

  it('gives every parameter a finite, non-zero gradient when the gate is non-zero (else some part is disconnected)', () => {
    manualSeed(4);
    const m = new MultiScaleFpn(O);
    tidy(() => {
      noGrad(() => m.gate.fill_(0.5));
      const { res3, levels } = inputs();
      scalarOf(m.guide(res3, levels)).backward();
      for (const [name, p] of m.namedParameters()) {
        const g = p.grad;
        assert.ok(g, `${name} got no gradient`);
        const v = g.toArray();
        assert.ok(v.every(Number.isFinite), `${name} has a non-finite gradient`);
        assert.ok(v.some((x) => x !== 0), `${name} has an all-zero gradient`);
      }
    });
  });

  it('initialises r = sqrt(dim) per level and uniform level weights (as the original)', () => {
    const m = new MultiScaleFpn(O);
    for (const level of m.levels.items) assert.ok(Math.abs(level.radius.item() - 4) < 1e-6);
    tidy(() => m.levelWeights().toArray().forEach((w) => assert.ok(Math.abs(w - 1 / 3) < 1e-7)));
  });

  it('drops the CLS token and reads sequence-first taps the same as batch-first ones (else the grid is misread)', () => {
    manualSeed(5);
    const m = new MultiScaleFpn(O);
    tidy(() => {
      const { levels } = inputs();
      const ref = m.forward(levels);
      const otherCls = levels.map((h) => { const c = h.clone(); noGrad(() => c.narrow(1, 0, 1).fill_(100)); return c; });
      assert.equal(maxAbsDiff(m.forward(otherCls), ref), 0, 'the CLS token must not enter the pyramid');
      const lbc = levels.map((h) => h.transpose(0, 1).contiguous());
      assert.ok(maxAbsDiff(m.forward(lbc, 'LBC'), ref) < 1e-6, "'LBC' taps must give the same features");
    });
  });

  it('names parameters for the state dict and counts them by the closed form, for any width (none hard-coded)', () => {
    const m = new MultiScaleFpn(O);
    const names = [...m.stateDict().keys()];
    for (const k of ['levels.0.proj.weight', 'levels.0.norm.weight', 'levels.0.radius', 'levels.0.dw.weight', 'levels.0.pw.weight', 'levels.0.gn.weight',
      'levels.2.proj.bias', 'level_logits', 'out_conv.weight', 'out_norm.weight', 'out_proj.weight', 'gate']) {
      assert.ok(names.includes(k), `missing state-dict key ${k} in ${names.join(', ')}`);
    }
    assert.equal(m.numParameters(), multiScaleFpnParameterCount(O));
    const wide = new MultiScaleFpn({ ...O, width: 48, dim: 32, levels: 2, grid: [3, 5] });
    assert.equal(wide.numParameters(), multiScaleFpnParameterCount({ width: 48, dim: 32, levels: 2 }));
    tidy(() => {
      const res3 = randn([1, 32, 3, 5]);
      assert.deepEqual(wide.guide(res3, [randn([1, 16, 48]), randn([1, 16, 48])]).shape, [1, 32, 3, 5]);
    });
    // ViT-B's module (width 768, dim 512, 3 levels), for the report.
    assert.equal(multiScaleFpnParameterCount({ width: 768, dim: 512, levels: 3 }), 4614662);
  });

  it('rejects inputs of the wrong count or shape with errors that name them', () => {
    const m = new MultiScaleFpn(O);
    tidy(() => {
      const { res3, levels } = inputs();
      assert.throws(() => m.forward(levels.slice(1)), isAhsError('AHS_ERR_SHAPE', 'MultiScaleFpn: expected 3 level features, got 2'));
      assert.throws(() => m.forward([levels[0]!, levels[1]!, randn([B, 17, 24])]),
        isAhsError('AHS_ERR_SHAPE', 'MultiScaleFpn: level 2 must be (B=2, 1 + 4*4, 32) tokens with the CLS token first, got [2,17,24]'));
      assert.throws(() => m.guide(res3.narrow(1, 0, 8), levels), isAhsError('AHS_ERR_SHAPE', 'MultiScaleFpn.guide: res3 must be (B, 16, 4, 4), got [2,8,4,4]'));
    });
    assert.throws(() => new MultiScaleFpn({ ...O, groups: 5 }), isAhsError('AHS_ERR_INVALID_ARGUMENT', 'MultiScaleFpn: dim 16 is not divisible by 5 GroupNorm groups'));
  });

  it('leaks no tensors in guide', () => {
    const m = new MultiScaleFpn(O);
    noLeak(() => {
      const { res3, levels } = inputs();
      m.guide(res3, levels);
    });
  });
});
