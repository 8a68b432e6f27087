// `ahs-seg train` with the full AHS-Seg configuration (H-CLIP oft_both + HA-HEM, MH-FPN and DC-HSP)
// on the synthetic shapes dataset: every loss term is logged to metrics.json and moves, and the
// run's checkpoint evaluates.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runTrain } from '../../src/engine/train/run_train.js';
import { trainingWorkspace } from '../helpers/training_workspace.js';
import { TINY_CLIP_128 } from '../helpers/tiny_catseg.js';

// 128-wide towers: H-CLIP's OFT blocks are 128 x 128.
const ws = trainingWorkspace('ahs-train-ahs-', { images: 4, clip: TINY_CLIP_128 });

describe('ahs-seg train, all three AHS-Seg components', () => {
  // Wrong here: a component's loss is not returned, not weighted, not logged, or constant (its
  // module disconnected from training), or the enhanced model cannot be trained end to end.
  it('logs loss_sem_seg, loss_energy, loss_boundary and loss_contrastive, and each one moves', async () => {
    const cfg = ws.configFor('full');
    const h = 'MODEL.SEM_SEG_HEAD.';
    await runTrain({
      configFile: cfg,
      overrides: [
        `${h}CLIP_FINETUNE`, 'oft_both', `${h}USE_ADAPTIVE_ENERGY`, 'True', `${h}USE_MULTI_SCALE_FUSION`, 'True', `${h}MS_LAYER_INDICES`, '[0, 1, 2]',
        `${h}USE_CLASS_AWARE_PROJECTION`, 'True', 'MODEL.AHS.VISION_ATTN_BIAS_TRAINABLE', 'True',
        'SOLVER.MAX_ITER', '8', 'SOLVER.CHECKPOINT_PERIOD', '0', 'TEST.EVAL_PERIOD', '8',
      ],
      log: () => {},
    });
    const lines = readFileSync(join(ws.dir, 'full', 'metrics.json'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, number>);
    const train = lines.filter((l) => l.total_loss !== undefined);
    assert.ok(train.length >= 8, `${train.length} training lines`);
    for (const k of ['loss_sem_seg', 'loss_energy', 'loss_boundary', 'loss_contrastive']) {
      const v = train.map((l) => l[k]);
      assert.ok(v.every((x) => typeof x === 'number' && Number.isFinite(x)), `${k}: ${v.join(', ')}`);
      assert.ok(new Set(v).size > 1, `${k} never changes: ${v[0]}`);
    }
    // HA-HEM's deviation penalty starts at 0 (the pretrained CLIP) and grows as OFT moves.
    assert.equal(train[0]!.loss_energy, 0);
    assert.ok(train.at(-1)!.loss_energy! > 0);
    assert.ok(lines.some((l) => l['sem_seg/mIoU'] !== undefined), 'no evaluation after training');
  });

  // Wrong here: the non-orthogonal fidelity mode trains without telling the user what it is.
  it('HEM_MODE readme_convex warns at build time that it is not orthogonal', async () => {
    const cfg = ws.configFor('readme');
    const logs: string[] = [];
    await runTrain({
      configFile: cfg,
      overrides: ['MODEL.SEM_SEG_HEAD.CLIP_FINETUNE', 'oft_both', 'MODEL.SEM_SEG_HEAD.USE_ADAPTIVE_ENERGY', 'True', 'MODEL.AHS.HEM_MODE', 'readme_convex',
        'SOLVER.MAX_ITER', '1', 'SOLVER.CHECKPOINT_PERIOD', '0'],
      log: (l) => logs.push(l),
    });
    assert.ok(logs.some((l) => l.startsWith('[warning]') && /NOT orthogonal/.test(l)), `no warning in: ${logs.slice(0, 5).join(' | ')}`);
  });
});
