// Cost volume, top-k class pruning and the scatter-back, the shifted-window mask and the token
// grid helpers, against hand-made cases.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Aggregator, aggregatorOptionsFromHeadConfig, classCostMax, correlation, gatherClasses, scatterClassLogits, selectTopClasses,
  shiftedWindowMask, tokensToGrid, windowOrder, type AggregatorOptions,
} from '../../../src/models/catseg/index.js';
import { arange, manualSeed, noGrad, randn, tensor, tidy } from '../../../src/tensor/index.js';

describe('cost volume and top-k pruning', () => {
  it('correlation is the cosine similarity (B, P, T, H, W)', () => {
    tidy(() => {
      const img = tensor([3, 0, 0, 4], { shape: [1, 2, 1, 2] }); // pixels (3, 0) and (0, 4)
      const text = tensor([2, 0, 1, 1], { shape: [1, 2, 1, 2] }); // classes (1, 0) and (1, 1)/sqrt2
      const corr = correlation(img, text);
      assert.deepEqual(corr.shape, [1, 1, 2, 1, 2]);
      const s = Math.SQRT1_2;
      corr.toArray().forEach((v, i) => assert.ok(Math.abs(v - [1, 0, s, s][i]!) < 1e-6, `corr[${i}] = ${v}`));
    });
  });

  it('keeps the k classes with the largest cost maximum, in ascending class order', () => {
    tidy(() => {
      const corr = tensor([0.1, 0.9, 0.3, 0.8, 0.2, 0.7], { shape: [1, 1, 6, 1, 1] });
      const m = classCostMax(corr); // (1, 6)
      assert.deepEqual(selectTopClasses(m, 3).toArray(), [1, 3, 5]);
      const text = arange(0, 12).view([1, 6, 1, 2]);
      assert.deepEqual(gatherClasses(text, selectTopClasses(m, 3)).toArray(), [2, 3, 6, 7, 10, 11]);
    });
  });

  it('scatters kept logits back and fills pruned classes with -100', () => {
    tidy(() => {
      const logits = tensor([1, 2, 3, 4, 5, 6, 7, 8], { shape: [1, 2, 2, 2] });
      const out = scatterClassLogits(logits, tensor([[3, 0]], { dtype: 'int64' }), 5);
      assert.deepEqual(out.shape, [1, 5, 2, 2]);
      assert.deepEqual(out.toArray(), [5, 6, 7, 8, -100, -100, -100, -100, -100, -100, -100, -100, 1, 2, 3, 4, -100, -100, -100, -100]);
    });
  });

  it('Aggregator prunes to pad_len when T > pad_len: exactly T - pad_len classes are -100 everywhere', () => {
    manualSeed(5);
    const o: AggregatorOptions = {
      textGuidanceDim: 8, textGuidanceProjDim: 8, appearanceGuidanceDim: 8, appearanceGuidanceProjDim: 8, decoderDims: [16, 16],
      decoderGuidanceDims: [4, 4], decoderGuidanceProjDims: [4, 4], numLayers: 1, numHeads: 2, hiddenDim: 16, poolingSize: [1, 1],
      featureResolution: [4, 4], windowSize: 2, attentionType: 'linear', promptChannels: 1, padLen: 4,
    };
    const agg = new Aggregator(o).eval();
    noGrad(() => tidy(() => {
      const B = 2, T = 7;
      const logits = agg.forward(randn([B, 8, 4, 4]), randn([B, T, 1, 8]), randn([B, 8, 4, 4]), [randn([B, 4, 8, 8]), randn([B, 4, 16, 16])]);
      assert.deepEqual(logits.shape, [B, T, 16, 16]);
      const filled = logits.flatten(2).eq(-100).sum(-1).eq(16 * 16).sum().item(); // classes that are -100 at every pixel
      assert.equal(filled, B * (T - o.padLen));
    }));
    agg.dispose();
  });
});

describe('window helpers', () => {
  it('builds the shifted-window mask of SwinTransformerBlock (4x4 map, window 2, shift 1)', () => {
    tidy(() => {
      const m = shiftedWindowMask(4, 4, 2, 1); // (4 windows, 4, 4)
      assert.deepEqual(m.shape, [4, 4, 4]);
      const a = m.toArray();
      const win = (w: number) => a.slice(w * 16, w * 16 + 16);
      assert.ok(win(0).every((v) => v === 0), 'the top-left window holds one region');
      // Bottom-right window: four regions (one token each), so only the diagonal is 0.
      assert.deepEqual(win(3), [0, -100, -100, -100, -100, 0, -100, -100, -100, -100, 0, -100, -100, -100, -100, 0]);
      // Top-right window: columns 2 (region 1) and 3 (region 2) within rows 0..1.
      assert.deepEqual(win(1), [0, -100, 0, -100, -100, 0, -100, 0, 0, -100, 0, -100, -100, 0, -100, 0]);
    });
  });

  // Wrong here: shifted windows would gather the wrong tokens (the roll direction, the window
  // order or the order inside a window), or attention outputs would go back to the wrong pixels.
  it('window order = roll(-shift) then row-major windows, and its inverse restores the image', () => {
    const [H, W, ws, s] = [4, 6, 2, 1];
    const [perm, inv] = windowOrder(H, W, ws, s);
    const expected: number[] = [];
    for (let wh = 0; wh < H / ws; wh++) for (let ww = 0; ww < W / ws; ww++) {
      for (let i = 0; i < ws; i++) for (let j = 0; j < ws; j++) {
        const r = (wh * ws + i + s) % H, c = (ww * ws + j + s) % W; // torch.roll(x, -s): out[i] = x[i + s]
        expected.push(r * W + c);
      }
    }
    assert.deepEqual(perm.toArray(), expected);
    assert.deepEqual(tidy(() => perm.indexSelect(0, inv).toArray()), Array.from({ length: H * W }, (_, i) => i));
    perm.dispose();
    inv.dispose();
  });

  it('tokensToGrid drops CLS and reads both token layouts', () => {
    tidy(() => {
      const blc = arange(0, 2 * 5 * 3).view([2, 5, 3]); // (B, 1 + 2*2, C)
      const g = tokensToGrid(blc, [2, 2]);
      assert.deepEqual(g.shape, [2, 3, 2, 2]);
      assert.deepEqual(g.select(0, 0).select(0, 0).toArray(), [3, 6, 9, 12]);
      assert.ok(tokensToGrid(blc.transpose(0, 1).contiguous(), [2, 2], 'LBC').equal(g));
      assert.throws(() => tokensToGrid(blc, [3, 3]), /L = 1 \+ 3\*3/);
    });
  });

  it('aggregatorOptionsFromHeadConfig maps the reference kwargs and names missing ones', () => {
    const cfg = {
      text_guidance_dim: 64, text_guidance_proj_dim: 32, appearance_guidance_dim: 64, appearance_guidance_proj_dim: 32,
      decoder_dims: [32, 16], decoder_guidance_dims: [64, 32], decoder_guidance_proj_dims: [8, 4], num_heads: 4, num_layers: 2,
      hidden_dims: 32, feature_resolution: [24, 24], window_sizes: 12, attention_type: 'linear',
    };
    const o = aggregatorOptionsFromHeadConfig(cfg, { poolingSize: [1, 1], promptChannels: 1, padLen: 256 });
    assert.equal(o.hiddenDim, 32);
    assert.deepEqual(o.decoderGuidanceProjDims, [8, 4]);
    assert.throws(() => aggregatorOptionsFromHeadConfig(cfg, { poolingSize: [1, 1], padLen: 256 }), /lacks 'prompt_channel'/);
  });
});
