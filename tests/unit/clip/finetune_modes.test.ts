// applyClipFinetune on the tiny CLIP fixture (widths 192 / 128, so OFT blocks of 64): identity at
// init, gradients only into the OFT parameters, eval-mode folding (equal to training-mode
// recomputation, invalidated by changes), and CAT-Seg's trainable-parameter rules.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AhsError } from '../../../src/errors.js';
import type { CLIP } from '../../../src/models/clip/clip_model.js';
import { applyClipFinetune, catsegTrainable } from '../../../src/models/clip/finetune/modes.js';
import type { OftRelation } from '../../../src/models/clip/finetune/oft_relation.js';
import { loadClip } from '../../../src/models/clip/weights.js';
import { dispose, liveTensorCount, manualSeed, noGrad, randnLike, tidy, type Tensor } from '../../../src/tensor/index.js';
import { goldenPath, loadGolden, maxAbsDiff, skipUnless } from '../../helpers/golden.js';

const skip = skipUnless('clip_tiny.weights.safetensors', 'clip_tiny.io.safetensors');
const weights = () => goldenPath('clip_tiny.weights.safetensors');

interface Outputs { img: Tensor; txt: Tensor; dense: Tensor }

/** Moves every OFT parameter away from the identity (noise of the given scale). */
function perturb(oft: OftRelation, scale: number, seed: number): void {
  manualSeed(seed);
  noGrad(() => tidy(() => { for (const p of oft.parameters()) p.add_(randnLike(p).mul(scale)); }));
}

function attentions(clip: CLIP) {
  return [...clip.transformer.resblocks.items, ...clip.visual.transformer.resblocks.items].map((b) => b.attn);
}

