// The AHS-Seg components inside a tiny CATSeg (H-CLIP oft_both baseline): any subset switched on
// is the baseline at initialisation (training forward and sliding-window inference), stops being
// it after one optimizer step, gives every new parameter a gradient, adds its named loss, and
// round-trips through checkpoints; a baseline checkpoint loads with only the components missing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { AhsComponentOptions } from '../../../src/models/ahs/components.js';
import { loadCatSegCheckpoint } from '../../../src/models/catseg/checkpoint.js';
import { CATSeg } from '../../../src/models/catseg/catseg_model.js';
import { CatSegPredictor } from '../../../src/models/catseg/inference.js';
import { saveTensors } from '../../../src/io/tensor_io.js';
import { AdamW } from '../../../src/optim/index.js';
import { manualSeed, noGrad, rand, randint, tidy, type Tensor } from '../../../src/tensor/index.js';
import { tinyCatSegOptions } from '../../helpers/tiny_catseg.js';

const CLASSES = ['sky', 'grass', 'red car'];
const HEM = { mode: 'geodesic', visionOrtho: true } as const;
const FPN = { target: 'guidance', layers: [0, 1, 2], boundary: 'weighted_bce' } as const;
const FPN_COST = { target: 'cost', layers: [0, 2], boundary: 'sobel_ahs' } as const;
const DCHSP = { mode: 'rank' } as const;

const SUBSETS: [string, AhsComponentOptions][] = [
  ['HA-HEM', { hem: HEM }],
  ['MH-FPN', { msfpn: FPN }],
  ['MH-FPN (cost)', { msfpn: FPN_COST }],
  ['DC-HSP', { dchsp: DCHSP }],
  ['HA-HEM + MH-FPN', { hem: HEM, msfpn: FPN }],
  ['HA-HEM + DC-HSP', { hem: { mode: 'coft', visionOrtho: false }, dchsp: { mode: 'gate' } }],
  ['MH-FPN + DC-HSP', { msfpn: FPN, dchsp: DCHSP }],
  ['all three', { hem: HEM, msfpn: FPN, dchsp: DCHSP }],
];

function model(ahs: AhsComponentOptions = {}): CATSeg {
  const o = tinyCatSegOptions('oft_both');
  // The baseline uses the same vision rule as the enhanced model (VISION_ORTHO is an OFT setting).
  return new CATSeg({ ...o, ahs, oftVisionTransform: ahs.hem?.visionOrtho ? 'cayley' : 'free' });
}

function batch(seed: number): { images: Tensor; labels: Tensor; classNames: string[] } {
  manualSeed(seed);
  const labels = randint(0, CLASSES.length, [2, 64, 64]).maskedFill(rand([2, 64, 64]).lt(0.1), 255);
  return { images: rand([2, 3, 64, 64]).mul(255), labels, classNames: CLASSES };
}

const maxDiff = (a: Tensor, b: Tensor) => tidy(() => a.sub(b).abs().amax().item());

/** The baseline and the enhanced model with the baseline's weights (components at init). */
function pair(ahs: AhsComponentOptions): [CATSeg, CATSeg] {
  manualSeed(1);
  const base = model();
  const enh = model(ahs);
  const sd = base.stateDict();
  enh.loadStateDict(sd, { strict: false });
  return [base, enh];
}

