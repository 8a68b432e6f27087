// HA-HEM, hierarchical adaptive hyperspherical energy modulation (AHS-Seg; method-spec §4.2 for
// what the original code does, §5.1 for what is implemented here). It is a rule that turns H-CLIP's
// generators into transforms (an OftTransform for OftRelation), plus the regulariser `loss_energy`.
//
// The default, `geodesic`: for layer ℓ of a modulated tower, s_ℓ = sigmoid(a_ℓ) · β_tower scales
// the skew generator inside the Cayley transform, R_ℓ = Cayley(s_ℓ · S). Cayley(sS) is orthogonal
// for every s, so the hyperspherical energy of every neuron set is preserved exactly and only the
// amount of rotation is modulated (s = 0: R = I, fully constrained; s = 1: plain OFT). One a_ℓ per
// layer, shared by q/k/v/o and both towers (as OftRelation shares its modality relation M_ℓ),
// initialised on a depth prior so that shallow layers start more constrained than deep ones:
// a_ℓ = logit(0.1 + 0.8 ℓ / (L - 1)). loss_energy = Σ_ℓ w_ℓ ||R_ℓ - I||_F² / d over the four
// matrices, w_ℓ from 1.0 (shallow) down to 0.3 (deep), d the tower's width: a deviation-from-
// pretrained penalty that, unlike the original's ||RᵀR - I||, is not zero by construction.
//
// Modulated towers: text always; vision only with visionOrtho (MODEL.AHS.VISION_ORTHO), where its
// generators go through Cayley as in the AHS code; otherwise vision keeps H-CLIP's free R = A,
// unmodulated (a free R has no rotation angle to scale).
//
// The strengths live outside the OFT module (state-dict `sem_seg_head.predictor.hem.*`), so they
// train at the base learning rate: under CLIP's 0.01 multiplier a logit could move by about 0.16
// over the whole 80k-iteration schedule, which would make "adaptive" meaningless.
import { AhsError } from '../../errors.js';
import { Module } from '../../nn/index.js';
import { eye, tensor, tidy, zeros, type Tensor } from '../../tensor/index.js';
import { cayley } from '../clip/finetune/cayley.js';
import type { OftRelation, OftTower, OftTransform } from '../clip/finetune/oft_relation.js';

export type HemMode = 'geodesic' | 'coft' | 'readme_convex';

export interface HaHemOptions {
  /** Layers of the OFT relations (max of the towers' depths). */
  layers: number;
  /** Vision generators through Cayley and modulated too (AHS); false keeps H-CLIP's free vision R. */
  visionOrtho: boolean;
  /** β per tower, fixed (the AHS code: text 0.7, vision 1.0). */
  textBeta?: number;
  visionBeta?: number;
}

/** The inverse of the sigmoid (the strengths' initial logits). */
export const logit = (p: number): number => Math.log(p / (1 - p));

/** w_ℓ = linspace(1.0, 0.3, L): the AHS depth weights of the regulariser. */
export function depthWeights(layers: number): number[] {
  return Array.from({ length: layers }, (_, l) => (layers === 1 ? 1 : 1 - (0.7 * l) / (layers - 1)));
}

/** The part every HA-HEM mode shares: which towers are modulated, and the deviation penalty. */
export abstract class HemTransform extends Module implements OftTransform {
  readonly layers: number;
  readonly visionOrtho: boolean;
  readonly beta: Record<OftTower, number>;

  constructor(opts: HaHemOptions) {
    super();
    if (!Number.isInteger(opts.layers) || opts.layers < 1) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `HA-HEM: layers must be a positive integer, got ${opts.layers}`);
    this.layers = opts.layers;
    this.visionOrtho = opts.visionOrtho;
    this.beta = { text: opts.textBeta ?? 0.7, vision: opts.visionBeta ?? 1.0 };
  }

  modulated(tower: OftTower): boolean {
    return tower === 'text' || this.visionOrtho;
  }

  /** R for a modulated tower's generators A [4, r, b, b]. */
  protected abstract modulate(tower: OftTower, layer: number, a: Tensor): Tensor;

  apply(tower: OftTower, layer: number, a: Tensor): Tensor {
    return this.modulated(tower) ? this.modulate(tower, layer, a) : a;
  }

  /** Σ over the modulated towers' layers of w_ℓ · term(R_ℓ), R_ℓ the applied transforms [4, r, b, b]. */
  protected depthWeightedSum(oft: OftRelation, term: (r: Tensor, tower: OftTower) => Tensor): Tensor {
    return tidy(() => {
      const w = depthWeights(this.layers);
      let total: Tensor | null = null;
      for (const tower of ['text', 'vision'] as const) {
        if (!this.modulated(tower)) continue;
        for (let l = 0; l < oft.layers(tower); l++) {
          const t = term(oft.transforms(tower, l), tower).mul(w[l]!);
          total = total ? total.add(t) : t;
        }
      }
      return total ?? zeros([], 'float32', oft.attn_q_proj_oft_layer_R.device); // text is always modulated: not reached
    });
  }

  /** loss_energy (unweighted): Σ over modulated towers and layers of w_ℓ ||R_ℓ - I||_F² / d. */
  energyLoss(oft: OftRelation): Tensor {
    return this.depthWeightedSum(oft, (r, tower) => r.sub(eye(oft.blockSize, r.dtype, r.device)).pow(2).sum().div(oft.blocks(tower) * oft.blockSize));
  }
}

/** The default mode: R = Cayley(s_ℓ · S), s_ℓ = sigmoid(a_ℓ) · β. */
export class GeodesicStrength extends HemTransform {
  /** a_ℓ, [L]. */
  readonly layer_logits: Tensor;

  constructor(opts: HaHemOptions) {
    super(opts);
    const L = this.layers;
    this.layer_logits = this.param('layer_logits', tensor(Array.from({ length: L }, (_, l) => logit(0.1 + (0.8 * l) / Math.max(L - 1, 1)))));
  }

  /** s_ℓ for a tower, a 0-d tensor (differentiable in a_ℓ). */
  strength(tower: OftTower, layer: number): Tensor {
    return tidy(() => this.layer_logits.select(0, layer).sigmoid().mul(this.beta[tower]));
  }

  protected modulate(tower: OftTower, layer: number, a: Tensor): Tensor {
    return tidy(() => cayley(a.mul(this.strength(tower, layer))));
  }
}