describe('CLIP fine-tuning modes (clip_tiny)', { skip }, () => {
  let io: Map<string, Tensor>;
  let images: Tensor;
  let tokens: Tensor;
  before(() => {
    io = loadGolden('clip_tiny.io.safetensors').tensors;
    const im = [...io.keys()].find((k) => /^images_\d+$/.test(k))!;
    images = io.get(im)!;
    tokens = io.get('text_tokens')!;
  });
  after(() => dispose([...io.values()]));

  /** Pooled image, text and dense (value-path last block) outputs, without autograd. */
  const run = (clip: CLIP): Outputs => tidy(() => noGrad(() => ({
    img: clip.encodeImage(images), txt: clip.encodeText(tokens), dense: clip.visual.dense(images).tokens,
  })));
  const diff = (a: Outputs, b: Outputs): number => Math.max(maxAbsDiff(a.img, b.img), maxAbsDiff(a.txt, b.txt), maxAbsDiff(a.dense, b.dense));
  const setMode = (clip: CLIP, oft: OftRelation, training: boolean) => { clip.train(training); oft.train(training); };

  it("'oft_both' freezes CLIP, sizes the OFT module from CLIP, and at init changes no output", () => {
    const clip = loadClip(weights());
    const base = run(clip);
    const oft = applyClipFinetune(clip, 'oft_both', { blockSize: 64 }).oft!;
    try {
      const c = clip.cfg;
      assert.equal(clip.numParameters(true), 0, 'CLIP is frozen');
      const [rT, rV, L] = [c.transformerWidth / 64, c.visionWidth / 64, Math.max(c.transformerLayers, c.visionLayers)];
      assert.equal(oft.numParameters(true), 64 * 64 * 4 * L * (rT + rV) + (4 * L) ** 2 + L * (rT + rV) ** 2);
      assert.ok(attentions(clip).every((a) => a.weightOverride !== null), 'every attention block of both towers is routed through OFT');
      assert.equal(oft.training, false, "OFT follows CLIP's mode (loadClip returns eval)");
      const folded = run(clip);
      assert.ok(diff(folded, base) <= 1e-6, `eval (folded) output changed at init: ${diff(folded, base)}`);
      assert.equal(oft.foldedLayers, c.transformerLayers + c.visionLayers);
      setMode(clip, oft, true);
      const trained = run(clip);
      assert.ok(diff(trained, base) <= 1e-6, `training-mode output changed at init: ${diff(trained, base)}`);
      assert.equal(oft.foldedLayers, 0, 'no folding in training mode');
      dispose([base, folded, trained]);
    } finally {
      oft.dispose();
      clip.dispose();
    }
  });

  it("'oft_both' needs a block size that divides both widths", () => {
    const clip = loadClip(weights());
    try {
      assert.throws(() => applyClipFinetune(clip, 'oft_both'), (e: unknown) => e instanceof AhsError && /block size 128 must divide the vision width 192/.test(e.message));
    } finally {
      clip.dispose();
    }
  });

  it('gradients reach every OFT parameter and no CLIP parameter', () => {
    const clip = loadClip(weights());
    const base = run(clip);
    const oft = applyClipFinetune(clip, 'oft_both', { blockSize: 64 }).oft!;
    try {
      perturb(oft, 0.02, 1);
      setMode(clip, oft, true);
      tidy(() => {
        const img = clip.encodeImage(images);
        const loss = img.pow(2).sum().add(clip.encodeText(tokens).pow(2).sum()).add(clip.visual.dense(images).tokens.pow(2).mean());
        assert.ok(maxAbsDiff(img, base.img) > 1e-4, 'the perturbed OFT changes the output');
        loss.backward();
      });
      for (const [name, p] of oft.namedParameters()) tidy(() => {
        const g = p.grad;
        assert.ok(g, `${name} has no gradient`);
        const n = g.norm().item();
        assert.ok(Number.isFinite(n) && n > 0, `${name}: gradient norm ${n}`);
      });
      for (const [name, p] of clip.namedParameters()) {
        assert.equal(p.requiresGrad, false, `${name} is trainable`);
        assert.equal(p.grad, null, `${name} received a gradient`);
      }
      dispose(base);
    } finally {
      oft.dispose();
      clip.dispose();
    }
  });

  it('eval folding equals training-mode recomputation and is invalidated by changes', () => {
    const clip = loadClip(weights());
    const oft = applyClipFinetune(clip, 'oft_both', { blockSize: 64 }).oft!;
    const keep: Outputs[] = [];
    const recompute = (): Outputs => { setMode(clip, oft, true); const o = run(clip); setMode(clip, oft, false); keep.push(o); return o; };
    const folded = (): Outputs => { const o = run(clip); keep.push(o); return o; };
    const nudge = () => noGrad(() => tidy(() => { oft.attn_q_proj_oft_layer_R.add_(randnLike(oft.attn_q_proj_oft_layer_R).mul(0.01)); }));
    try {
      perturb(oft, 0.02, 2);
      const ref1 = recompute();
      const live = liveTensorCount();
      const e1 = folded();
      assert.ok(diff(e1, ref1) <= 1e-6, `folded vs recomputed: ${diff(e1, ref1)}`);
      assert.equal(oft.foldedLayers, clip.cfg.transformerLayers + clip.cfg.visionLayers);
      assert.ok(diff(folded(), e1) === 0, 'the folded weights are reused');

      // An in-place change in eval mode (a parent's loadStateDict, an optimizer step) is detected.
      nudge();
      const e2 = folded();
      assert.ok(diff(e2, e1) > 1e-5, 'change detected');
      assert.ok(diff(e2, recompute()) <= 1e-6, 'refolded weights equal the recomputed ones');

      // Without detection the folded weights are stale until invalidate().
      oft.detectChanges = false;
      folded();
      nudge();
      const stale = folded();
      assert.ok(diff(stale, e2) === 0, 'stale without change detection');
      oft.invalidate();
      const e3 = folded();
      assert.ok(diff(e3, e2) > 1e-5 && diff(e3, recompute()) <= 1e-6, 'invalidate() refolds');

      // train(), loadStateDict() and a forward with CLIP in training mode drop the folded weights.
      folded();
      oft.train();
      assert.equal(oft.foldedLayers, 0, 'train() invalidates');
      oft.eval();
      folded();
      oft.loadStateDict(oft.stateDict());
      assert.equal(oft.foldedLayers, 0, 'loadStateDict() invalidates');
      folded();
      clip.train();
      dispose(run(clip));
      assert.equal(oft.foldedLayers, 0, 'a training-mode attention module bypasses and drops the folded weights');
      clip.eval();

      // Folded weights are the only tensors the cache holds.
      folded();
      dispose(keep.splice(1));
      oft.invalidate();
      assert.equal(liveTensorCount(), live, 'invalidate() frees every cached tensor');
    } finally {
      dispose(keep);
      oft.dispose();
      clip.dispose();
    }
  });

  it("'attention' trains exactly the Q and V projection weights of every block of both towers", () => {
    const clip = loadClip(weights(), { qkvLayout: 'split' });
    try {
      const res = applyClipFinetune(clip, 'attention');
      const c = clip.cfg;
      const want: string[] = [];
      for (const [prefix, n] of [['visual.transformer', c.visionLayers], ['transformer', c.transformerLayers]] as const) {
        for (let i = 0; i < n; i++) want.push(`${prefix}.resblocks.${i}.attn.q_proj_weight`, `${prefix}.resblocks.${i}.attn.v_proj_weight`);
      }
      assert.deepEqual([...res.trainable].sort(), want.sort());
      const sd = clip.stateDict();
      const fromShapes = want.reduce((s, k) => s + sd.get(k)!.numel, 0);
      assert.equal(fromShapes, 2 * c.visionWidth ** 2 * c.visionLayers + 2 * c.transformerWidth ** 2 * c.transformerLayers);
      assert.equal(res.numTrainable, fromShapes);
      assert.equal(clip.numParameters(true), fromShapes);
      assert.equal(res.oft, null);
      assert.ok(attentions(clip).every((a) => a.weightOverride === null));
    } finally {
      clip.dispose();
    }
  });

  it("'attention' refuses the packed (OpenAI) q/k/v layout", () => {
    const clip = loadClip(weights());
    try {
      assert.throws(() => applyClipFinetune(clip, 'attention'),
        (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_INVALID_ARGUMENT' && /needs CLIP with the 'split' q\/k\/v layout.*resblocks\.0\.attn is 'packed'/.test(e.message));
    } finally {
      clip.dispose();
    }
  });

  it("CAT-Seg's rule at ViT-B/16 widths trains 2·768²·12 + 2·512²·12 = 20,447,232 parameters", () => {
    // ViT-B/16 names and shapes from the tiny model's (split layout), widths scaled: every
    // per-block shape is a multiple of the block's width.
    const clip = loadClip(weights(), { qkvLayout: 'split' });
    try {
      const c = clip.cfg;
      let count = 0;
      for (const [name, t] of clip.namedParameters()) {
        const m = /^(visual\.)?transformer\.resblocks\.0\.(.*)$/.exec(name);
        if (!m) {
          if (!name.includes('resblocks')) assert.equal(catsegTrainable(name, 'attention'), false, name);
          continue;
        }
        const [w, W] = m[1] ? [c.visionWidth, 768] : [c.transformerWidth, 512];
        const numel = t.shape.reduce((a, d) => a * (d / w) * W, 1);
        if (catsegTrainable(name, 'attention')) count += 12 * numel; // 12 blocks per tower
      }
      assert.equal(count, 20_447_232);
    } finally {
      clip.dispose();
    }
    assert.equal(catsegTrainable('visual.transformer.resblocks.3.attn.in_proj_bias', 'attention'), false);
    assert.equal(catsegTrainable('transformer.resblocks.3.attn.out_proj.weight', 'attention'), false);
    assert.equal(catsegTrainable('visual.positional_embedding', 'attention'), false);
    assert.equal(catsegTrainable('transformer.resblocks.3.ln_1.weight', 'full'), true);
    assert.equal(catsegTrainable('token_embedding.weight', 'full'), false);
  });

  it("'none' freezes everything and detaches a previous OFT; 'full' trains every transformer parameter", () => {
    const clip = loadClip(weights());
    try {
      const { oft } = applyClipFinetune(clip, 'oft_both', { blockSize: 64 });
      const none = applyClipFinetune(clip, 'none');
      oft!.dispose();
      assert.deepEqual([none.trainable, none.numTrainable, none.oft], [[], 0, null]);
      assert.equal(clip.numParameters(true), 0);
      assert.ok(attentions(clip).every((a) => a.weightOverride === null), 'overrides removed');
      const full = applyClipFinetune(clip, 'full');
      const want = [...clip.namedParameters()].filter(([n]) => n.includes('transformer'));
      assert.deepEqual(full.trainable, want.map(([n]) => n));
      assert.equal(clip.numParameters(true), want.reduce((s, [, t]) => s + t.numel, 0));
    } finally {
      clip.dispose();
    }
  });
});
