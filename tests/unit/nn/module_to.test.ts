// Module.to and Tensor.adopt_, the device move under it. What runs here on the CPU: a tensor taking
// over another's native tensor keeps its JS identity (fields and optimizers hold the object), and
// a move to the device a module is already on changes nothing. The CUDA tests (tiny CAT-Seg on
// the GPU against the same model on the CPU, and `train` with MODEL.DEVICE cuda) run where the
// linked libtorch sees a GPU and are skipped elsewhere.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CATSeg } from '../../../src/models/catseg/catseg_model.js';
import { CatSegPredictor } from '../../../src/models/catseg/inference.js';
import { AdamW } from '../../../src/optim/index.js';
import { engineInfo, liveTensorCount, manualSeed, noGrad, rand, randint, tensor, tidy } from '../../../src/tensor/index.js';
import { tinyCatSegOptions } from '../../helpers/tiny_catseg.js';

const cuda = engineInfo().cudaAvailable;
const CLASSES = ['sky', 'grass', 'red car'];

describe('Tensor.adopt_', () => {
  it('takes over the other tensor: values, shape, dtype; the other is disposed; nothing leaks', () => {
    // A failure means a moved parameter keeps its old shape/dtype metadata, or the move leaks the
    // old native tensor (a model's worth of memory per move), or leaves two owners of one tensor.
    const a = tensor([1, 2, 3]);
    const before = liveTensorCount();
    const b = tensor([[4, 5], [6, 7]], { dtype: 'float64' });
    assert.equal(a.adopt_(b), a);
    assert.deepEqual(a.shape, [2, 2]);
    assert.equal(a.dtype, 'float64');
    assert.deepEqual(Array.from(a.data<'float64'>()), [4, 5, 6, 7]);
    assert.ok(b.isDisposed);
    assert.equal(liveTensorCount(), before);
    a.dispose();
  });
});

describe('Module.to', () => {
  it('to the device it is on: the same tensor objects, trainable as before, values unchanged', () => {
    // A failure means a no-op move replaces parameters (optimizers built before it would update
    // tensors the model no longer uses) or freezes them.
    manualSeed(1);
    const model = new CATSeg(tinyCatSegOptions('oft_both'));
    const params = model.parameters();
    const trainable = params.map((p) => p.requiresGrad);
    const sums = noGrad(() => params.map((p) => tidy(() => p.sum().item())));
    assert.equal(model.to('cpu'), model);
    assert.equal(model.device, 'cpu');
    model.parameters().forEach((p, i) => {
      assert.equal(p, params[i]);
      assert.equal(p.requiresGrad, trainable[i]);
    });
    assert.deepEqual(noGrad(() => model.parameters().map((p) => tidy(() => p.sum().item()))), sums);
    model.dispose();
  });

  it('refuses a device this build cannot use, by name', { skip: cuda ? 'CUDA is available here' : false }, () => {
    const model = new CATSeg(tinyCatSegOptions('none'));
    assert.throws(() => model.to('cuda:0'), (e: Error & { code?: string }) => e.code === 'AHS_ERR_DEVICE' && /cuda:0/.test(e.message));
    assert.equal(model.device, 'cpu');
    model.dispose();
  });

  // Wrong here: some tensor of the training graph is created on the CPU next to CUDA parameters
  // (a device-mismatch error), the gradients land elsewhere, the optimizer's moments live on the
  // CPU, or GPU and CPU give different losses and predictions for the same weights.
  it('CUDA: a tiny CAT-Seg trains and predicts on the GPU as on the CPU', { skip: cuda ? false : 'no CUDA device visible to the linked libtorch' }, () => {
    manualSeed(5);
    const cpu = new CATSeg(tinyCatSegOptions('oft_both')).train();
    const gpu = new CATSeg(tinyCatSegOptions('oft_both')).train();
    gpu.loadStateDict(cpu.stateDict());
    gpu.to('cuda');
    assert.equal(gpu.device, 'cuda:0');
    const images = rand([2, 3, 64, 64]).mul(255);
    const labels = randint(0, CLASSES.length, [2, 64, 64]);
    const lossOf = (m: CATSeg, dev: 'cpu' | 'cuda') => tidy(() => {
      const { losses } = m.forwardTrain({ images: images.to(dev), labels: labels.to(dev), classNames: CLASSES });
      const l = losses.loss_sem_seg!;
      l.backward();
      return l.item();
    });
    const lc = lossOf(cpu, 'cpu'), lg = lossOf(gpu, 'cuda');
    assert.ok(Math.abs(lc - lg) <= 1e-4 * Math.max(1, Math.abs(lc)), `loss on CPU ${lc}, on CUDA ${lg}`);
    for (const [n, p] of gpu.trainableParameters()) {
      const g = p.grad;
      assert.ok(g, `${n}: no gradient`);
      assert.equal(g.device, 'cuda:0', `${n}: gradient on ${g.device}`);
      g.dispose();
    }
    const opt = new AdamW([{ params: gpu.trainableParameters().map(([, p]) => p) }], { lr: 1e-3 });
    opt.step();
    for (const t of opt.stateDict().tensors.values()) assert.equal(t.device, 'cuda:0');
    opt.dispose();
    const image = randint(0, 256, [3, 64, 80]).toDType('uint8');
    cpu.eval(); gpu.eval();
    const a = new CatSegPredictor(cpu, { protocol: 'whole' }).labelsWithConfidence(image, CLASSES);
    const b = new CatSegPredictor(gpu, { protocol: 'whole' }).labelsWithConfidence(image, CLASSES);
    assert.equal(b.labels.device, 'cpu', 'predictions come back on the CPU');
    const agree = tidy(() => a.labels.eq(b.labels).float().mean().item());
    assert.ok(agree > 0.99, `labels agree on ${(agree * 100).toFixed(1)}% of pixels`);
    cpu.dispose(); gpu.dispose();
  });
});
