// The attention of CAT-Seg's class aggregation (model.py: AttentionLayer, LinearAttention,
// FullAttention). q and k read the normalised tokens concatenated with the text guidance, v the
// tokens only; no output projection.
import { AhsError, check, fmtShape } from '../../errors.js';
import { Linear, Module, fusedLinear } from '../../nn/index.js';
import { batchedMatmul, cat, tidy, type Tensor } from '../../tensor/index.js';
import { guidedProjections } from './guidance_concat.js';

export type AttentionType = 'linear' | 'full';

/**
 * `count` identical extra key/value tokens appended to every sequence: the class padding of
 * ClassTransformerLayer, whose tokens are the same learnable vector at every pixel. k (1, 1, H, D),
 * v (1, 1, H, Dv) are their projections (broadcast over the batch).
 */
export interface RepeatedKV {
  k: Tensor;
  v: Tensor;
  count: number;
}

/**
 * Linear attention of "Transformers are RNNs" with phi(x) = elu(x) + 1, as LinearAttention:
 * out = phi(Q) (phi(K)^T (V/S)) / (phi(Q) . sum_s phi(K_s) + eps) * S. V is divided by the sequence
 * length S before and multiplied after (the reference does it against fp16 overflow).
 * q (N, L, H, D), k (N, S, H, D), v (N, S, H, Dv) -> (N, L, H, Dv). With `extra`, the sums over
 * keys include `count` copies of one more token (S counts them too), computed once instead of
 * `count` times: the same value up to float rounding.
 */
export function linearAttention(q: Tensor, k: Tensor, v: Tensor, eps = 1e-6, extra?: RepeatedKV): Tensor {
  return tidy(() => {
    const n = extra?.count ?? 0;
    const S = v.size(1) + n;
    const Q = q.elu().add(1).permute([0, 2, 1, 3]); // (N, H, L, D)
    const K = k.elu().add(1).permute([0, 2, 1, 3]); // (N, H, S, D)
    const V = v.div(S).permute([0, 2, 1, 3]); // (N, H, S, Dv)
    let KV = batchedMatmul(K.transpose(-2, -1), V); // (N, H, D, Dv)
    let Ksum = K.sum(2); // (N, H, D)
    if (extra && n > 0) {
      const Kp = extra.k.elu().add(1).permute([0, 2, 1, 3]); // (1, H, 1, D)
      const Vp = extra.v.div(S).permute([0, 2, 1, 3]); // (1, H, 1, Dv)
      KV = KV.add(Kp.transpose(-2, -1).matmul(Vp).mul(n)); // (N, H, D, Dv)
      Ksum = Ksum.add(Kp.squeeze(2).mul(n)); // (N, H, D)
    }
    // Numerator phi(Q) KV and normaliser phi(Q) . Ksum as one product with Ksum as an extra column.
    const Dv = KV.size(3);
    const QKV = batchedMatmul(Q, cat([KV, Ksum.unsqueeze(-1)], -1)); // (N, H, L, Dv + 1)
    const Z = QKV.narrow(3, Dv, 1).add(eps).reciprocal(); // (N, H, L, 1)
    return QKV.narrow(3, 0, Dv).mul(Z).mul(S).permute([0, 2, 1, 3]); // (N, L, H, Dv)
  });
}

/** Softmax attention with temperature 1/sqrt(D) (FullAttention, no masks, no dropout); `extra`
 * as for linearAttention (its `count` copies enter the softmax as one logit + log(count)). */
export function fullAttention(q: Tensor, k: Tensor, v: Tensor, extra?: RepeatedKV): Tensor {
  return tidy(() => {
    const temp = 1 / Math.sqrt(q.size(3));
    const Q = q.permute([0, 2, 1, 3]); // (N, H, L, D)
    const K = k.permute([0, 2, 1, 3]); // (N, H, S, D)
    let V = v.permute([0, 2, 1, 3]); // (N, H, S, Dv)
    let logits = Q.matmul(K.transpose(-2, -1)).mul(temp); // (N, H, L, S)
    if (extra && extra.count > 0) {
      const Kp = extra.k.permute([0, 2, 1, 3]); // (1, H, 1, D)
      const lp = Q.matmul(Kp.transpose(-2, -1)).mul(temp).add(Math.log(extra.count)); // (N, H, L, 1)
      logits = cat([logits, lp], -1); // (N, H, L, S + 1)
      V = cat([V, extra.v.permute([0, 2, 1, 3]).expand([V.size(0), -1, -1, -1])], 2); // (N, H, S + 1, Dv)
    }
    return logits.softmax(-1).matmul(V).permute([0, 2, 1, 3]); // (N, L, H, Dv)
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

  /**
   * x (N, L, C) normalised tokens, guidance (N or 1, L, Cg) or null -> (N, L, C). `pad` adds `count`
   * copies of one (normalised) token (1, 1, C) with its guidance (1, 1, Cg) to the keys and
   * values of every sequence (ClassTransformerLayer's padding); they produce no output rows.
   */
  forward(x: Tensor, guidance: Tensor | null, pad?: { tokens: Tensor; guidance: Tensor | null; count: number }): Tensor {
    check(x.rank === 3 && x.size(2) === this.hiddenDim, 'AHS_ERR_SHAPE',
      () => `AttentionLayer: x must be (N, L, ${this.hiddenDim}), got ${fmtShape(x.shape)}`);
    check(!guidance === !this.guidanceDim, 'AHS_ERR_INVALID_ARGUMENT',
      () => `AttentionLayer: built for ${this.guidanceDim} guidance channels, called ${guidance ? 'with' : 'without'} guidance`);
    if (guidance) {
      check(guidance.rank === 3 && (guidance.size(0) === 1 || guidance.size(0) === x.size(0)) && guidance.size(1) === x.size(1), 'AHS_ERR_SHAPE',
        () => `AttentionLayer: guidance must be (${x.size(0)} or 1, ${x.size(1)}, ${this.guidanceDim}), got ${fmtShape(guidance.shape)}`);
    }
    return tidy(() => {
      const [N, L, C] = x.shape as [number, number, number];
      const nH = this.numHeads;
      // One GEMM for q and k, on cat([x, guidance]) when guided.
      const [qf, kf] = (guidance ? guidedProjections([this.q, this.k], x, guidance) : fusedLinear([this.q, this.k], x)) as [Tensor, Tensor];
      const q = qf.view([N, L, nH, -1]); // (N, L, H, D)
      const k = kf.view([N, L, nH, -1]);
      const v = this.v.forward(x).view([N, L, nH, -1]);
      let extra: RepeatedKV | undefined;
      if (pad && pad.count > 0) {
        const pg = guidance && pad.guidance ? cat([pad.tokens, pad.guidance], -1) : pad.tokens; // (1, 1, C + Cg)
        extra = { k: this.k.forward(pg).view([1, 1, nH, -1]), v: this.v.forward(pad.tokens).view([1, 1, nH, -1]), count: pad.count };
      }
      const out = this.attentionType === 'linear' ? linearAttention(q, k, v, 1e-6, extra) : fullAttention(q, k, v, extra);
      return out.reshape([N, L, C]); // (N, L, C)
    });
  }
}
