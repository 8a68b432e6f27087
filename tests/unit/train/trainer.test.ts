// The trainer's step and its guards on small models: the NaN guard stops before the update,
// gradient accumulation gives the gradients of the whole batch, loss terms are weighted by the
// config's weights, and the optimizer's groups follow CAT-Seg's build_optimizer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../../src/config/index.js';
import { buildGradClipper, buildOptimizer, paramGroups } from '../../../src/engine/train/build_optimizer.js';
import { lrMultiplierFromConfig } from '../../../src/engine/train/lr_scheduler.js';
import { Trainer, type BatchSource } from '../../../src/engine/train/trainer.js';
import { CATSeg } from '../../../src/models/catseg/catseg_model.js';
import type { SegmentationModel, TrainingBatch, TrainingOutput } from '../../../src/models/seg_model.js';
import { Linear, Module } from '../../../src/nn/index.js';
import { SGD } from '../../../src/optim/sgd.js';
import { cat, manualSeed, noGrad, rand, randint, tensor, tidy, type Tensor } from '../../../src/tensor/index.js';
import { tinyCatSegOptions } from '../../helpers/tiny_catseg.js';

/** y = w x; loss_a = mean(y^2), loss_b = mean(y); a NaN at the iterations listed. */
class Toy extends Module implements SegmentationModel {
  readonly fc = this.child('fc', new Linear(2, 1, { bias: false }));
  step = 0;
  constructor(readonly nanAt: number[] = []) { super(); }
  forwardTrain(batch: TrainingBatch): TrainingOutput {
    const y = this.fc.forward(batch.images);
    const a = y.mul(y).mean();
    const nan = this.nanAt.includes(this.step++);
    return { logits: y, losses: { loss_a: nan ? a.mul(Number.NaN) : a, loss_b: y.mean() } };
  }
  trainableParameters(): [string, Tensor][] { return [...this.namedParameters()].filter(([, t]) => t.requiresGrad); }
}

const toyData = (): BatchSource => ({
  async next() {
    const images = tensor([[1, 2], [3, 4]]);
    return { batch: { images, labels: images, classNames: [] }, dataTimeMs: 0, dispose: () => images.dispose() };
  },
});

const weights = (m: Module) => noGrad(() => [...m.stateDict().values()].map((t) => [...t.data<'float32'>()]));

