// Activation checkpointing of CAT-Seg's per-class stages (BackwardTape + CheckpointedClassStages):
// the same loss and the same gradient for every trainable tensor as the plain graph, with class
// chunks that do not divide the class count, and nothing leaked.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CATSeg } from '../../../src/models/catseg/catseg_model.js';
import type { AhsComponentOptions } from '../../../src/models/ahs/components.js';
import { BackwardTape, liveTensorCount, manualSeed, noGrad, rand, randint, tidy, type Tensor } from '../../../src/tensor/index.js';
import { tinyCatSegOptions } from '../../helpers/tiny_catseg.js';

const CLASSES = ['sky', 'grass', 'red car', 'road', 'tree'];

function gradients(mode: 'attention' | 'oft_both', chunk: number, images: Tensor, labels: Tensor, ahs?: AhsComponentOptions): { loss: number; grads: Map<string, Float32Array> } {
  manualSeed(21);
  const model = new CATSeg({ ...tinyCatSegOptions(mode), checkpointClassChunk: chunk, ...(ahs ? { ahs } : {}) }).train();
  // Move the components off their zero init, so that every path through them carries a gradient.
  noGrad(() => tidy(() => {
    for (const [n, p] of model.namedParameters()) if (/(\.gate|dc_hsp\.up\.weight|ms_cost\.conv\.weight)$/.test(n)) p.copy_(rand(p.shape).sub(0.5).mul(0.2));
  }));
  const tape = new BackwardTape();
  const loss = tidy(() => {
    const { losses } = model.forwardTrain({ images, labels, classNames: CLASSES }, { tape });
    const total = Object.values(losses).reduce((a, b) => a.add(b));
    const v = total.item();
    tape.backward(total);
    return v;
  });
  const grads = new Map<string, Float32Array>();
  for (const [n, p] of model.trainableParameters()) {
    const g = p.grad;
    if (g) { grads.set(n, g.data<'float32'>().slice()); g.dispose(); }
  }
  model.dispose();
  return { loss, grads };
}

describe('activation checkpointing (CHECKPOINT_CLASS_CHUNK)', () => {
  const cases: [string, 'attention' | 'oft_both', AhsComponentOptions | undefined][] = [
    ['attention', 'attention', undefined],
    ['oft_both', 'oft_both', undefined],
    // The AHS-Seg components: MH-FPN's extra cost volumes are one more checkpointed stage, the
    // boundary loss is computed chunk by chunk with the BCE, DC-HSP's text feeds every stage.
    ['oft_both + HA-HEM, MH-FPN (cost), DC-HSP, boundary loss', 'oft_both', {
      hem: { mode: 'geodesic', visionOrtho: true }, msfpn: { target: 'cost', layers: [0, 2], boundary: 'weighted_bce' }, dchsp: { mode: 'gate' },
    }],
    ['oft_both + MH-FPN (guidance)', 'oft_both', { msfpn: { target: 'guidance', layers: [1, 2], boundary: 'weighted_bce' } }],
  ];
  for (const [name, mode, ahs] of cases) {
    // Wrong here: the recomputation misses a path (a parameter gets no or a partial gradient),
    // counts a chunk twice, or back-propagates CLIP once per chunk with the wrong upstream grads.
    it(`${name}: chunks of 2 of 5 classes give the plain graph's loss and gradients within 1e-6`, () => {
      manualSeed(4);
      const images = tidy(() => rand([2, 3, 64, 64]).mul(255));
      const labels = tidy(() => randint(0, CLASSES.length, [2, 64, 64]).maskedFill(rand([2, 64, 64]).lt(0.1), 255));
      const before = liveTensorCount();
      const plain = gradients(mode, 0, images, labels, ahs);
      const ckpt = gradients(mode, 2, images, labels, ahs);
      assert.equal(liveTensorCount(), before, 'leaked tensors');
      assert.ok(Math.abs(plain.loss - ckpt.loss) <= 1e-6, `loss ${plain.loss} vs ${ckpt.loss}`);
      assert.deepEqual([...ckpt.grads.keys()].sort(), [...plain.grads.keys()].sort());
      // Relative to the largest gradient entry of the model: some gradients are zero in exact
      // arithmetic (a key bias shifts every softmax row equally) and only float noise remains.
      let global = 0;
      for (const g of plain.grads.values()) for (const v of g) global = Math.max(global, Math.abs(v));
      let worst = 0, worstName = '';
      for (const [n, g] of plain.grads) {
        const h = ckpt.grads.get(n)!;
        for (let i = 0; i < g.length; i++) {
          const d = Math.abs(g[i]! - h[i]!);
          if (d > worst) { worst = d; worstName = n; }
        }
      }
      assert.ok(global > 0);
      assert.ok(worst <= 1e-6 * global, `largest gradient difference ${worst} of ${global} (${worstName})`);
      images.dispose(); labels.dispose();
    });
  }
});
