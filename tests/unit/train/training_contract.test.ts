// The training contract (src/models/seg_model.ts) on a tiny CAT-Seg: forwardTrain returns named
// losses, and every trainable parameter receives a finite, non-zero gradient from their weighted
// sum, for each CLIP fine-tuning mode the recipes use.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CATSeg } from '../../../src/models/catseg/catseg_model.js';
import { liveTensorCount, manualSeed, rand, randint, tidy } from '../../../src/tensor/index.js';
import { tinyCatSegOptions } from '../../helpers/tiny_catseg.js';

const CLASSES = ['sky', 'grass', 'red car'];

describe('CATSeg training contract', () => {
  for (const mode of ['attention', 'oft_both', 'none'] as const) {
    // Wrong here: some parameter the optimizer updates is disconnected from the loss (it would
    // decay without learning), the loss is NaN, or the forward leaks tensors.
    it(`CLIP_FINETUNE ${mode}: every trainable parameter gets a finite non-zero gradient`, () => {
      manualSeed(3);
      const model = new CATSeg(tinyCatSegOptions(mode)).train();
      const batch = () => ({ images: rand([2, 3, 64, 64]).mul(255), labels: randint(0, CLASSES.length, [2, 64, 64]).maskedFill(rand([2, 64, 64]).lt(0.1), 255) });
      // A first pass creates what the model keeps on purpose (the text mask, cached prompts).
      tidy(() => model.forwardTrain({ ...batch(), classNames: CLASSES }));
      const before = liveTensorCount();
      const grads = tidy(() => {
        const { images, labels } = batch();
        const { logits, losses } = model.forwardTrain({ images, labels, classNames: CLASSES });
        assert.deepEqual(Object.keys(losses), ['loss_sem_seg']);
        assert.deepEqual(logits.shape, [2, CLASSES.length, 16, 16]);
        assert.ok(Number.isFinite(losses.loss_sem_seg!.item()));
        losses.loss_sem_seg!.backward();
        return model.trainableParameters().map(([name, p]) => {
          const g = p.grad;
          const r = g ? { name, finite: g.isfinite().all().item(), norm: g.norm().item() } : { name, finite: false, norm: 0 };
          g?.dispose();
          return r;
        });
      });
      // The dense last CLIP block computes no attention (only its v path), so its Q projection is
      // trainable in CAT-Seg's rule but never used: the reference gives it no gradient either.
      const unused = mode === 'attention' ? ['sem_seg_head.predictor.clip_model.visual.transformer.resblocks.2.attn.q_proj_weight'] : [];
      const trainable = grads.filter((g) => !unused.includes(g.name));
      assert.ok(trainable.length > 10, `only ${trainable.length} trainable tensors`);
      if (mode === 'none') assert.ok(!grads.some((g) => g.name.includes('clip_model')), 'none must freeze CLIP');
      if (mode === 'oft_both') assert.ok(grads.some((g) => g.name.startsWith('sem_seg_head.predictor.oft.')), 'oft_both trains the OFT tensors');
      if (mode === 'attention') assert.ok(grads.some((g) => g.name.endsWith('transformer.resblocks.0.attn.v_proj_weight') && !g.name.includes('visual')), 'attention trains the text tower');
      for (const g of trainable) assert.ok(g.finite && g.norm > 0, `${g.name}: gradient ${g.finite ? 'is zero' : 'missing or not finite'}`);
      for (const [, p] of model.trainableParameters()) p.grad = null;
      assert.equal(liveTensorCount(), before, 'forwardTrain leaked tensors');
      model.dispose();
    });
  }
});