describe('Trainer', () => {
  // Wrong here: a NaN loss updates the weights (the checkpoint written next would be poisoned),
  // or the message does not say which term and iteration.
  it('stops on a NaN loss before the update, naming the iteration and the term', async () => {
    manualSeed(0);
    const model = new Toy([2]);
    const opt = new SGD([{ params: model.parameters() }], { lr: 0.1 });
    const t = new Trainer({ model, optimizer: opt, data: toyData(), lossWeights: { loss_a: 1, loss_b: 1 }, clipGradients: () => null });
    const seen: number[][][] = [];
    t.register({ afterStep: () => void seen.push(weights(model)) });
    await assert.rejects(t.train(0, 5), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'AHS_ERR_TRAINING');
      assert.match(e.message, /loss 'loss_a' is NaN at iteration 2/);
      return true;
    });
    assert.equal(seen.length, 2);
    assert.deepEqual(weights(model), seen[1], 'the weights moved after the NaN');
    model.dispose();
  });

  // Wrong here: a term's weight from the config is ignored (the gradient would be that of the
  // unweighted sum), or a returned term without a weight is silently dropped.
  it('weights each loss term by the config and refuses a term without a weight', async () => {
    const run = async (wb: number) => {
      manualSeed(0);
      const model = new Toy();
      const w0 = weights(model)[0]!;
      const t = new Trainer({ model, optimizer: new SGD([{ params: model.parameters() }], { lr: 1 }), data: toyData(), lossWeights: { loss_a: 0, loss_b: wb }, clipGradients: () => null });
      await t.train(0, 1);
      const d = weights(model)[0]!.map((v, i) => v - w0[i]!);
      model.dispose();
      return d;
    };
    // loss_b = mean(w . x) over 2 rows: d/dw = mean(x) = [2, 3]; SGD lr 1 moves w by -wb * [2, 3].
    const d = await run(0.5);
    assert.ok(Math.abs(d[0]! + 1) < 1e-6 && Math.abs(d[1]! + 1.5) < 1e-6, `moved by ${d}`);
    const model = new Toy();
    const t = new Trainer({ model, optimizer: new SGD([{ params: model.parameters() }], { lr: 1 }), data: toyData(), lossWeights: { loss_a: 1 }, clipGradients: () => null });
    await assert.rejects(t.train(0, 1), /returned loss 'loss_b' but the config gives it no weight/);
    model.dispose();
  });

  // Wrong here: gradient accumulation scales or sums the micro-batch losses differently from the
  // mean over the whole batch, so SOLVER.GRAD_ACCUM_STEPS would change the training.
  it('gradient accumulation over 4 micro-batches equals one batch of 4 (CAT-Seg, within 1e-6)', async () => {
    manualSeed(5);
    const images = tidy(() => rand([4, 3, 64, 64]).mul(255).round());
    const labels = tidy(() => randint(0, 3, [4, 64, 64]));
    const classNames = ['sky', 'grass', 'car'];
    const step = async (accum: number) => {
      manualSeed(9);
      const model = new CATSeg(tinyCatSegOptions('attention'));
      const opt = new SGD([{ params: model.trainableParameters().map(([, p]) => p) }], { lr: 1 });
      let i = 0;
      const per = 4 / accum;
      const data: BatchSource = {
        async next() {
          const b = { images: images.narrow(0, i * per, per), labels: labels.narrow(0, i * per, per), classNames };
          i++;
          return { batch: b, dataTimeMs: 0, dispose: () => { b.images.dispose(); b.labels.dispose(); } };
        },
      };
      const t = new Trainer({ model, optimizer: opt, data, lossWeights: { loss_sem_seg: 1 }, clipGradients: () => null, accumulationSteps: accum });
      const w0 = noGrad(() => model.trainableParameters().map(([, p]) => p.clone()));
      await t.train(0, 1);
      const delta = noGrad(() => cat(model.trainableParameters().map(([, p], k) => p.sub(w0[k]!).flatten()), 0));
      for (const w of w0) w.dispose();
      model.dispose();
      return delta;
    };
    const whole = await step(1), micro = await step(4);
    const diff = tidy(() => whole.sub(micro).abs().amax().item());
    const scale = tidy(() => whole.abs().amax().item());
    assert.ok(scale > 1e-4, 'the step did not move the weights');
    assert.ok(diff <= 1e-6, `accumulated gradients differ by ${diff}`);
    for (const t of [whole, micro, images, labels]) t.dispose();
  });
});

