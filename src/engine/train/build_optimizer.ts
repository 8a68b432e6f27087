// The optimizer of CAT-Seg's train_net.py (build_optimizer): one hyper-parameter set per trainable
// tensor, chosen by the module that owns it — lr x CLIP_MULTIPLIER inside CLIP (and on H-CLIP's
// orthogonal transforms, which the reference keeps inside CLIP's attention modules), weight decay
// WEIGHT_DECAY_NORM on normalisation layers and WEIGHT_DECAY_EMBED on nn.Embedding — plus the
// gradient clipping its config asks for. Tensors with equal settings share one group.
import type { AhsConfig } from '../../config/index.js';
import { AhsError } from '../../errors.js';
import { Embedding, GroupNorm, LayerNorm, type Module } from '../../nn/index.js';
import { AdamW, clipGradNorm, type ParamGroup } from '../../optim/index.js';
import { SGD } from '../../optim/sgd.js';
import { noGrad, type Tensor } from '../../tensor/index.js';

export type Optimizer = AdamW | SGD;

/** Applies the configured clipping to the gradients; returns the total norm when it computed one. */
export type GradClipper = (params: Tensor[]) => number | null;

/** Module path -> (lr multiplier, weight decay), detectron2's named_modules walk with a memo. */
export function paramGroups(model: Module, cfg: AhsConfig): ParamGroup[] {
  const s = cfg.SOLVER;
  const groups = new Map<string, Required<Pick<ParamGroup, 'params' | 'names'>> & { lrMultiplier: number; weightDecay: number }>();
  const seen = new Set<Tensor>();
  for (const [moduleName, module] of model.namedModules()) {
    for (const [pname, t] of module.namedParameters()) {
      if (pname.includes('.') || !t.requiresGrad || seen.has(t)) continue; // direct parameters only (recurse=False)
      seen.add(t);
      let lrMultiplier = 1;
      if (moduleName.includes('backbone')) lrMultiplier *= s.BACKBONE_MULTIPLIER;
      if (moduleName.includes('clip_model') || /(^|\.)oft(\.|$)/.test(moduleName)) lrMultiplier *= s.CLIP_MULTIPLIER;
      let weightDecay = s.WEIGHT_DECAY;
      if (pname.includes('relative_position_bias_table') || pname.includes('absolute_pos_embed')) weightDecay = 0;
      if (module instanceof LayerNorm || module instanceof GroupNorm) weightDecay = s.WEIGHT_DECAY_NORM;
      if (module instanceof Embedding) weightDecay = s.WEIGHT_DECAY_EMBED;
      const key = `${lrMultiplier}/${weightDecay}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { params: [], names: [], lrMultiplier, weightDecay }));
      g.params.push(t);
      g.names.push(moduleName ? `${moduleName}.${pname}` : pname);
    }
  }
  if (groups.size === 0) throw new AhsError('AHS_ERR_CONFIG_VALUE', 'the model has no trainable parameters (check MODEL.SEM_SEG_HEAD.CLIP_FINETUNE and the head config)');
  return [...groups.values()];
}

export function buildOptimizer(model: Module, cfg: AhsConfig): Optimizer {
  const s = cfg.SOLVER;
  const groups = paramGroups(model, cfg);
  if (s.OPTIMIZER === 'SGD') return new SGD(groups, { lr: s.BASE_LR, momentum: s.MOMENTUM, nesterov: s.NESTEROV });
  return new AdamW(groups, { lr: s.BASE_LR }); // torch defaults: betas (0.9, 0.999), eps 1e-8
}

/** SOLVER.CLIP_GRADIENTS: full_model (one norm over everything, CAT-Seg's default), norm (per
 * tensor) or value (per element), as detectron2's maybe_add_gradient_clipping. */
export function buildGradClipper(cfg: AhsConfig): GradClipper {
  const c = cfg.SOLVER.CLIP_GRADIENTS;
  if (!c.ENABLED) return () => null;
  if (!(c.CLIP_VALUE > 0)) throw new AhsError('AHS_ERR_CONFIG_VALUE', `SOLVER.CLIP_GRADIENTS.CLIP_VALUE must be positive, got ${c.CLIP_VALUE}`);
  if (c.CLIP_TYPE === 'full_model') return (params) => clipGradNorm(params, c.CLIP_VALUE, c.NORM_TYPE);
  if (c.CLIP_TYPE === 'norm') return (params) => { for (const p of params) clipGradNorm([p], c.CLIP_VALUE, c.NORM_TYPE); return null; };
  return (params) => {
    noGrad(() => {
      for (const p of params) {
        const g = p.grad;
        if (g) { g.clamp_(-c.CLIP_VALUE, c.CLIP_VALUE); g.dispose(); }
      }
    });
    return null;
  };
}
