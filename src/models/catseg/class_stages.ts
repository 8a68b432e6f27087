// How CAT-Seg's per-class stages (cost embedding, spatial aggregation, decoder, loss) run over the
// class axis: all at once or in chunks with a normal graph (PlainClassStages), or with activation
// checkpointing (CheckpointedClassStages): no graph in the forward, each chunk recomputed in
// backward, so training memory grows with the chunk, not with the number of classes. The builder
// picks one; the aggregator only calls map() and boundary().
import { BackwardTape, cat, tidy, type Tensor } from '../../tensor/index.js';

export interface ClassStages {
  /** fn over chunks of x along classDim, results concatenated along outDim. */
  map(x: Tensor, classDim: number, outDim: number, fn: (xc: Tensor, start: number) => Tensor): Tensor;
  /** A tensor made before the per-class stages that they read (guidance, the cost volume). */
  boundary(t: Tensor): Tensor;
}

export class PlainClassStages implements ClassStages {
  constructor(readonly chunk?: number) {}
  map(x: Tensor, classDim: number, outDim: number, fn: (xc: Tensor, start: number) => Tensor): Tensor {
    const T = x.size(classDim);
    const chunk = this.chunk;
    if (!chunk || chunk >= T) return fn(x, 0);
    const parts: Tensor[] = [];
    for (let s = 0; s < T; s += chunk) parts.push(tidy(() => fn(x.narrow(classDim, s, Math.min(chunk, T - s)), s)));
    const out = cat(parts, outDim);
    for (const p of parts) p.dispose();
    return out;
  }
  boundary(t: Tensor): Tensor {
    return t;
  }
}

export class CheckpointedClassStages implements ClassStages {
  constructor(readonly tape: BackwardTape, readonly chunk: number) {}
  map(x: Tensor, classDim: number, outDim: number, fn: (xc: Tensor, start: number) => Tensor): Tensor {
    return this.tape.chunked(x, classDim, this.chunk, outDim, fn);
  }
  boundary(t: Tensor): Tensor {
    return this.tape.boundary(t);
  }
}
