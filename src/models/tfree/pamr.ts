// PAMR, pixel-adaptive mask refinement (Araslanov & Roth, CVPR'20; visinf/1-stage-wseg
// models/mods/pamr.py, copied as pamr.py into NACLIP and SCLIP). Class scores are repeatedly
// replaced by an affinity-weighted average of their neighbours, the affinities coming from the
// guide image, so that the scores follow the image's edges:
//  - for each dilation d the 8 neighbours at (-d,-d), (-d,0), (-d,d), (0,-d), (0,d), (d,-d),
//    (d,0), (d,d), replicate padding, all dilations concatenated in that order;
//  - per guide channel, sigma = unbiased std over the 9 values of each dilation's 3 x 3
//    neighbourhood (centre included), all dilations together;
//  - affinity = softmax over neighbours of the channel mean of -|x - x_nb| / (1e-8 + 0.1 sigma);
//  - `steps` times: mask <- sum over neighbours of affinity x the neighbour's mask value.
// It works on any per-class score map; the reference first resizes the scores to the guide's size
// with align_corners=True (the identity when they already have it).
import { AhsError, fmtShape } from '../../errors.js';
import { interpolate, noGrad, pad, stack, tidy, zerosLike, type Tensor } from '../../tensor/index.js';

export interface PamrOptions {
  /** Refinement steps (NACLIP: 10). */
  steps: number;
  /** Neighbourhood dilations (NACLIP: 8 and 16). */
  dilations: readonly number[];
}

/** The 8 neighbour offsets of one dilation, in the reference's kernel order. */
function offsets(d: number): [number, number][] {
  return [[-d, -d], [-d, 0], [-d, d], [0, -d], [0, d], [d, -d], [d, 0], [d, d]];
}

export class Pamr {
  readonly steps: number;
  readonly dilations: readonly number[];
  constructor(opts: PamrOptions) {
    if (!Number.isInteger(opts.steps) || opts.steps < 1) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `PAMR: steps must be a positive integer, got ${opts.steps}`);
    if (opts.dilations.length === 0 || opts.dilations.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `PAMR: dilations must be positive integers, got [${opts.dilations.join(', ')}]`);
    }
    this.steps = opts.steps;
    this.dilations = [...opts.dilations];
  }

  /** Each neighbour's values of x [N, H, W] (replicate padding), neighbours in order: [N, P, H, W]. */
  private neighbours(x: Tensor, withCentre: boolean): Tensor {
    const [H, W] = [x.size(1), x.size(2)];
    return tidy(() => {
      const all: Tensor[] = [];
      for (const d of this.dilations) {
        const padded = pad(x.unsqueeze(0), [d, d, d, d], 'replicate').squeeze(0); // (N, H + 2d, W + 2d)
        const offs = offsets(d);
        if (withCentre) offs.splice(4, 0, [0, 0]); // the 3 x 3 window, row-major
        for (const [dy, dx] of offs) all.push(padded.narrow(1, d + dy, H).narrow(2, d + dx, W));
      }
      return stack(all, 1);
    });
  }

  /** The neighbour weights [P, H, W] (softmax over P) of a guide image [K, H, W]. */
  affinity(guide: Tensor): Tensor {
    if (guide.rank !== 3) throw new AhsError('AHS_ERR_SHAPE', `PAMR: guide image must be [K, H, W], got ${fmtShape(guide.shape)}`);
    return noGrad(() => tidy(() => {
      const x = guide.float();
      const sigma = this.neighbours(x, true).std(1, 1, true); // (K, 1, H, W), unbiased
      const diff = this.neighbours(x, false).sub(x.unsqueeze(1)).abs(); // (K, P, H, W)
      const a = diff.neg().div(sigma.mul(0.1).add(1e-8)).mean(0); // (P, H, W)
      return a.softmax(0);
    }));
  }

  /** Refined scores [T, H, W] for scores [T, h, w] and a guide image [K, H, W]. */
  refine(guide: Tensor, scores: Tensor): Tensor {
    if (scores.rank !== 3) throw new AhsError('AHS_ERR_SHAPE', `PAMR: scores must be [T, H, W], got ${fmtShape(scores.shape)}`);
    const [H, W] = [guide.size(-2), guide.size(-1)];
    return noGrad(() => tidy(() => {
      const aff = this.affinity(guide); // (P, H, W)
      const mask = scores.size(1) === H && scores.size(2) === W ? scores.float()
        : interpolate(scores.float().unsqueeze(0), { size: [H, W], mode: 'bilinear', alignCorners: true }).squeeze(0);
      // Two buffers padded by the largest dilation: each step writes the other's interior and
      // refreshes its replicate border, so no step pads (a full copy) per dilation.
      const D = Math.max(...this.dilations);
      let cur = pad(mask.unsqueeze(0), [D, D, D, D], 'replicate').squeeze(0); // (T, H + 2D, W + 2D)
      let next = zerosLike(cur);
      const interior = (t: Tensor) => t.narrow(1, D, H).narrow(2, D, W);
      for (let s = 0; s < this.steps; s++) {
        // One neighbour at a time: [T, P, H, W] would not fit for 150 classes at full size.
        const out = interior(next).zero_();
        let p = 0;
        for (const d of this.dilations) {
          for (const [dy, dx] of offsets(d)) out.addcmul_(cur.narrow(1, D + dy, H).narrow(2, D + dx, W), aff.select(0, p++));
        }
        if (s < this.steps - 1) replicateBorder(next, D);
        [cur, next] = [next, cur];
      }
      return interior(cur).contiguous();
    }));
  }
}

/** Fills the D-wide border of x [T, H + 2D, W + 2D] from its interior, as replicate padding. */
function replicateBorder(x: Tensor, D: number): void {
  tidy(() => {
    const [H, W] = [x.size(1) - 2 * D, x.size(2) - 2 * D];
    const rows = x.narrow(1, D, H);
    rows.narrow(2, 0, D).copy_(rows.narrow(2, D, 1)); // left, broadcast over D columns
    rows.narrow(2, D + W, D).copy_(rows.narrow(2, D + W - 1, 1)); // right
    x.narrow(1, 0, D).copy_(x.narrow(1, D, 1)); // top, corners included
    x.narrow(1, D + H, D).copy_(x.narrow(1, D + H - 1, 1)); // bottom
  });
}
