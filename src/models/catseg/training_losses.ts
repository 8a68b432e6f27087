// The named losses of one CATSeg training step (the training contract's `losses`): CAT-Seg's
// loss_sem_seg, plus one term per AHS-Seg component the model has: loss_energy (HA-HEM),
// loss_boundary (MH-FPN), loss_contrastive (DC-HSP). Unweighted; the builder reads the weights.
import { cat, tidy, type Tensor } from '../../tensor/index.js';
import { boundaryLossPart } from '../ahs/boundary_loss.js';
import { prototypeContrastiveLoss } from '../ahs/prototype_contrastive_loss.js';
import { sobelBoundaryLoss } from '../ahs/sobel_boundary_loss.js';
import type { CATSeg } from './catseg_model.js';
import type { ClassStages } from './class_stages.js';
import { l2Normalize } from './cost_volume.js';
import { tokensToGrid } from './guidance_upsampler.js';
import { catSegLoss, catSegLossPart } from './loss.js';

/** What one forward over CLIP views gives the losses. */
export interface ViewOutputs {
  /** (B, T, 4g, 4g) */
  logits: Tensor;
  /** Dense CLIP tokens (B, 1 + g*g, D), CLS first. */
  tokens: Tensor;
  /** The class embeddings the cost volume used (T, P, D): DC-HSP's t', else the text as given. */
  classText: Tensor;
}

/** labels (B, H, W) as the batch gives them; gridLabels the same padded like the image was
 * (ignore in the padding), i.e. covering the feature grid's field of view. */
export function trainingLosses(model: CATSeg, out: ViewOutputs, target: { labels: Tensor; gridLabels: Tensor }, stages: ClassStages | null): Record<string, Tensor> {
  const { labels, gridLabels } = target;
  return tidy(() => {
    const o = model.opts;
    const T = out.logits.size(1);
    const ignoreValue = o.ignoreValue ?? 255;
    const lossOpts = { ignoreValue, mode: o.lossIgnoreMode ?? 'zero_target' as const };
    const boundary = o.ahs?.msfpn?.boundary ?? null;
    const losses: Record<string, Tensor> = {};
    if (stages) {
      // With checkpointing the label-size losses are one more per-class stage: (B, T, H, W) at
      // label size never exists for all classes at once. Each chunk gives [sem, boundary?].
      const withBoundary = boundary === 'weighted_bce';
      const parts = stages.map(out.logits, 1, 0, (lc, start) => {
        const sem = catSegLossPart(lc, labels, { ...lossOpts, classStart: start, numClasses: T }).reshape([1]);
        if (!withBoundary) return sem;
        const b = boundaryLossPart(lc, labels, { ignoreValue, classStart: start, numClasses: T }).reshape([1]);
        return cat([sem, b], 0);
      });
      const sums = parts.view([-1, withBoundary ? 2 : 1]).sum(0); // (1 or 2)
      losses.loss_sem_seg = sums.select(0, 0);
      if (withBoundary) losses.loss_boundary = sums.select(0, 1);
    } else {
      losses.loss_sem_seg = catSegLoss(out.logits, labels, lossOpts);
      if (boundary === 'weighted_bce') losses.loss_boundary = boundaryLossPart(out.logits, labels, { ignoreValue, classStart: 0, numClasses: T });
    }
    if (boundary === 'sobel_ahs') losses.loss_boundary = sobelBoundaryLoss(out.logits, labels, { ignoreValue });
    if (model.hem && model.oft) losses.loss_energy = model.hem.energyLoss(model.oft);
    if (model.dcHsp) {
      // Under checkpointing the loss reaches CLIP's graph through boundaries like every stage, so
      // that graph is back-propagated once, with all its gradients, at the end of the tape.
      const cut = (t: Tensor) => (stages ? stages.boundary(t) : t);
      const patches = l2Normalize(tokensToGrid(cut(out.tokens), o.aggregator.featureResolution), 1); // (B, D, gh, gw)
      losses.loss_contrastive = prototypeContrastiveLoss(patches, gridLabels, cut(out.classText), { ignoreValue });
    }
    return losses;
  });
}
