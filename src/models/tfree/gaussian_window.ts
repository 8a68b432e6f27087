// NACLIP's neighbourhood prior Omega (clip/model.py `gaussian_window` + `get_attention_addition`):
// an additive attention bias that makes every patch attend to the patches around it. For patches
// (r, c) and (r', c') of a gh x gw grid (row-major) it is exp(-((r - r')^2 + (c - c')^2) / (2 std^2));
// the CLS row and column are 0. The reference builds it by convolving one-hot maps with a
// (2gh - 1) x (2gw - 1) Gaussian, which gives exactly these values.
import { AhsError } from '../../errors.js';
import { tensor, type Device, type Tensor } from '../../tensor/index.js';

/** Omega [1 + gh*gw, 1 + gh*gw] (float32). */
export function gaussianAttentionAddition(gh: number, gw: number, std: number, device: Device = 'cpu'): Tensor {
  if (!(std > 0)) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `NACLIP: gaussian std must be > 0, got ${std}`);
  const n = gh * gw;
  const L = n + 1;
  const v = new Float32Array(L * L);
  const denom = 2 * std * std;
  for (let p = 0; p < n; p++) {
    const r = Math.floor(p / gw), c = p % gw;
    for (let q = 0; q < n; q++) {
      const r2 = Math.floor(q / gw), c2 = q % gw;
      v[(p + 1) * L + q + 1] = Math.exp(-((r - r2) ** 2 + (c - c2) ** 2) / denom);
    }
  }
  return tensor(v, { shape: [L, L], device });
}