const dir = mkdtempSync(join(tmpdir(), 'ahs-components-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('AHS-Seg components in CATSeg', () => {
  for (const [name, ahs] of SUBSETS) {
    // Wrong here: a component is not identity at init (loading a CAT-Seg/H-CLIP model into the
    // enhanced one would change its predictions), or it is a no-op that training cannot move.
    it(`${name}: baseline logits at init (training and sliding window), different after one step`, () => {
      const [base, enh] = pair(ahs);
      base.train(); enh.train();
      const b = batch(7);
      const [l0, l1] = tidy(() => [base.forwardTrain(b).logits, enh.forwardTrain(b).logits]);
      assert.ok(maxDiff(l0, l1) <= 1e-6, `training logits differ by ${maxDiff(l0, l1)} at init`);
      base.eval(); enh.eval();
      const image = randint(0, 256, [3, 80, 96], 'uint8');
      const opts = { protocol: 'sliding' as const, slidingResolution: [106, 106] as [number, number] };
      const [p0, p1] = tidy(() => [new CatSegPredictor(base, opts).probabilities(image, CLASSES), new CatSegPredictor(enh, opts).probabilities(image, CLASSES)]);
      assert.ok(maxDiff(p0, p1) <= 1e-6, `sliding-window probabilities differ by ${maxDiff(p0, p1)} at init`);

      enh.train();
      const opt = new AdamW(enh.trainableParameters().map(([, p]) => p), { lr: 1e-2, weightDecay: 0 });
      tidy(() => {
        const { losses } = enh.forwardTrain(b);
        Object.values(losses).reduce((s, l) => s.add(l)).backward();
      });
      opt.step();
      opt.zeroGrad();
      enh.eval();
      const p2 = tidy(() => new CatSegPredictor(enh, opts).probabilities(image, CLASSES));
      assert.ok(maxDiff(p0, p2) > 1e-5, 'one optimizer step changed nothing');
      base.dispose(); enh.dispose();
    });
  }

  // Wrong here: some new parameter is disconnected from the total loss (it would never learn), a
  // component's loss is missing from the named losses, or a loss is not finite.
  it('all three: every component parameter gets a finite non-zero gradient; each adds its loss', () => {
    manualSeed(2);
    const enh = model({ hem: HEM, msfpn: FPN, dchsp: DCHSP }).train();
    const params = enh.trainableParameters();
    const opt = new AdamW(params.map(([, p]) => p), { lr: 1e-2, weightDecay: 0 });
    const step = (seed: number): Record<string, number> => tidy(() => {
      const { losses } = enh.forwardTrain(batch(seed));
      const values = Object.fromEntries(Object.entries(losses).map(([k, v]) => [k, v.item()]));
      Object.values(losses).reduce((s, l) => s.add(l)).backward();
      return values;
    });
    // Zero-initialised gates and up-projections block the gradient of what lies behind them
    // until they move: one step first, then every parameter must be reached.
    step(3);
    opt.step();
    opt.zeroGrad();
    const losses = step(4);
    assert.deepEqual(Object.keys(losses).sort(), ['loss_boundary', 'loss_contrastive', 'loss_energy', 'loss_sem_seg']);
    for (const [k, v] of Object.entries(losses)) assert.ok(Number.isFinite(v), `${k} = ${v}`);
    const prefixes = ['sem_seg_head.predictor.hem.', 'sem_seg_head.predictor.ms_fpn.', 'sem_seg_head.predictor.dc_hsp.'];
    const component = params.filter(([n]) => prefixes.some((p) => n.startsWith(p)));
    for (const p of prefixes) assert.ok(component.some(([n]) => n.startsWith(p)), `no trainable parameter under ${p}`);
    for (const [n, p] of component) {
      const g = p.grad;
      assert.ok(g && g.isfinite().all().item() && g.norm().item() > 0, `${n}: gradient ${g ? 'zero or not finite' : 'missing'}`);
    }
    opt.zeroGrad();
    enh.dispose();
  });

  // Wrong here: a saved enhanced model predicts differently after loading (a component's state is
  // not saved), or a baseline checkpoint cannot be loaded into the enhanced model.
  it('checkpoints: enhanced round trip is exact; a baseline checkpoint loads with only the components missing', () => {
    manualSeed(5);
    const enh = model({ hem: HEM, msfpn: FPN, dchsp: DCHSP }).train();
    const opt = new AdamW(enh.trainableParameters().map(([, p]) => p), { lr: 1e-2, weightDecay: 0 });
    tidy(() => Object.values(enh.forwardTrain(batch(6)).losses).reduce((s, l) => s.add(l)).backward());
    opt.step();
    enh.eval();
    const file = join(dir, 'enhanced.safetensors');
    saveTensors(file, enh.stateDict());
    const again = model({ hem: HEM, msfpn: FPN, dchsp: DCHSP }).eval();
    const r = loadCatSegCheckpoint(again, file);
    assert.deepEqual(r.missing, []);
    const image = randint(0, 256, [3, 64, 72], 'uint8');
    const opts = { protocol: 'sliding' as const, slidingResolution: [106, 106] as [number, number] };
    const [a, b] = tidy(() => [new CatSegPredictor(enh, opts).probabilities(image, CLASSES), new CatSegPredictor(again, opts).probabilities(image, CLASSES)]);
    assert.equal(maxDiff(a, b), 0, 'reloaded enhanced model predicts differently');

    // A trained baseline (non-zero OFT generators): MH-FPN and DC-HSP keep its predictions exactly.
    manualSeed(8);
    const base = model().train();
    noGrad(() => tidy(() => { base.oft!.attn_q_proj_oft_layer_R.add_(rand(base.oft!.attn_q_proj_oft_layer_R.shape).sub(0.5).mul(0.05)); }));
    base.eval();
    const baseFile = join(dir, 'baseline.safetensors');
    saveTensors(baseFile, base.stateDict());
    const enh2 = model({ msfpn: FPN, dchsp: DCHSP }).eval();
    const r2 = loadCatSegCheckpoint(enh2, baseFile);
    assert.ok(r2.missing.length > 0 && r2.missing.every((k) => /^sem_seg_head\.predictor\.(ms_fpn|dc_hsp)\./.test(k)), `missing: ${r2.missing.join(', ')}`);
    assert.match(r2.text, /identity initialisation/);
    const [c, d] = tidy(() => [new CatSegPredictor(base, opts).probabilities(image, CLASSES), new CatSegPredictor(enh2, opts).probabilities(image, CLASSES)]);
    assert.ok(maxDiff(c, d) <= 1e-6, `baseline checkpoint predicts differently in the enhanced model: ${maxDiff(c, d)}`);
    for (const m of [enh, again, base, enh2]) m.dispose();
  });
});
