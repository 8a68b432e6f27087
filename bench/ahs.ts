// `npm run bench -- ahs`: what each AHS-Seg component costs on its own at ViT-B/16 sizes (384 px,
// 24x24 grid, 171 classes, batch 1), forward + backward, median of 5 after a warm-up, next to
// the H-CLIP OFT transforms it modulates. A whole training step varies by more than these costs
// between processes on a small machine (`bench -- train` has the step-level rows).
import { MultiScaleFpn } from '../src/models/ahs/mh_fpn.js';
import { MultiScaleCost } from '../src/models/ahs/multi_scale_cost.js';
import { ClassAwareProjection } from '../src/models/ahs/dc_hsp.js';
import { GeodesicStrength } from '../src/models/ahs/ha_hem.js';
import { boundaryLoss } from '../src/models/ahs/boundary_loss.js';
import { prototypeContrastiveLoss } from '../src/models/ahs/prototype_contrastive_loss.js';
import { OftRelation } from '../src/models/clip/finetune/oft_relation.js';
import { l2Normalize } from '../src/models/catseg/cost_volume.js';
import { manualSeed, noGrad, numThreads, rand, randint, randn, tidy, type Tensor } from '../src/index.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function time(fn: () => Tensor): number {
  const ts: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t = performance.now();
    tidy(() => fn().backward());
    if (i > 0) ts.push(performance.now() - t);
  }
  return median(ts) / 1000;
}

export async function benchAhs(): Promise<void> {
  manualSeed(0);
  const T = 171, out = (l: string) => process.stdout.write(l + '\n');
  out(`AHS-Seg components alone: ViT-B/16 sizes, 24x24 grid, ${T} classes, batch 1, ${numThreads()} threads; seconds for forward + backward, median of 5`);
  const levels = [0, 1, 2].map(() => randn([1, 577, 768]).requiresGrad_(true));
  const res3 = randn([1, 512, 24, 24]).requiresGrad_(true);
  const fpn = new MultiScaleFpn({ width: 768, dim: 512, levels: 3, grid: [24, 24] });
  noGrad(() => fpn.gate.fill_(0.1));
  const cost = new MultiScaleCost({ levels: 3, promptChannels: 1, hiddenDim: 128 });
  const corr = rand([1, 3, T, 24, 24]);
  const text = l2Normalize(randn([T, 1, 512]), -1).requiresGrad_(true);
  const dchsp = new ClassAwareProjection({ dim: 512, mode: 'gate' });
  const logits = randn([1, T, 96, 96]).requiresGrad_(true);
  const labels = randint(0, T, [1, 384, 384]);
  const feats = l2Normalize(randn([1, 512, 24, 24]), 1).requiresGrad_(true);
  const oft = new OftRelation({ textWidth: 512, visionWidth: 768, textLayers: 12, visionLayers: 12 });
  const hem = new GeodesicStrength({ layers: 12, visionOrtho: false });
  const oftHem = new OftRelation({ textWidth: 512, visionWidth: 768, textLayers: 12, visionLayers: 12, transform: hem });
  noGrad(() => { for (const o of [oft, oftHem]) o.attn_q_proj_oft_layer_R.add_(randn(o.attn_q_proj_oft_layer_R.shape).mul(0.01)); });
  const allTransforms = (o: OftRelation) => tidy(() => {
    let s: Tensor | null = null;
    for (const tower of ['text', 'vision'] as const) for (let l = 0; l < 12; l++) { const r = o.transforms(tower, l).sum(); s = s ? s.add(r) : r; }
    return s!;
  });
  const rows: [string, number][] = [
    ['H-CLIP: all 96 OFT transforms (baseline, for scale)', time(() => allTransforms(oft))],
    ['HA-HEM: the same transforms, strength-modulated', time(() => allTransforms(oftHem))],
    ['HA-HEM: loss_energy', time(() => hem.energyLoss(oftHem))],
    ['MH-FPN guidance: 3-level pyramid + gate', time(() => fpn.guide(res3, levels).sum())],
    ['MH-FPN cost: 3 extra cost volumes embedded', time(() => cost.embed(corr.requiresGrad_(true)).sum())],
    ['MH-FPN: loss_boundary (weighted BCE at 384x384)', time(() => boundaryLoss(logits, labels, { ignoreValue: 255 }))],
    ['DC-HSP: class-aware projection of 171 classes', time(() => dchsp.forward(text).sum())],
    ['DC-HSP: loss_contrastive', time(() => prototypeContrastiveLoss(feats, labels, dchsp.forward(text), { ignoreValue: 255 }))],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) out(`  ${k.padEnd(w)}  ${v.toFixed(3)} s`);
}
