// MH-FPN in cosine space (MSFPN_TARGET cost): the per-level cost volumes, their zero-initialised
// embedding, and its equivalence with CAT-Seg's conv1 widened by zero input channels.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MultiScaleCost, multiScaleCostParameterCount } from '../../../src/models/ahs/multi_scale_cost.js';
import { embedCost } from '../../../src/models/catseg/cost_volume.js';
import { Conv2d } from '../../../src/nn/index.js';
import { cat, manualSeed, noGrad, randn, tensor, tidy } from '../../../src/tensor/index.js';
import { assertClose, jsRandom, maxAbsDiff, noLeak } from '../../helpers/assert_close.js';
import { isAhsError } from '../../helpers/ahs_error.js';

const O = { levels: 3, promptChannels: 2, hiddenDim: 8 };
const [B, T, H, W] = [2, 3, 5, 4];

describe('MultiScaleCost', () => {
  it('embeds to exactly zero at init (else CAT-Seg\'s cost embedding would change at init)', () => {
    manualSeed(1);
    const m = new MultiScaleCost(O);
    tidy(() => {
      const e = m.embed(randn([B, O.levels * O.promptChannels, T, H, W]));
      assert.deepEqual(e.shape, [B, O.hiddenDim, T, H, W]);
      assert.ok(e.toArray().every((v) => v === 0), 'the zero-initialised conv must give exact zeros');
    });
  });

  it('gives its weight a finite, non-zero gradient at init (else the level channels could never be learnt)', () => {
    manualSeed(2);
    const m = new MultiScaleCost(O);
    tidy(() => {
      const e = m.embed(randn([B, O.levels * O.promptChannels, T, H, W]));
      e.mul(randn(e.shape)).sum().backward();
      const g = m.conv.weight.grad!.toArray();
      assert.ok(g.every(Number.isFinite), 'finite gradient');
      assert.ok(g.filter((v) => v !== 0).length > g.length * 0.9, 'nearly every tap must receive a gradient');
    });
  });

  it('adds to conv1 what a conv1 widened by the level channels would give (else it is not a zero-initialised input extension)', () => {
    manualSeed(3);
    const m = new MultiScaleCost(O);
    const conv1 = new Conv2d(O.promptChannels, O.hiddenDim, 7, { padding: 3 });
    const wide = new Conv2d(O.promptChannels * (1 + O.levels), O.hiddenDim, 7, { padding: 3 });
    tidy(() => {
      noGrad(() => {
        m.conv.weight.copy_(randn(m.conv.weight.shape).mul(0.1));
        wide.weight.copy_(cat([conv1.weight, m.conv.weight], 1));
        wide.bias!.copy_(conv1.bias!);
      });
      const corr = randn([B, O.promptChannels, T, H, W]);
      const levels = m.stackLevels(Array.from({ length: O.levels }, () => randn([B, O.promptChannels, T, H, W])));
      const split = embedCost(conv1, corr).add(m.embed(levels));
      assert.ok(maxAbsDiff(split, embedCost(conv1, corr)) > 1e-3, 'a non-zero weight must change the embedding');
      assert.ok(maxAbsDiff(split, embedCost(wide, cat([corr, levels], 1))) < 1e-5, 'conv1(corr) + embed(levels) = widened conv1([corr, levels])');
    });
  });

  it('levelCorrelation is the cosine of every pixel with every prompt, whatever the feature norms (else not on the sphere)', () => {
    const [C, P] = [3, 2];
    const img = jsRandom(B * C * H * W, 11);
    const txt = jsRandom(B * T * P * C, 12);
    tidy(() => {
      const feats = tensor(img, { shape: [B, C, H, W] });
      const text = tensor(txt, { shape: [B, T, P, C] });
      const corr = MultiScaleCost.levelCorrelation(feats, text);
      assert.deepEqual(corr.shape, [B, P, T, H, W]);
      const expected: number[] = [];
      for (let b = 0; b < B; b++) for (let p = 0; p < P; p++) for (let t = 0; t < T; t++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
        let dot = 0, nx = 0, ny = 0;
        for (let c = 0; c < C; c++) {
          const x = img[((b * C + c) * H + h) * W + w]!;
          const y = txt[((b * T + t) * P + p) * C + c]!;
          dot += x * y; nx += x * x; ny += y * y;
        }
        expected.push(dot / Math.sqrt(nx * ny));
      }
      assertClose(corr, expected, 1e-5, 'cosine cost volume');
      assertClose(MultiScaleCost.levelCorrelation(feats.mul(5), text.mul(0.3)), expected, 1e-5, 'scaling features or text must not change it');
    });
  });

  it('stacks the level cost volumes level-major along the prompt channels', () => {
    const m = new MultiScaleCost(O);
    tidy(() => {
      const corrs = Array.from({ length: O.levels }, (_, l) => randn([1, O.promptChannels, T, H, W]).mul(0).add(l));
      const s = m.stackLevels(corrs);
      assert.deepEqual(s.shape, [1, O.levels * O.promptChannels, T, H, W]);
      for (let ch = 0; ch < s.size(1); ch++) assert.equal(s.select(1, ch).amax().item(), Math.floor(ch / O.promptChannels));
      assert.throws(() => m.stackLevels(corrs.slice(1)), isAhsError('AHS_ERR_SHAPE', 'MultiScaleCost: expected 3 level cost volumes, got 2'));
    });
  });

  it('has one bias-free 7x7 conv of levels P hiddenDim 49 weights, under the key conv.weight', () => {
    const m = new MultiScaleCost(O);
    assert.deepEqual([...m.stateDict().keys()], ['conv.weight']);
    assert.deepEqual(m.conv.weight.shape, [O.hiddenDim, O.levels * O.promptChannels, 7, 7]);
    assert.equal(m.numParameters(), multiScaleCostParameterCount(O));
    assert.equal(multiScaleCostParameterCount({ levels: 3, promptChannels: 1, hiddenDim: 128 }), 18816);
    assert.throws(() => new MultiScaleCost({ ...O, levels: 0 }), isAhsError('AHS_ERR_INVALID_ARGUMENT', 'MultiScaleCost: levels must be a positive integer, got 0'));
  });

  it('leaks no tensors in embed', () => {
    const m = new MultiScaleCost(O);
    noLeak(() => { m.embed(randn([B, O.levels * O.promptChannels, T, H, W])); });
  });
});
