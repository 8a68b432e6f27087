// HA-HEM `readme_convex` mode: the AHS-Seg README's formula as its code computes it (method-spec
// §4.2), kept for ablation and fidelity only. R_adapt = (1 - s) I + s Cayley(A), s = α_ℓ β_tower,
// α_ℓ = sigmoid(a_ℓ) initialised to 0.3 for every layer, β text 0.7 / vision 1.0; the energy loss
// Σ_ℓ w_ℓ Σ_{q,o} ||R_adaptᵀ R_adapt - I||_F² - 0.1 Var(α) + 0.05 mean((α_{ℓ+1} - α_ℓ)²) (only q
// and o, as the original caches). A convex combination of I and a rotation is NOT orthogonal: its
// singular values are |1 - s + s e^{iθ}| <= 1, so it contracts the attention weights, and the
// penalty then punishes exactly the non-orthogonality the formula creates. The builder warns.
//
// Differences from the original, which cannot run as written: one α per layer (the original gives
// every block its own 12 α's and reads one, so 11 of 12 are dead and Var(α) pushes the dead ones
// apart), and the towers follow MODEL.AHS.VISION_ORTHO (the original puts vision through Cayley
// too, i.e. VISION_ORTHO True).
import { eye, tensor, tidy, type Tensor } from '../../tensor/index.js';
import { cayley } from '../clip/finetune/cayley.js';
import type { OftRelation, OftTower } from '../clip/finetune/oft_relation.js';
import { HemTransform, logit, type HaHemOptions } from './ha_hem.js';

export class ReadmeConvex extends HemTransform {
  /** a_ℓ, [L] (α_ℓ = sigmoid(a_ℓ)). */
  readonly layer_logits: Tensor;

  constructor(opts: HaHemOptions) {
    super(opts);
    this.layer_logits = this.param('layer_logits', tensor(Array.from({ length: this.layers }, () => logit(0.3))));
  }

  protected modulate(tower: OftTower, layer: number, a: Tensor): Tensor {
    return tidy(() => {
      const s = this.layer_logits.select(0, layer).sigmoid().mul(this.beta[tower]);
      const i = eye(a.size(-1), a.dtype, a.device);
      return i.mul(s.rsub(1)).add(cayley(a).mul(s)); // (1 - s) I + s R
    });
  }

  override energyLoss(oft: OftRelation): Tensor {
    return tidy(() => {
      let total = this.depthWeightedSum(oft, (r) => {
        const qo = r.indexSelect(0, tensor([0, 3], { dtype: 'int64', device: r.device })); // q and o, as the original caches
        return qo.transpose(-2, -1).matmul(qo).sub(eye(oft.blockSize, r.dtype, r.device)).pow(2).sum();
      });
      const alpha = this.layer_logits.sigmoid();
      if (this.layers > 1) {
        const diff = alpha.narrow(0, 1, this.layers - 1).sub(alpha.narrow(0, 0, this.layers - 1));
        total = total.sub(alpha.variance(0).mul(0.1)).add(diff.pow(2).mean().mul(0.05));
      }
      return total;
    });
  }
}
