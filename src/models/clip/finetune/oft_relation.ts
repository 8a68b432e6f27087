// H-CLIP's orthogonal fine-tuning with dual cross-relations ("oft_both"; SJTU-DeepVisionLab/H-CLIP
// third_party/model_oft_relation_both_free_half.py and oft_se_qkv_relation_vision_train_ortho_
// relation_free_half.py; method-spec §3). One shared tensor T [b, b, 4·L, rT + rV] holds a b x b
// generator block for every (layer, matrix q/k/v/o, block slice) of both towers; two identity-
// initialised relations mix it: per layer ℓ a modality relation M_ℓ over the rT + rV block slices
// (shared by text layer ℓ and vision layer ℓ), and one layer relation L over the 4·L
// (layer, matrix) slices. The generators of layer ℓ of a tower are then
//   U = T ×₄ M_ℓ,  V = U[..., tower's slices],  W = V ×₃ L,  (A_q, A_k, A_v, A_o) = W[..., 4ℓ : 4ℓ+4]
// and the transforms are R = Cayley(A) for text and R = A ("free") for vision. They act on the
// frozen attention weights: W_{q,k,v}' = W · BlockDiag(R), W_o' = BlockDiag(R_o) · W_o (biases as
// they are). At init every R = I, so the model is frozen CLIP exactly.
//
// Names: H-CLIP builds the three tensors once in CLIP.__init__ and hands them to every
// ResidualAttentionBlock of both towers as attributes attn_q_proj_oft_layer_R,
// attn_q_proj_oft_relation_l_R (Linear) and attn_q_proj_oft_relation_m_R (ModuleList), so its
// state dict repeats them under each block path; here they live once, under those attribute
// names (oftStateDictFromHclip maps an H-CLIP state dict).
//
// Towers with different depths (ViT-L/14: text 12 layers, vision 24) [our choice; H-CLIP sizes
// everything from the text depth and hard-codes 12 modality relations, so it exists for ViT-B/16
// only]: T and L are sized for the deeper tower, L_max = max(L_text, L_vision),
// with L_max modality relations; the shallower tower uses layers 0 .. its depth - 1 (text layer ℓ
// shares slices 4ℓ..4ℓ+3 and M_ℓ with vision layer ℓ), as for ViT-B where both have 12. This is
// the method-spec §5.4 sizing (T ∈ R^{128×128×96×14} for ViT-L/14@336: 6 text + 8 vision blocks).
//
// Eval folding: with this module and the attention module both in eval mode, a layer's effective
// weights are computed once (no autograd) and reused. The cache is dropped by train()/eval() on
// this module (also through a parent's train()), loadStateDict() on it, invalidate(), any forward
// in training mode, and (detectChanges, default on) when a tower's layer 0 finds the OFT
// parameters differ from the snapshot taken when the cache was filled (one exact comparison of
// the parameters per tower forward; catches in-place updates such as a parent's loadStateDict or
// an optimizer step taken in eval mode). Changing the *frozen CLIP* weights needs invalidate().
import { AhsError, fmtShape } from '../../../errors.js';
import { Linear, Module, ModuleList, type LoadReport } from '../../../nn/index.js';
import { cat, dispose, eye, keep, noGrad, tidy, zeros, type Device, type Tensor } from '../../../tensor/index.js';
import type { MultiheadAttention, ProjectionWeights } from '../multihead_attention.js';
import { cayley, mulBlockDiagLeft, mulBlockDiagRight } from './cayley.js';

export type OftTower = 'text' | 'vision';
/** Order of the four generator slices of a layer (H-CLIP's q_R, k_R, v_R, proj_R). */
export const OFT_MATRICES = ['q', 'k', 'v', 'o'] as const;

/** H-CLIP's attribute names: they contain "oft", the rule H-CLIP uses to mark them trainable. */
export const OFT_PARAM_NAMES = {
  tensor: 'attn_q_proj_oft_layer_R',
  layerRelation: 'attn_q_proj_oft_relation_l_R',
  modalityRelation: 'attn_q_proj_oft_relation_m_R',
} as const;

