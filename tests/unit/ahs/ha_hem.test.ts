// HA-HEM (src/models/ahs/ha_hem.ts, coft_radius.ts, readme_convex.ts) on a small OftRelation: the
// Cayley modes stay exactly orthogonal under training, the strength really scales the rotation,
// the README formula is shown not to be orthogonal, the regulariser behaves, and the eval-mode
// folding notices a change of strength.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoftRadius } from '../../../src/models/ahs/coft_radius.js';
import { depthWeights, GeodesicStrength, type HemTransform } from '../../../src/models/ahs/ha_hem.js';
import { ReadmeConvex } from '../../../src/models/ahs/readme_convex.js';
import { OftRelation, type OftTower } from '../../../src/models/clip/finetune/oft_relation.js';
import { AdamW } from '../../../src/optim/index.js';
import { eye, manualSeed, noGrad, randn, tidy, type Tensor } from '../../../src/tensor/index.js';
import { noLeak } from '../../helpers/assert_close.js';

const LAYERS = 2, B = 4;

function relation(rule: HemTransform): OftRelation {
  return new OftRelation({ textWidth: 2 * B, visionWidth: 3 * B, textLayers: LAYERS, visionLayers: LAYERS, blockSize: B, transform: rule });
}

/** max over blocks of ||RᵀR - I||_F */
function orthoError(r: Tensor): number {
  return tidy(() => r.transpose(-2, -1).matmul(r).sub(eye(r.size(-1))).pow(2).sum([-2, -1]).sqrt().amax().item());
}

function deviation(r: Tensor): number {
  return tidy(() => r.sub(eye(r.size(-1))).pow(2).sum().sqrt().item());
}

function randomizeGenerators(oft: OftRelation, scale: number): void {
  noGrad(() => tidy(() => { oft.attn_q_proj_oft_layer_R.add_(randn(oft.attn_q_proj_oft_layer_R.shape).mul(scale)); }));
}

const towers: OftTower[] = ['text', 'vision'];

