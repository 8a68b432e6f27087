// CLIP parity with openai/CLIP and CAT-Seg's dense forward (golden clip_tiny.* fixtures).
// Every resolution, tap and tolerance comes from the fixture files and their README.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadClip } from '../../src/models/clip/weights.js';
import type { CLIP } from '../../src/models/clip/clip_model.js';
import { dispose, noGrad, tidy, type Tensor } from '../../src/tensor/index.js';
import { goldenPath, goldenTolerance, loadGolden, maxAbsDiff, skipUnless } from '../helpers/golden.js';

const skip = skipUnless('clip_tiny.weights.safetensors', 'clip_tiny.io.safetensors', 'README.md');

describe('CLIP parity (clip_tiny)', { skip }, () => {
  let model: CLIP;
  let io: Map<string, Tensor>;
  let tol: ReturnType<typeof goldenTolerance>;
  before(() => {
    model = loadClip(goldenPath('clip_tiny.weights.safetensors'));
    io = loadGolden('clip_tiny.io.safetensors').tensors;
    tol = goldenTolerance();
  });
  after(() => { model.dispose(); dispose([...io.values()]); });

  const resolutions = (prefix: string): number[] =>
    [...io.keys()].map((k) => new RegExp(`^${prefix}_(\\d+)$`).exec(k)).filter((m) => m).map((m) => Number(m![1]));

  // Wrong here means a wrong patch embedding, CLS/positional handling, block or pooling.
  test('pooled image embeddings', () => {
    const rs = resolutions('image_embed');
    assert.ok(rs.length > 0, 'fixture has no image_embed_<res>');
    for (const r of rs) tidy(() => noGrad(() => {
      const d = maxAbsDiff(model.encodeImage(io.get(`images_${r}`)!), io.get(`image_embed_${r}`)!);
      assert.ok(d <= tol.output, `image_embed_${r}: max|diff| ${d} > ${tol.output}`);
    }));
  });

  // Wrong here means a wrong causal mask, end-token pick or text projection.
  test('text embeddings', () => tidy(() => noGrad(() => {
    const d = maxAbsDiff(model.encodeText(io.get('text_tokens')!), io.get('text_embed')!);
    assert.ok(d <= tol.output, `text_embed: max|diff| ${d} > ${tol.output}`);
  })));

  // Wrong here means the positional embedding is resized with the wrong mode or corner alignment.
  test('positional embedding resized bicubically', () => {
    for (const r of resolutions('pos_embed_resized')) tidy(() => {
      const want = io.get(`pos_embed_resized_${r}`)!;
      const g = Math.round(Math.sqrt(want.size(0) - 1));
      const d = maxAbsDiff(model.visual.positionalEmbeddingFor(g, g), want);
      assert.ok(d <= tol.output, `pos_embed_resized_${r}: max|diff| ${d}`);
    });
  });

  // Wrong here means the dense last block (value path, CLS residual) or ln_post/proj differs.
  test("CAT-Seg dense features (CLS residual) at every stored resolution", () => {
    const rs = resolutions('dense');
    assert.ok(rs.length > 0);
    for (const r of rs) tidy(() => noGrad(() => {
      const d = maxAbsDiff(model.visual.dense(io.get(`images_${r}`)!, { residual: 'cls' }).tokens, io.get(`dense_${r}`)!);
      assert.ok(d <= tol.output, `dense_${r}: max|diff| ${d} > ${tol.output}`);
    }));
  });

  // Wrong here means MaskCLIP's per-token residual is not what the reference adds.
  test('MaskCLIP dense features (token residual)', () => {
    for (const r of resolutions('dense_maskclip')) tidy(() => noGrad(() => {
      const d = maxAbsDiff(model.visual.dense(io.get(`images_${r}`)!, { residual: 'token' }).tokens, io.get(`dense_maskclip_${r}`)!);
      assert.ok(d <= tol.output, `dense_maskclip_${r}: max|diff| ${d} > ${tol.output}`);
    }));
  });

  // Wrong here means the guidance taps come from the wrong block or the wrong point in the block.
  test('tapped block outputs (sequence-first in the fixture)', () => {
    const taps = [...io.keys()].map((k) => /^block(\d+)_out_(\d+)$/.exec(k)).filter((m) => m) as RegExpExecArray[];
    assert.ok(taps.length > 0, 'fixture has no block<N>_out_<res>');
    for (const m of taps) tidy(() => noGrad(() => {
      const [blk, r] = [Number(m[1]), Number(m[2])];
      const out = model.visual.dense(io.get(`images_${r}`)!, { taps: [blk] });
      const d = maxAbsDiff(out.taps.get(blk)!.transpose(0, 1), io.get(m[0])!);
      assert.ok(d <= tol.rawBlock, `${m[0]}: max|diff| ${d} > ${tol.rawBlock}`);
    }));
  });
});
