// DC-HSP, dynamic class-aware hyperspherical projection (method-spec sections 4.4 and 5.3). Each
// class k gets a complexity c_k = sigmoid(MLP(t_k)) in (0, 1) from its text embedding, and its
// unit embeddings are moved on the sphere by a low-rank, zero-initialised adjustment:
//
//   gate: t'_k = normalize(t_k + gamma * c_k * B A t_k)
//   rank: t'_k = normalize(t_k + gamma * B diag(m_k) A t_k),  m_{k,j} = sigmoid((r c_k - j) / tau)
//
// so in `rank` mode c_k sets how many of the r rank-1 directions are active (about r c_k). Both
// modes are "gamma B (w_k * A t_k)" with per-direction weights w_k (c_k repeated, or m_k), so one
// forward serves both; the mode only picks the weights. The output replaces the class embeddings
// in the cost volume, the image side is untouched (that keeps CLIP's alignment). B = 0 at init,
// so the module starts as the identity (up to the renormalisation of already-unit inputs).
//
// Differences from the AHS code (class_aware_projection.py): no random base projection W_base and
// no learnable radius (both would break the cost volume at init), gamma starts at 1 not 0.1 (B = 0
// already makes the start exact), and c_k is computed once per class from its template mean.
import { check, fmtShape } from '../../errors.js';
import { Dropout, GELU, LayerNorm, Linear, Module, Sequential, constantInit } from '../../nn/index.js';
import { arange, noGrad, tidy, type Tensor } from '../../tensor/index.js';
import { l2Normalize } from '../catseg/cost_volume.js';

export type DcHspMode = 'gate' | 'rank';

export interface ClassAwareProjectionOptions {
  /** CLIP's joint embedding width (512 for ViT-B/16, 768 for ViT-L/14). */
  dim: number;
  /** Rank r of the adjustment B A (64). */
  rank?: number;
  /** Hidden widths of the complexity MLP ([256, 128], as the AHS code). */
  hidden?: [number, number];
  /** Dropout after the first hidden layer of the complexity MLP (0.1). */
  dropout?: number;
  /** 'gate': c_k scales the whole delta; 'rank': c_k sets how many directions are active. */
  mode: DcHspMode;
  /** Softness of the rank mask in 'rank' mode (2). */
  tau?: number;
}

export class ClassAwareProjection extends Module {
  readonly dim: number;
  readonly rank: number;
  readonly mode: DcHspMode;
  readonly tau: number;
  /** c_k = sigmoid(complexity(t_k)): Linear LN GELU Dropout Linear LN GELU Linear, keys complexity.N.* */
  readonly complexityNet: Sequential;
  /** A: dim -> rank, N(0, 1/dim) so each row is a roughly unit random direction (down.weight (r, dim)). */
  readonly down: Linear;
  /** B: rank -> dim, zero at init (up.weight (dim, r)). */
  readonly up: Linear;
  /** Learnable scalar strength, init 1. */
  readonly gamma: Tensor;

  constructor(opts: ClassAwareProjectionOptions) {
    super();
    const { dim, mode } = opts;
    const rank = opts.rank ?? 64;
    const [h1, h2] = opts.hidden ?? [256, 128];
    const p = opts.dropout ?? 0.1;
    const tau = opts.tau ?? 2;
    const posInt = (v: number) => Number.isInteger(v) && v > 0;
    check(posInt(dim), 'AHS_ERR_INVALID_ARGUMENT', () => `ClassAwareProjection: option 'dim' must be a positive integer, got ${dim}`);
    check(posInt(rank), 'AHS_ERR_INVALID_ARGUMENT', () => `ClassAwareProjection: option 'rank' must be a positive integer, got ${rank}`);
    check(posInt(h1) && posInt(h2), 'AHS_ERR_INVALID_ARGUMENT', () => `ClassAwareProjection: option 'hidden' must be two positive integers, got ${JSON.stringify(opts.hidden)}`);
    check(p >= 0 && p < 1, 'AHS_ERR_INVALID_ARGUMENT', () => `ClassAwareProjection: option 'dropout' must be in [0, 1), got ${p}`);
    check(mode === 'gate' || mode === 'rank', 'AHS_ERR_INVALID_ARGUMENT', () => `ClassAwareProjection: option 'mode' must be 'gate' or 'rank', got '${String(mode)}'`);
    check(tau > 0 && Number.isFinite(tau), 'AHS_ERR_INVALID_ARGUMENT', () => `ClassAwareProjection: option 'tau' must be a positive number, got ${tau}`);
    this.dim = dim;
    this.rank = rank;
    this.mode = mode;
    this.tau = tau;
    this.complexityNet = this.child('complexity', new Sequential(
      new Linear(dim, h1), new LayerNorm(h1), new GELU(), new Dropout(p),
      new Linear(h1, h2), new LayerNorm(h2), new GELU(), new Linear(h2, 1),
    ));
    this.down = this.child('down', new Linear(dim, rank, { bias: false }));
    this.up = this.child('up', new Linear(rank, dim, { bias: false }));
    noGrad(() => {
      this.down.weight.normal_(0, 1 / Math.sqrt(dim));
      this.up.weight.zero_();
    });
    this.gamma = this.param('gamma', constantInit([], 1));
  }

  #checkText(text: Tensor, what: string): void {
    check((text.rank === 3 || text.rank === 4) && text.size(-1) === this.dim, 'AHS_ERR_SHAPE',
      () => `ClassAwareProjection.${what}: text embeddings must be (T, P, ${this.dim}) or (B, T, P, ${this.dim}), got ${fmtShape(text.shape)}`);
  }

  /** Per-class complexity c in (0, 1): (T, P, D) -> (T), (B, T, P, D) -> (B, T). Computed from
   * the class's L2-normalised template mean, so it is one value per class whatever P is. */
  complexity(text: Tensor): Tensor {
    this.#checkText(text, 'complexity');
    return tidy(() => {
      const mean = l2Normalize(text.mean(-2), -1); // (..., T, D)
      return this.complexityNet.forward(mean).squeeze(-1).sigmoid(); // (..., T)
    });
  }

  /** Weights w_{k,j} of the r directions for complexities c (..., T) -> (..., T, r): c_k on every
   * direction ('gate'), or the soft mask sigmoid((r c_k - j) / tau), j = 0..r-1 ('rank'), which
   * is increasing in c_k for every j and sums to about r c_k. */
  directionWeights(c: Tensor): Tensor {
    return tidy(() => {
      const cc = c.unsqueeze(-1); // (..., T, 1)
      if (this.mode === 'gate') return cc.expand([...c.shape, this.rank]);
      const j = arange(0, this.rank, 1, c.dtype, c.device); // (r)
      return cc.mul(this.rank).sub(j).div(this.tau).sigmoid(); // (..., T, r)
    });
  }

  /** t' (same shape as text, unit vectors along the last dim). */
  forward(text: Tensor): Tensor {
    this.#checkText(text, 'forward');
    return tidy(() => {
      const w = this.directionWeights(this.complexity(text)).unsqueeze(-2); // (..., T, 1, r): the same for every template
      const h = this.down.forward(text); // (..., T, P, r) = A t
      const delta = this.up.forward(h.mul(w)).mul(this.gamma); // (..., T, P, D) = gamma B (w * A t); exactly 0 while B = 0
      return l2Normalize(text.add(delta), -1);
    });
  }
}