describe('HA-HEM transform rules', () => {
  for (const [name, make] of [
    ['geodesic', (v: boolean) => new GeodesicStrength({ layers: LAYERS, visionOrtho: v })],
    ['coft', (v: boolean) => new CoftRadius({ layers: LAYERS, visionOrtho: v, blockSize: B, eps0: [0.02, 0.08] })],
  ] as const) {
    // Wrong here: a mode that claims to keep the hyperspherical energy produces non-orthogonal
    // transforms once training moves the generators and strengths.
    it(`${name}: every modulated transform stays orthogonal (< 1e-5) after 200 AdamW steps`, () => {
      manualSeed(11);
      const rule = make(true);
      const oft = relation(rule);
      const targets = towers.map(() => Array.from({ length: LAYERS }, () => randn([4, 3, B, B])));
      const opt = new AdamW([...oft.parameters(), ...rule.parameters()], { lr: 0.05, weightDecay: 0 });
      for (let step = 0; step < 200; step++) {
        tidy(() => {
          let loss: Tensor | null = null;
          towers.forEach((t, ti) => {
            for (let l = 0; l < LAYERS; l++) {
              const r = oft.transforms(t, l);
              const term = r.narrow(1, 0, oft.blocks(t)).mul(targets[ti]![l]!.narrow(1, 0, oft.blocks(t))).sum();
              loss = loss ? loss.add(term) : term;
            }
          });
          loss!.backward();
        });
        opt.step();
        opt.zeroGrad();
      }
      for (const t of towers) for (let l = 0; l < LAYERS; l++) {
        const r = oft.transforms(t, l);
        assert.ok(orthoError(r) < 1e-5, `${t} layer ${l}: ||RᵀR - I|| = ${orthoError(r)}`);
        assert.ok(deviation(r) > 1e-3, `${t} layer ${l} did not move: the test would prove nothing`);
        r.dispose();
      }
      for (const ts of targets) for (const x of ts) x.dispose();
      oft.dispose();
      rule.dispose();
    });
  }

  // Wrong here: the strength does not act on the rotation (a no-op HA-HEM), or acts non-monotonically.
  it('geodesic: ||R - I|| grows monotonically with s for a fixed generator; s = 0 gives I', () => noLeak(() => {
    manualSeed(5);
    const rule = new GeodesicStrength({ layers: LAYERS, visionOrtho: false });
    const oft = relation(rule);
    randomizeGenerators(oft, 0.3);
    let prev = -1;
    for (const a of [-30, -3, -1, 0, 1, 3, 30]) {
      noGrad(() => rule.layer_logits.fill_(a));
      const r = oft.transforms('text', 1);
      const dev = deviation(r);
      if (a === -30) assert.ok(dev < 1e-9, `s ≈ 0 must give R = I, got ||R - I|| = ${dev}`);
      assert.ok(dev > prev, `||R - I|| = ${dev} at a = ${a} is not above ${prev}`);
      prev = dev;
    }
    oft.dispose();
    rule.dispose();
  }));

  // Wrong here: the depth prior is missing (every layer equally constrained) or inverted.
  it('geodesic: shallow layers start more constrained than deep ones; text β 0.7, vision 1.0', () => noLeak(() => {
    const rule = new GeodesicStrength({ layers: 12, visionOrtho: true });
    const s = Array.from({ length: 12 }, (_, l) => rule.strength('vision', l).item());
    for (let l = 1; l < 12; l++) assert.ok(s[l]! > s[l - 1]!, `s_${l} = ${s[l]} not above s_${l - 1} = ${s[l - 1]}`);
    assert.ok(Math.abs(s[0]! - 0.1) < 1e-6 && Math.abs(s[11]! - 0.9) < 1e-6, `prior endpoints ${s[0]}, ${s[11]}`);
    assert.ok(Math.abs(rule.strength('text', 11).item() - 0.9 * 0.7) < 1e-6);
    depthWeights(3).forEach((w, i) => assert.ok(Math.abs(w - [1, 0.65, 0.3][i]!) < 1e-12, `w_${i} = ${w}`));
    rule.dispose();
  }));

  // Wrong here: VISION_ORTHO false still modulates (or Cayley-transforms) H-CLIP's free vision R.
  it('without vision orthogonality the vision transforms are H-CLIP\'s free R = A', () => noLeak(() => {
    const rule = new GeodesicStrength({ layers: LAYERS, visionOrtho: false });
    const oft = relation(rule);
    randomizeGenerators(oft, 0.3);
    const a = oft.generators('vision', 1), r = oft.transforms('vision', 1);
    assert.ok(r.equal(a), 'vision R must be the generator itself');
    oft.dispose();
    rule.dispose();
  }));

  // Wrong here: the coft radius is not enforced, so the constraint does nothing.
  it('coft: every skew generator block is projected into its layer radius (deeper = larger)', () => noLeak(() => {
    const rule = new CoftRadius({ layers: LAYERS, visionOrtho: true, blockSize: B, eps0: [0.01, 0.05] });
    assert.ok(rule.radii[0]! < rule.radii[LAYERS - 1]!);
    const oft = relation(rule);
    randomizeGenerators(oft, 2);
    for (const t of towers) for (let l = 0; l < LAYERS; l++) {
      const r = oft.transforms(t, l);
      // For a Cayley transform, ||R - I|| is bounded by a function of ||S||: small radius, small R - I.
      const s = tidy(() => { const a = oft.generators(t, l); return a.sub(a.transpose(-2, -1)).mul(0.5); });
      assert.ok(tidy(() => s.pow(2).sum([-2, -1]).sqrt().amax().item()) > rule.radii[l]!, 'generators too small to test the projection');
      assert.ok(deviation(r) <= 2.01 * rule.radii[l]! * Math.sqrt(4 * oft.blocks(t)), `${t} layer ${l}: ||R - I|| = ${deviation(r)} beyond the radius bound`);
      assert.ok(orthoError(r) < 1e-5);
    }
    oft.dispose();
    rule.dispose();
  }));

  // Wrong here: the fidelity mode silently became orthogonal (it would no longer be the README's formula).
  it('readme_convex is demonstrably NOT orthogonal: (1-s)I + sR contracts', () => noLeak(() => {
    manualSeed(2);
    const rule = new ReadmeConvex({ layers: LAYERS, visionOrtho: true });
    const oft = relation(rule);
    randomizeGenerators(oft, 1);
    const r = oft.transforms('text', 0);
    const err = orthoError(r);
    assert.ok(err > 1e-2, `readme_convex gave ||RᵀR - I|| = ${err}: it should not be orthogonal`);
    oft.dispose();
    rule.dispose();
  }));

  for (const [name, make] of [
    ['geodesic', () => new GeodesicStrength({ layers: LAYERS, visionOrtho: true })],
    ['readme_convex', () => new ReadmeConvex({ layers: LAYERS, visionOrtho: true })],
  ] as const) {
    // Wrong here: loss_energy is not zero at the pretrained point, not finite, or cannot be optimised.
    it(`${name}: loss_energy is 0 at init, positive once the generators move, and falls when optimised alone`, () => {
      manualSeed(9);
      const rule = make();
      const oft = relation(rule);
      const e0 = tidy(() => rule.energyLoss(oft).item());
      // readme_convex's Var(α) and Δα terms are 0 at its uniform init too.
      assert.ok(Math.abs(e0) < 1e-12, `energy at init ${e0}`);
      randomizeGenerators(oft, 0.2);
      const e1 = tidy(() => rule.energyLoss(oft).item());
      assert.ok(Number.isFinite(e1) && e1 > 0, `energy ${e1}`);
      const opt = new AdamW([...oft.parameters(), ...rule.parameters()], { lr: 0.01, weightDecay: 0 });
      for (let i = 0; i < 30; i++) {
        tidy(() => rule.energyLoss(oft).backward());
        opt.step();
        opt.zeroGrad();
      }
      const e2 = tidy(() => rule.energyLoss(oft).item());
      assert.ok(e2 < 0.7 * e1, `energy ${e1} -> ${e2} after 30 steps`);
      oft.dispose();
      rule.dispose();
    });
  }

  // Wrong here: eval-mode folding keeps serving weights made with an old strength.
  it('eval folding recomputes the weights when a strength changes', () => noLeak(() => {
    manualSeed(4);
    const rule = new GeodesicStrength({ layers: LAYERS, visionOrtho: false });
    const oft = relation(rule).eval();
    randomizeGenerators(oft, 0.3);
    const attn = { training: false, storedWeights: () => ({ q: eye(2 * B), k: eye(2 * B), v: eye(2 * B), out: eye(2 * B) }) } as never;
    const w1 = oft.weightsFor('text', 0, attn).q.clone();
    noGrad(() => rule.layer_logits.add_(2));
    const w2 = oft.weightsFor('text', 0, attn).q.clone();
    assert.ok(!w1.equal(w2), 'the folded weights did not follow the new strength');
    oft.dispose();
    rule.dispose();
  }));
});
