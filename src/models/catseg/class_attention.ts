// The attention of CAT-Seg's class aggregation (model.py: AttentionLayer, LinearAttention,
// FullAttention). q and k read the normalised tokens concatenated with the text guidance, v the
// tokens only; no output projection.
import { AhsError, check, fmtShape } from '../../errors.js';
import { Linear, Module } from '../../nn/index.js';
import { cat, tidy, type Tensor } from '../../tensor/index.js';

export type AttentionType = 'linear' | 'full';

/**
 * Linear attention of "Transformers are RNNs" with phi(x) = elu(x) + 1, as LinearAttention:
 * out = phi(Q) (phi(K)^T (V/S)) / (phi(Q) . sum_s phi(K_s) + eps) * S. V is divided by the sequence
 * length S before and multiplied after (the reference does it against fp16 overflow).
 * q (N, L, H, D), k (N, S, H, D), v (N, S, H, Dv) -> (N, L, H, Dv).
 */
export function linearAttention(q: Tensor, k: Tensor, v: Tensor, eps = 1e-6): Tensor {
  return tidy(() => {
    const S = v.size(1);
    const Q = q.elu().add(1).permute([0, 2, 1, 3]); // (N, H, L, D)
    const K = k.elu().add(1).permute([0, 2, 1, 3]); // (N, H, S, D)
    const V = v.div(S).permute([0, 2, 1, 3]); // (N, H, S, Dv)
    const KV = K.transpose(-2, -1).matmul(V); // (N, H, D, Dv)
    const Z = Q.matmul(K.sum(2).unsqueeze(-1)).add(eps).reciprocal(); // (N, H, L, 1)
    return Q.matmul(KV).mul(Z).mul(S).permute([0, 2, 1, 3]); // (N, L, H, Dv)
  });
}

/** Softmax attention with temperature 1/sqrt(D) (FullAttention, no masks, no dropout). */
export function fullAttention(q: Tensor, k: Tensor, v: Tensor): Tensor {
  return tidy(() => {
    const temp = 1 / Math.sqrt(q.size(3));
    const Q = q.permute([0, 2, 1, 3]); // (N, H, L, D)
    const K = k.permute([0, 2, 1, 3]); // (N, H, S, D)
    const V = v.permute([0, 2, 1, 3]); // (N, H, S, Dv)
    const A = Q.matmul(K.transpose(-2, -1)).mul(temp).softmax(-1); // (N, H, L, S)
    return A.matmul(V).permute([0, 2, 1, 3]); // (N, L, H, Dv)
  });
}

export class AttentionLayer extends Module {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;

  constructor(readonly hiddenDim: number, readonly guidanceDim: number, readonly numHeads: number, readonly attentionType: AttentionType = 'linear') {
    super();
    if (attentionType !== 'linear' && attentionType !== 'full') {
      throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `AttentionLayer: attention type must be 'linear' or 'full', got '${String(attentionType)}'`);
    }
    if (hiddenDim % numHeads) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `AttentionLayer: hidden ${hiddenDim} is not divisible by ${numHeads} heads`);
    this.q = this.child('q', new Linear(hiddenDim + guidanceDim, hiddenDim));
    this.k = this.child('k', new Linear(hiddenDim + guidanceDim, hiddenDim));
    this.v = this.child('v', new Linear(hiddenDim, hiddenDim));
  }

  /** x (N, L, C), guidance (N, L, Cg) or null -> (N, L, C). */
  forward(x: Tensor, guidance: Tensor | null): Tensor {
    check(x.rank === 3 && x.size(2) === this.hiddenDim, 'AHS_ERR_SHAPE',
      () => `AttentionLayer: x must be (N, L, ${this.hiddenDim}), got ${fmtShape(x.shape)}`);
    return tidy(() => {
      const [N, L, C] = x.shape as [number, number, number];
      const xg = guidance ? cat([x, guidance], -1) : x; // (N, L, C + Cg)
      const nH = this.numHeads;
      const q = this.q.forward(xg).view([N, L, nH, -1]); // (N, L, H, D)
      const k = this.k.forward(xg).view([N, L, nH, -1]);
      const v = this.v.forward(x).view([N, L, nH, -1]);
      const out = this.attentionType === 'linear' ? linearAttention(q, k, v) : fullAttention(q, k, v);
      return out.reshape([N, L, C]); // (N, L, C)
    });
  }
}
