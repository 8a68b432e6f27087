// The CAT-Seg head on a tiny random configuration: every parameter gets a finite gradient,
// checkpoint names, the computed-once class padding against the literal padded sequence, class
// chunking, and no leaked tensors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Aggregator, AttentionLayer, CatSegHead, ClassTransformerLayer, catSegLoss, guidanceUpsampler, type AggregatorOptions,
} from '../../../src/models/catseg/index.js';
import { guidedProjections } from '../../../src/models/catseg/guidance_concat.js';
import { Linear } from '../../../src/nn/index.js';
import {
  avgPool2d, cat, interpolate, liveTensorCount, manualSeed, noGrad, randint, randn, tidy, type Tensor,
} from '../../../src/tensor/index.js';

/** Small enough for a CPU test, large enough to exercise every path: 2 layers, shifted windows
 * (8x8 map, window 4), class padding (T < padLen), GroupNorm with 2 and 1 groups. */
const TINY: AggregatorOptions = {
  textGuidanceDim: 20, textGuidanceProjDim: 16, appearanceGuidanceDim: 20, appearanceGuidanceProjDim: 12,
  decoderDims: [32, 16], decoderGuidanceDims: [12, 10], decoderGuidanceProjDims: [8, 4],
  numLayers: 2, numHeads: 4, hiddenDim: 32, poolingSize: [2, 2], featureResolution: [8, 8], windowSize: 4,
  attentionType: 'linear', promptChannels: 2, padLen: 8,
};
const CLIP_WIDTH = 20;

function maxAbsDiff(a: Tensor, b: Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  return tidy(() => a.sub(b).abs().amax().item());
}

/** Random head inputs: dense tokens (B, 1 + 64, C), taps (B, 1 + 64, W), normalised text (T, P, C). */
function inputs(B: number, T: number, o: AggregatorOptions = TINY) {
  const [H, W] = o.featureResolution;
  return tidy(() => {
    const text = randn([T, o.promptChannels, o.textGuidanceDim]);
    return {
      denseFeatures: randn([B, 1 + H * W, o.appearanceGuidanceDim]),
      taps: [randn([B, 1 + H * W, CLIP_WIDTH]), randn([B, 1 + H * W, CLIP_WIDTH])] as [Tensor, Tensor],
      textEmbeds: text.div(text.norm(2, -1, true)),
    };
  });
}