export interface OftRelationOptions {
  textWidth: number;
  visionWidth: number;
  textLayers: number;
  visionLayers: number;
  /** Side of the generator blocks (H-CLIP: 128); must divide both widths. */
  blockSize?: number;
  /** Vision transform of the default rule: H-CLIP's 'free' R = A (default) or 'cayley'. */
  visionTransform?: 'free' | 'cayley';
  /** How generators become transforms (default: HclipTransform(visionTransform)); AHS-Seg's
   * HA-HEM passes its strength-modulated rule here. */
  transform?: OftTransform;
  /** Compare the parameters with a snapshot before reusing folded weights (default true). */
  detectChanges?: boolean;
}

/**
 * The generators of one layer and tower, [4, r, b, b] (q, k, v, o), from the shared tensor
 * `base` [b, b, S, m], the layer relation's Linear weight [S, S] and this layer's modality
 * relation weight [m, m]; `offset`/`count` select the tower's block slices among the m. Both
 * relations are linear maps on different axes of T, so the 4 layer-relation rows this layer uses
 * and the tower's r modality-relation rows combine into one [S·m, 4·r] matrix (their Kronecker
 * product) and T is contracted in a single GEMM; the reference applies them one after the other
 * (same values up to float rounding). Pure and differentiable (float32 or float64).
 */
export function relationGenerators(base: Tensor, relationL: Tensor, relationM: Tensor, layer: number, offset: number, count: number): Tensor {
  if (base.rank !== 4 || base.size(0) !== base.size(1)) throw new AhsError('AHS_ERR_SHAPE', `relationGenerators: base must be [b, b, S, m], got ${fmtShape(base.shape)}`);
  const [b, , S, m] = base.shape as [number, number, number, number];
  if (relationL.rank !== 2 || relationL.size(0) !== S || relationL.size(1) !== S) {
    throw new AhsError('AHS_ERR_SHAPE', `relationGenerators: layer relation must be [${S}, ${S}], got ${fmtShape(relationL.shape)}`);
  }
  if (relationM.rank !== 2 || relationM.size(0) !== m || relationM.size(1) !== m) {
    throw new AhsError('AHS_ERR_SHAPE', `relationGenerators: modality relation must be [${m}, ${m}], got ${fmtShape(relationM.shape)}`);
  }
  if (!(Number.isInteger(layer) && layer >= 0 && 4 * layer + 4 <= S) || !(offset >= 0 && count > 0 && offset + count <= m)) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `relationGenerators: layer ${layer} / slices ${offset}..${offset + count - 1} outside S=${S}, m=${m}`);
  }
  return tidy(() => {
    const l4 = relationL.narrow(0, 4 * layer, 4).transpose(0, 1).reshape([S, 1, 4, 1]); // L[4ℓ+k, n] at (n, ·, k, ·)
    const mr = relationM.narrow(0, offset, count).transpose(0, 1).reshape([1, m, 1, count]); // M_ℓ[off+j, i] at (·, i, ·, j)
    const kron = l4.mul(mr).reshape([S * m, 4 * count]); // (S·m, 4·r)
    const y = base.reshape([b * b, S * m]).matmul(kron); // (b·b, 4·r): both relations at once
    return y.view([b, b, 4, count]).permute([2, 3, 0, 1]).contiguous(); // (4, r, b, b)
  });
}

/**
 * Generators -> the transforms applied to the attention weights. A rule may own parameters
 * (HA-HEM's strengths); they are part of what folded weights depend on, so `parameters()`
 * must list them.
 */
export interface OftTransform {
  /** R [4, r, b, b] for the generators A [4, r, b, b] of one layer of one tower. */
  apply(tower: OftTower, layer: number, a: Tensor): Tensor;
  parameters(): Tensor[];
}

/** H-CLIP's rule: Cayley(A) for text, A itself ("free") or Cayley(A) for vision. */
export class HclipTransform implements OftTransform {
  constructor(readonly vision: 'free' | 'cayley' = 'free') {}
  apply(tower: OftTower, _layer: number, a: Tensor): Tensor {
    return tower === 'text' || this.vision === 'cayley' ? cayley(a) : a;
  }
  parameters(): Tensor[] {
    return [];
  }
}

function identityLinear(n: number): Linear {
  const lin = new Linear(n, n, { bias: false });
  noGrad(() => tidy(() => { lin.weight.copy_(eye(n)); }));
  return lin;
}

