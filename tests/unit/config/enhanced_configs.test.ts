// configs/vitb_384_enhanced.yaml, vitl_336_enhanced.yaml and configs/ablations/: they load, build
// the components they name (and only those), weight each component's loss with the recipe's
// value, and keep the rest of the enhanced recipe (H-CLIP oft_both, clipping 1.0).
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../src/config/index.js';
import { ahsComponentsFromConfig, catsegLossWeights, clipSpecFromConfig } from '../../../src/models/catseg/build.js';

const configs = fileURLToPath(new URL('../../../configs/', import.meta.url));
const components = (name: string) => {
  const cfg = loadConfig(join(configs, name));
  const ahs = ahsComponentsFromConfig(cfg, clipSpecFromConfig(cfg));
  return { cfg, ahs, weights: catsegLossWeights(cfg, ahs) };
};

test('vitb_384_enhanced.yaml: all three components, the original recipe otherwise', () => {
  // Fails if a switch, a loss weight or the enhanced recipe's clipping/OFT setting is lost.
  const { cfg, ahs, weights } = components('vitb_384_enhanced.yaml');
  assert.deepEqual(ahs, {
    hem: { mode: 'geodesic', visionOrtho: false },
    msfpn: { target: 'guidance', layers: [3, 7, 11], boundary: 'weighted_bce' },
    dchsp: { mode: 'gate' },
  });
  assert.deepEqual(weights, { loss_sem_seg: 1, loss_energy: 0.01, loss_boundary: 0.1, loss_contrastive: 0.05 });
  assert.equal(cfg.MODEL.META_ARCHITECTURE, 'EnhancedCATSeg');
  assert.equal(cfg.MODEL.SEM_SEG_HEAD.CLIP_FINETUNE, 'oft_both');
  assert.equal(cfg.MODEL.AHS.VISION_ATTN_BIAS_TRAINABLE, true);
  assert.equal(cfg.SOLVER.CLIP_GRADIENTS.CLIP_VALUE, 1.0);
  assert.equal(cfg.MODEL.SEM_SEG_HEAD.NUM_LAYERS, 2);
});

test('vitl_336_enhanced.yaml: ViT-L layers 7, 15, 23 and CAT-Seg\'s ViT-L head', () => {
  // Fails if the ViT-L file reuses ViT-B's layer indices or the original's unrunnable head widths.
  const { cfg, ahs } = components('vitl_336_enhanced.yaml');
  assert.deepEqual(ahs.msfpn?.layers, [7, 15, 23]);
  assert.ok(ahs.hem && ahs.dchsp);
  assert.equal(cfg.MODEL.SEM_SEG_HEAD.APPEARANCE_GUIDANCE_DIM, 768);
  assert.equal(cfg.SOLVER.IMS_PER_BATCH, 2);
});

test('configs/ablations: the eight subsets of the three components, nothing else differs', () => {
  // Fails if an ablation file is missing, duplicates another subset, or changes more than the switches.
  const files = readdirSync(join(configs, 'ablations')).filter((f) => f.endsWith('.yaml')).sort();
  assert.equal(files.length, 8);
  const seen = new Set<string>();
  const base = loadConfig(join(configs, 'vitb_384_enhanced.yaml')).toObject() as Record<string, unknown>;
  for (const f of files) {
    const { cfg, ahs } = components(join('ablations', f));
    const key = ['hem', 'msfpn', 'dchsp'].filter((k) => ahs[k as keyof typeof ahs]).join('+') || 'none';
    assert.ok(!seen.has(key), `${f} repeats the subset ${key}`);
    seen.add(key);
    const o = cfg.toObject() as { MODEL: { SEM_SEG_HEAD: Record<string, unknown> } };
    for (const s of ['USE_ADAPTIVE_ENERGY', 'USE_MULTI_SCALE_FUSION', 'USE_CLASS_AWARE_PROJECTION']) delete o.MODEL.SEM_SEG_HEAD[s];
    const b = structuredClone(base) as typeof o;
    for (const s of ['USE_ADAPTIVE_ENERGY', 'USE_MULTI_SCALE_FUSION', 'USE_CLASS_AWARE_PROJECTION']) delete b.MODEL.SEM_SEG_HEAD[s];
    assert.deepEqual(o, b, `${f} differs from vitb_384_enhanced.yaml beyond the three switches`);
  }
  assert.equal(seen.size, 8);
});