describe('optimizer and schedule from the config (CAT-Seg train_net.py)', () => {
  // Wrong here: CLIP or its orthogonal transforms train at the head's lr (100x too fast), or
  // norms and embeddings get weight decay.
  it('groups: CLIP and OFT at CLIP_MULTIPLIER, no decay on norms and embeddings', () => {
    const cfg = defaultConfig();
    const model = new CATSeg(tinyCatSegOptions('oft_both'));
    const groups = paramGroups(model, cfg);
    const find = (name: string) => groups.find((g) => g.names!.includes(name));
    const oft = [...model.namedParameters()].find(([n, t]) => n.startsWith('sem_seg_head.predictor.oft.') && t.requiresGrad)![0];
    assert.equal(find(oft)?.lrMultiplier, cfg.SOLVER.CLIP_MULTIPLIER);
    assert.equal(find(oft)?.weightDecay, cfg.SOLVER.WEIGHT_DECAY);
    const ln = 'sem_seg_head.predictor.transformer.layers.0.swin_block.guidance_norm.weight';
    assert.equal(find(ln)?.weightDecay, 0);
    assert.equal(find(ln)?.lrMultiplier, 1);
    assert.equal(find('sem_seg_head.predictor.transformer.conv1.weight')?.weightDecay, cfg.SOLVER.WEIGHT_DECAY);
    const n = groups.reduce((a, g) => a + g.params.length, 0);
    assert.equal(n, model.trainableParameters().length, 'every trainable tensor is in exactly one group');
    assert.ok(buildOptimizer(model, cfg));
    model.dispose();
    // No fine-tuning mode trains CLIP's token embedding; made trainable here to check the rule.
    const cfg2 = defaultConfig();
    const m2 = new CATSeg(tinyCatSegOptions('full'));
    m2.clip.token_embedding.weight.requiresGrad_(true);
    const g2 = paramGroups(m2, cfg2);
    const emb = g2.find((g) => g.names!.includes('sem_seg_head.predictor.clip_model.token_embedding.weight'));
    assert.equal(emb?.weightDecay, 0);
    assert.equal(emb?.lrMultiplier, cfg2.SOLVER.CLIP_MULTIPLIER);
    m2.dispose();
  });

  // Wrong here: the schedule is not detectron2's (a resumed run would also see other rates).
  it('WarmupCosineLR, WarmupMultiStepLR with warmup, WarmupPolyLR', () => {
    const cfg = defaultConfig();
    cfg.SOLVER.LR_SCHEDULER_NAME = 'WarmupCosineLR';
    cfg.SOLVER.MAX_ITER = 100;
    cfg.SOLVER.WARMUP_ITERS = 0;
    let f = lrMultiplierFromConfig(cfg);
    assert.equal(f(0), 1);
    assert.ok(Math.abs(f(50) - 0.5) < 1e-12);
    assert.ok(Math.abs(f(100)) < 1e-12);
    cfg.SOLVER.LR_SCHEDULER_NAME = 'WarmupMultiStepLR';
    cfg.SOLVER.STEPS = [60, 80];
    cfg.SOLVER.WARMUP_ITERS = 10;
    cfg.SOLVER.WARMUP_FACTOR = 0.1;
    f = lrMultiplierFromConfig(cfg);
    assert.ok(Math.abs(f(0) - 0.1) < 1e-12 && Math.abs(f(5) - 0.55) < 1e-12);
    assert.equal(f(59), 1);
    assert.ok(Math.abs(f(60) - 0.1) < 1e-12 && Math.abs(f(80) - 0.01) < 1e-12);
    cfg.SOLVER.LR_SCHEDULER_NAME = 'WarmupPolyLR';
    cfg.SOLVER.WARMUP_ITERS = 0;
    f = lrMultiplierFromConfig(cfg);
    assert.ok(Math.abs(f(50) - 0.5 ** 0.9) < 1e-12);
  });

  // Wrong here: full-model clipping clips per tensor (or not at all), changing CAT-Seg's 0.01 clip.
  it('full_model clipping bounds the joint gradient norm', () => {
    const cfg = defaultConfig();
    cfg.SOLVER.CLIP_GRADIENTS.ENABLED = true;
    cfg.SOLVER.CLIP_GRADIENTS.CLIP_TYPE = 'full_model';
    cfg.SOLVER.CLIP_GRADIENTS.CLIP_VALUE = 0.5;
    const a = tensor([1, 2]).requiresGrad_(true), b = tensor([2]).requiresGrad_(true);
    tidy(() => a.mul(tensor([3, 0])).sum().add(b.mul(4).sum()).backward()); // grads [3, 0], [4]: norm 5
    const norm = buildGradClipper(cfg)([a, b]);
    assert.ok(Math.abs(norm! - 5) < 1e-6);
    const ga = a.grad!, gb = b.grad!;
    const after = Math.hypot(...ga.data<'float32'>(), ...gb.data<'float32'>());
    assert.ok(Math.abs(after - 0.5) < 1e-5, `norm after clipping ${after}`);
    for (const t of [a, b, ga, gb]) t.dispose();
  });
});