export class OftRelation extends Module {
  readonly attn_q_proj_oft_layer_R: Tensor;
  readonly attn_q_proj_oft_relation_l_R: Linear;
  readonly attn_q_proj_oft_relation_m_R: ModuleList<Linear>;
  readonly blockSize: number;
  readonly textBlocks: number;
  readonly visionBlocks: number;
  readonly textLayers: number;
  readonly visionLayers: number;
  /** Layers covered by the shared tensor and the relations: max of the two towers. */
  readonly relationLayers: number;
  readonly transformRule: OftTransform;
  detectChanges: boolean;
  readonly #cache = new Map<string, ProjectionWeights>();
  #snapshot: Tensor[] | null = null;

  constructor(opts: OftRelationOptions) {
    super();
    const b = opts.blockSize ?? 128;
    for (const [what, w] of [['text width', opts.textWidth], ['vision width', opts.visionWidth]] as const) {
      if (!Number.isInteger(b) || b < 1 || !Number.isInteger(w) || w % b) {
        throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `OftRelation: block size ${b} must divide the ${what} ${w}`);
      }
    }
    for (const [what, n] of [['text layers', opts.textLayers], ['vision layers', opts.visionLayers]] as const) {
      if (!Number.isInteger(n) || n < 1) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `OftRelation: ${what} must be a positive integer, got ${n}`);
    }
    this.blockSize = b;
    this.textBlocks = opts.textWidth / b;
    this.visionBlocks = opts.visionWidth / b;
    this.textLayers = opts.textLayers;
    this.visionLayers = opts.visionLayers;
    this.relationLayers = Math.max(opts.textLayers, opts.visionLayers);
    this.transformRule = opts.transform ?? new HclipTransform(opts.visionTransform ?? 'free');
    this.detectChanges = opts.detectChanges ?? true;
    const S = 4 * this.relationLayers;
    const m = this.textBlocks + this.visionBlocks;
    // Text slices 0 (Cayley(0) = I), vision slices I (free R = A = I; Cayley(I) = I too).
    this.attn_q_proj_oft_layer_R = this.param(OFT_PARAM_NAMES.tensor, tidy(() => cat([
      zeros([b, b, S, this.textBlocks]),
      eye(b).view([b, b, 1, 1]).expand([b, b, S, this.visionBlocks]),
    ], 3))); // (b, b, 4·L, rT + rV)
    this.attn_q_proj_oft_relation_l_R = this.child(OFT_PARAM_NAMES.layerRelation, identityLinear(S));
    this.attn_q_proj_oft_relation_m_R = this.child(OFT_PARAM_NAMES.modalityRelation,
      new ModuleList(Array.from({ length: this.relationLayers }, () => identityLinear(m))));
    // Mode changes reach modules as plain `training` assignments (Module.train sets the flag on
    // every descendant), so the flag is an accessor here: any change drops the folded weights.
    let training = this.training;
    Object.defineProperty(this, 'training', {
      configurable: true,
      enumerable: true,
      get: () => training,
      set: (on: boolean) => { if (on !== training) { training = on; this.invalidate(); } },
    });
  }

  blocks(tower: OftTower): number {
    return tower === 'text' ? this.textBlocks : this.visionBlocks;
  }

  layers(tower: OftTower): number {
    return tower === 'text' ? this.textLayers : this.visionLayers;
  }

  #checkLayer(tower: OftTower, layer: number): void {
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.layers(tower)) {
      throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `OftRelation: ${tower} layer ${layer} out of range [0, ${this.layers(tower) - 1}]`);
    }
  }

  /** The generator blocks A of one layer, [4, r, b, b] in the order q, k, v, o. */
  generators(tower: OftTower, layer: number): Tensor {
    this.#checkLayer(tower, layer);
    const offset = tower === 'text' ? 0 : this.textBlocks;
    return relationGenerators(this.attn_q_proj_oft_layer_R, this.attn_q_proj_oft_relation_l_R.weight,
      this.attn_q_proj_oft_relation_m_R.at(layer).weight, layer, offset, this.blocks(tower));
  }

  /** The transforms R actually applied, [4, r, b, b] (q, k, v, o). */
  transforms(tower: OftTower, layer: number): Tensor {
    return tidy(() => this.transformRule.apply(tower, layer, this.generators(tower, layer)));
  }

  /** What folded weights depend on: this module's parameters and the transform rule's. */
  #watched(): Tensor[] {
    return [...this.parameters(), ...this.transformRule.parameters()];
  }

  /** Effective weights from the stored ones; the stored weights are detached (H-CLIP uses
   * `.data`), so no gradient reaches them even if they are marked trainable. */
  effectiveWeights(tower: OftTower, layer: number, stored: ProjectionWeights): ProjectionWeights {
    return tidy(() => {
      const [rq, rk, rv, ro] = this.transforms(tower, layer).unbind(0) as [Tensor, Tensor, Tensor, Tensor];
      return {
        q: mulBlockDiagRight(stored.q.detach(), rq),
        k: mulBlockDiagRight(stored.k.detach(), rk),
        v: mulBlockDiagRight(stored.v.detach(), rv),
        out: mulBlockDiagLeft(ro, stored.out.detach()),
      };
    });
  }

  /** What an attention module's weightOverride returns: recomputed (with autograd) while this
   * module or the attention module trains, folded and cached when both are in eval mode. */
  weightsFor(tower: OftTower, layer: number, attn: MultiheadAttention): ProjectionWeights {
    if (this.training || attn.training) {
      if (this.#cache.size) this.invalidate();
      return this.effectiveWeights(tower, layer, attn.storedWeights());
    }
    if (layer === 0 && this.#snapshot && this.detectChanges && !this.#unchanged()) this.invalidate();
    const key = `${tower}.${layer}`;
    let w = this.#cache.get(key);
    if (!w) {
      w = noGrad(() => this.effectiveWeights(tower, layer, attn.storedWeights()));
      for (const t of [w.q, w.k, w.v, w.out]) keep(t);
      this.#cache.set(key, w);
      if (this.detectChanges && !this.#snapshot) this.#snapshot = noGrad(() => this.#watched().map((p) => keep(p.clone())));
    }
    return w;
  }

  #unchanged(): boolean {
    const snap = this.#snapshot!;
    const params = this.#watched();
    return params.length === snap.length && params.every((p, i) => p.equal(snap[i]!));
  }

  /** Number of (tower, layer) entries currently folded. */
  get foldedLayers(): number {
    return this.#cache.size;
  }

  /** Drops the folded weights (and the change-detection snapshot). */
  invalidate(): void {
    for (const w of this.#cache.values()) dispose([w.q, w.k, w.v, w.out]);
    this.#cache.clear();
    if (this.#snapshot) dispose(this.#snapshot);
    this.#snapshot = null;
  }

  override to(device: Device): this {
    this.invalidate(); // folded weights and the snapshot are on the old device
    return super.to(device);
  }

  override loadStateDict(sd: Map<string, Tensor>, opts: { strict?: boolean; source?: string } = {}): LoadReport {
    try {
      return super.loadStateDict(sd, opts);
    } finally {
      this.invalidate();
    }
  }

  override dispose(): void {
    this.invalidate();
    super.dispose();
  }
}

/**
 * This module's state dict from H-CLIP-style keys: any key ending in one of the OFT names
 * (`...attn_q_proj_oft_layer_R`, `...attn_q_proj_oft_relation_l_R.weight`,
 * `...attn_q_proj_oft_relation_m_R.<ℓ>.weight`), whatever its prefix. A shared tensor listed
 * under several module paths must have one shape everywhere; the first occurrence is used.
 * The tensors themselves are returned (no copies).
 */
export function oftStateDictFromHclip(sd: Map<string, Tensor>): Map<string, Tensor> {
  const { tensor, layerRelation, modalityRelation } = OFT_PARAM_NAMES;
  const re = new RegExp(`(?:^|\\.)(${tensor}|${layerRelation}\\.weight|${modalityRelation}\\.\\d+\\.weight)$`);
  const out = new Map<string, Tensor>();
  const from = new Map<string, string>();
  for (const [k, t] of sd) {
    const m = re.exec(k);
    if (!m) continue;
    const name = m[1]!;
    const prev = out.get(name);
    if (!prev) { out.set(name, t); from.set(name, k); continue; }
    if (fmtShape(prev.shape) !== fmtShape(t.shape)) {
      throw new AhsError('AHS_ERR_STATE_DICT', `H-CLIP OFT tensor ${name}: ${from.get(name)} is ${fmtShape(prev.shape)} but ${k} is ${fmtShape(t.shape)}`);
    }
  }
  return out;
}
