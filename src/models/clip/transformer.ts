// CLIP's Transformer: a stack of residual attention blocks (`resblocks.N`).
import { ModuleList, Module } from '../../nn/index.js';
import { tidy, type Tensor } from '../../tensor/index.js';
import { ResidualAttentionBlock, type DenseResidual } from './residual_attention_block.js';
import type { QkvLayout } from './multihead_attention.js';

export interface TransformerRunOptions {
  mask?: Tensor | null;
  /** Run the last block in dense mode with this residual (image tower only). */
  denseResidual?: DenseResidual;
  /** Block indices whose raw residual-stream outputs are returned (CAT-Seg's guidance taps). */
  taps?: readonly number[];
}

export class Transformer extends Module {
  readonly resblocks: ModuleList<ResidualAttentionBlock>;
  constructor(readonly width: number, readonly layers: number, readonly heads: number, layout: QkvLayout = 'packed') {
    super();
    this.resblocks = this.child('resblocks', new ModuleList(Array.from({ length: layers }, () => new ResidualAttentionBlock(width, heads, layout))));
  }

  /** x [B, L, D] -> [B, L, D]; taps (by block index) are returned alongside. */
  run(x: Tensor, opts: TransformerRunOptions = {}): { out: Tensor; taps: Map<number, Tensor> } {
    return tidy(() => {
      const taps = new Map<number, Tensor>();
      const want = new Set(opts.taps ?? []);
      let cur = x;
      for (let i = 0; i < this.layers; i++) {
        const blk = this.resblocks.at(i);
        const dense = opts.denseResidual !== undefined && i === this.layers - 1;
        cur = dense ? blk.forwardDense(cur, opts.denseResidual!) : blk.forward(cur, opts.mask);
        if (want.has(i)) taps.set(i, cur);
      }
      return { out: cur, taps };
    });
  }
}