describe('CatSegHead (tiny random config)', () => {
  it('registers the checkpoint names (attn_mask only on the shifted block, padding on each class layer)', () => {
    const head = new CatSegHead({ aggregator: TINY, clipWidth: CLIP_WIDTH });
    const keys = [...head.stateDict().keys()];
    const p = 'sem_seg_head.predictor.transformer.';
    for (const k of [
      `${p}layers.0.swin_block.block_2.attn_mask`, `${p}layers.1.swin_block.block_1.attn.q.weight`, `${p}layers.0.swin_block.guidance_norm.weight`,
      `${p}layers.1.attention.padding_tokens`, `${p}layers.1.attention.padding_guidance`, `${p}layers.0.attention.attention.k.bias`,
      `${p}layers.0.attention.MLP.2.weight`, `${p}decoder_guidance_projection.1.0.weight`, `${p}decoder2.conv.double_conv.4.bias`,
      `${p}head.weight`, `${p}text_guidance_projection.0.weight`, `${p}guidance_projection.0.bias`, 'upsample1.weight', 'upsample2.bias',
    ]) assert.ok(keys.includes(k), `missing ${k}`);
    assert.ok(!keys.includes(`${p}layers.0.swin_block.block_1.attn_mask`), 'the unshifted block has no mask buffer');
    assert.equal(keys.filter((k) => k.endsWith('attn_mask')).length, TINY.numLayers);
    assert.deepEqual(head.upsample2.weight.shape, [CLIP_WIDTH, TINY.decoderGuidanceDims[1], 4, 4]);
    head.dispose();
  });

  it('gives every parameter a finite gradient (training mode, pooling 2x2, padded classes, B = 2)', () => {
    manualSeed(1);
    const head = new CatSegHead({ aggregator: TINY, clipWidth: CLIP_WIDTH }).train();
    // Non-zero padding parameters so that no gradient is zero by symmetry.
    noGrad(() => {
      for (const l of head.transformer.layers.items) {
        l.attention.padding_tokens!.normal_(0, 0.5);
        l.attention.padding_guidance!.normal_(0, 0.5);
      }
    });
    const B = 2, T = 5;
    tidy(() => {
      const logits = head.forward(inputs(B, T)); // (B, T, 32, 32)
      assert.deepEqual(logits.shape, [B, T, TINY.featureResolution[0] * 4, TINY.featureResolution[1] * 4]);
      const labels = randint(0, T, [B, 40, 40], 'int64').maskedFill(randint(0, 4, [B, 40, 40], 'int64').eq(0), 255);
      catSegLoss(logits, labels).backward();
    });
    const params = [...head.namedParameters()];
    assert.equal(params.length, 132, 'parameter count of a 2-layer head with its upsamplers');
    for (const [name, p] of params) {
      const g = p.grad;
      assert.ok(g, `${name} received no gradient`);
      tidy(() => {
        assert.ok(g.isfinite().all().item(), `${name}: gradient is not finite`);
        assert.ok(g.abs().amax().item() > 0, `${name}: gradient is all zero`);
      });
      g.dispose();
    }
    head.dispose();
  });

  it('matches the literal padded class sequence of the reference (linear and full attention)', () => {
    for (const attentionType of ['linear', 'full'] as const) {
      manualSeed(2);
      const C = 16, G = 8, padLen = 12, T = 5, B = 2, H = 6, W = 6;
      const layer = new ClassTransformerLayer({ hiddenDim: C, guidanceDim: G, numHeads: 2, attentionType, poolingSize: [2, 2], padLen });
      noGrad(() => { layer.padding_tokens!.normal_(0, 1); layer.padding_guidance!.normal_(0, 1); });
      noGrad(() => tidy(() => {
        const x = randn([B, C, T, H, W]);
        const g = randn([B, T, G]);
        const ours = layer.forward(x, g);
        // ClassTransformerLayer.forward as written in CAT-Seg: pad to pad_len, attend over all tokens.
        const xp0 = avgPool2d(x.permute([0, 2, 1, 3, 4]).reshape([B * T, C, H, W]), [2, 2], [2, 2]); // (B T, C, 3, 3)
        const P = 9;
        let xp = xp0.view([B, T, C, 3, 3]).permute([0, 3, 4, 1, 2]).reshape([B * P, T, C]);
        xp = cat([xp, layer.padding_tokens!.expand([B * P, padLen - T, C])], 1); // (B P, pad_len, C)
        const gp = cat([g, layer.padding_guidance!.expand([B, padLen - T, G])], 1).unsqueeze(1).expand([B, P, padLen, G]).reshape([B * P, padLen, G]);
        xp = xp.add(layer.attention.forward(layer.norm1.forward(xp), gp));
        xp = xp.add(layer.MLP.forward(layer.norm2.forward(xp)));
        const maps = xp.view([B, 3, 3, padLen, C]).permute([0, 3, 4, 1, 2]).reshape([B * padLen, C, 3, 3]);
        const up = interpolate(maps, { size: [H, W], mode: 'bilinear', alignCorners: true }).view([B, padLen, C, H, W]).narrow(1, 0, T);
        const literal = x.add(up.permute([0, 2, 1, 3, 4]));
        const d = maxAbsDiff(ours, literal);
        assert.ok(d < 1e-5, `${attentionType}: padding computed once differs from the literal padding by ${d}`);
      }));
      layer.dispose();
    }
  });

  it('guidedProjections applies each layer to cat([x, g]) with g broadcast like the reference repeat()', () => {
    // A failure means q or k reads the guidance of the wrong image or pixel, or the split of the
    // one q/k GEMM hands a layer another layer's channels.
    tidy(() => {
      const x = randn([3, 4, 10]);
      const g = randn([1, 4, 6]);
      const layers = [new Linear(16, 5), new Linear(16, 7)];
      const out = guidedProjections(layers, x, g);
      const xg = cat([x, g.expand([3, 4, 6])], -1);
      layers.forEach((l, i) => {
        assert.deepEqual(out[i]!.shape, [3, 4, l.outFeatures]);
        assert.ok(maxAbsDiff(out[i]!, l.forward(xg)) < 1e-5, `layer ${i} differs from linear(cat([x, g]))`);
      });
      assert.throws(() => guidedProjections(layers, x, randn([2, 4, 6])), /guidance \[2,4,6\]/);
      layers.forEach((l) => l.dispose());
    });
  });

  it('gives the same logits with and without class chunking, and leaks no tensors', () => {
    manualSeed(4);
    const o: AggregatorOptions = { ...TINY, poolingSize: [1, 1] };
    const head = new CatSegHead({ aggregator: o, clipWidth: CLIP_WIDTH }).eval();
    const x = inputs(2, 11); // T > padLen: pruning path too
    noGrad(() => {
      const before = liveTensorCount();
      tidy(() => {
        const a = head.forward(x);
        const b = head.forward(x, { classChunk: 3 });
        assert.ok(maxAbsDiff(a, b) < 1e-5, 'class chunking changed the logits');
      });
      assert.equal(liveTensorCount(), before, 'forward leaked tensors');
    });
    head.dispose();
  });

  it('rejects wrong shapes with messages that name them', () => {
    const agg = new Aggregator(TINY);
    noGrad(() => tidy(() => {
      assert.throws(() => agg.forward(randn([1, 20, 7, 7]), randn([1, 3, 2, 20]), null, []), /image features must be \(B, C, 8, 8\), got \[1,20,7,7\]/);
      assert.throws(() => agg.forward(randn([1, 20, 8, 8]), randn([1, 3, 1, 20]), null, []), /P=2/);
    }));
    assert.throws(() => guidanceUpsampler(4, 4, 2).forward(randn([1, 3, 2, 2])), /ConvTranspose2d\(4->4\)/);
    assert.throws(() => new AttentionLayer(30, 0, 4), /not divisible by 4 heads/);
    agg.dispose();
  });
});
