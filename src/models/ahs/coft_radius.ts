// HA-HEM `coft` mode (method-spec §5.1): a per-layer COFT radius instead of a learned strength.
// COFT (Qiu et al., Zeju1997/oft `project_batch`) bounds every generator block, ||S_j||_F <= ε,
// which bounds the deviation ||R - I||; here the radius grows with depth,
// ε_ℓ = (ε0_min + (ε0_max - ε0_min) ℓ / (L - 1)) b², ε0 from 1e-5 (shallow, strongest constraint)
// to 6e-5 (deep), the range of ε0 the OFT code uses, times the block area b² as there.
//
// Where the projection happens [our choice]: COFT projects its parameter Q after each optimizer
// step. H-CLIP's generators are not parameters: each one mixes the shared tensor through two
// learned relations, so no parameter update can bound every generator exactly. The projection is
// therefore applied to the skew generator on its way into Cayley, S <- S · min(1, ε / ||S||_F),
// which gives the same transforms COFT's projected Q would, holds at every step and in inference,
// and folds into the weights in eval mode like the other modes.
import { AhsError } from '../../errors.js';
import { tidy, type Tensor } from '../../tensor/index.js';
import { cayley } from '../clip/finetune/cayley.js';
import type { OftTower } from '../clip/finetune/oft_relation.js';
import { HemTransform, type HaHemOptions } from './ha_hem.js';

export interface CoftRadiusOptions extends HaHemOptions {
  /** Generator block side b (H-CLIP: 128). */
  blockSize: number;
  /** ε0 at the first and the last layer (default 1e-5, 6e-5). */
  eps0?: [number, number];
}

export class CoftRadius extends HemTransform {
  /** ε_ℓ per layer (Frobenius radius of every skew generator block). */
  readonly radii: number[];

  constructor(opts: CoftRadiusOptions) {
    super(opts);
    const [lo, hi] = opts.eps0 ?? [1e-5, 6e-5];
    if (!(lo > 0 && hi >= lo)) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `HA-HEM coft: need 0 < eps0 first <= last, got ${lo}, ${hi}`);
    const b2 = opts.blockSize * opts.blockSize;
    const L = this.layers;
    this.radii = Array.from({ length: L }, (_, l) => (lo + ((hi - lo) * l) / Math.max(L - 1, 1)) * b2);
  }

  protected modulate(_tower: OftTower, layer: number, a: Tensor): Tensor {
    return tidy(() => {
      const s = a.sub(a.transpose(-2, -1)).mul(0.5); // (4, r, b, b) skew
      const eps = this.radii[layer]!;
      // min(1, ε / ||S||) as ε / max(||S||, ε): no division by a zero norm (text generators start at 0).
      const factor = s.norm(2, [-2, -1], true).clamp(eps).reciprocal().mul(eps); // (4, r, 1, 1)
      return cayley(s.mul(factor));
    });
  }
}
