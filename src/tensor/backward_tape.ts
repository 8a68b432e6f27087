// Activation checkpointing by staged backward, for maps that run chunk by chunk along one dim
// (CAT-Seg's per-class stages): the forward keeps only each stage's input and output, and the
// backward recomputes one chunk at a time, so a stage's activations never exist for more than one
// chunk at once. Same gradients as the plain graph, no custom autograd function needed:
//
//   forward   x --(stage, no graph)--> y (a fresh leaf)  ... later graph uses y ...
//   backward  1. backward(loss) stops at the stage outputs y (their .grad is dL/dy)
//             2. stages in reverse order: for each chunk c, recompute y_c = f(x_c) with a graph
//                from a detached x_c, backward(y_c, dL/dy_c) -> dL/dx_c; then dL/dx flows into
//                x's own graph up to the previous stage's output
//             3. boundaries: tensors made before the staged part (CLIP features, guidance) were
//                cut off as leaves, so each stage's backward stops there; their accumulated
//                gradients go into the early graph once, at the end.
// Without any stage recorded, backward() is a plain loss.backward().
import { AhsError } from '../errors.js';
import { enableGrad, noGrad } from './autograd.js';
import { native } from './native.js';
import { cat } from './ops.gen.js';
import { dispose, keep, tidy } from './scope.js';
import type { Tensor } from './tensor.js';

interface Stage { x: Tensor; y: Tensor; dim: number; outDim: number; chunk: number; offsets: number[]; fn: (xc: Tensor, start: number) => Tensor }

export class BackwardTape {
  #stages: Stage[] = [];
  #boundaries: { source: Tensor; leaf: Tensor }[] = [];
  #aliases: Tensor[] = [];
  #done = false;

  /** Cuts `t` out of the graph: later code uses the returned leaf, whose gradient goes into t's
   * graph once, after every stage has been replayed. The leaf belongs to the tape (stages read it
   * again in backward): do not dispose it. */
  boundary(t: Tensor): Tensor {
    if (!t.requiresGrad) {
      const alias = keep(noGrad(() => t.view(t.shape)));
      this.#aliases.push(alias);
      return alias;
    }
    // The tape holds its own handle on t's graph (a view), so the caller may dispose t.
    const source = keep(enableGrad(() => t.view(t.shape)));
    const leaf = keep(noGrad(() => t.detach()).requiresGrad_(true));
    this.#boundaries.push({ source, leaf });
    return leaf;
  }

  /**
   * fn over chunks of `chunk` along `dim` of x, concatenated along `outDim`, computed without a
   * graph; recomputed chunk by chunk in backward(). fn must be a pure function of its chunk and
   * of boundary leaves or parameters (anything else with a graph would be back-propagated once
   * per chunk).
   */
  chunked(x: Tensor, dim: number, chunk: number, outDim: number, fn: (xc: Tensor, start: number) => Tensor): Tensor {
    if (this.#done) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', 'BackwardTape: used after backward()');
    const T = x.size(dim);
    const xRef = keep(enableGrad(() => x.view(x.shape)));
    const offsets: number[] = [];
    const y = noGrad(() => {
      const parts: Tensor[] = [];
      let at = 0;
      for (let s = 0; s < T; s += chunk) {
        const p = tidy(() => fn(x.narrow(dim, s, Math.min(chunk, T - s)), s));
        offsets.push(at);
        at += p.size(outDim);
        parts.push(p);
      }
      const out = parts.length === 1 ? parts[0]! : cat(parts, outDim);
      if (parts.length > 1) dispose(parts);
      return out;
    });
    y.requiresGrad_(true);
    this.#stages.push({ x: xRef, y: keep(y), dim, outDim, chunk, offsets, fn });
    return enableGrad(() => y.view(y.shape));
  }

  /** loss.backward(), then the stages in reverse order, then the boundaries. */
  backward(loss: Tensor): void {
    if (this.#done) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', 'BackwardTape: backward() called twice');
    this.#done = true;
    try {
      loss.backward();
      for (const st of [...this.#stages].reverse()) this.replay(st);
      const ready = this.#boundaries.map((b) => ({ ...b, g: b.leaf.grad })).filter((b) => b.g !== null);
      if (ready.length) native().backward(ready.map((b) => b.source.handle), ready.map((b) => b.g!.handle), false, false);
      dispose(ready.map((b) => b.g));
    } finally {
      this.dispose();
    }
  }

  private replay(st: Stage): void {
    const gy = st.y.grad;
    if (!gy) return; // nothing downstream used this stage
    tidy(() => {
      const T = st.x.size(st.dim);
      const needX = st.x.requiresGrad;
      const gx: Tensor[] = [];
      for (let s = 0, c = 0; s < T; s += st.chunk, c++) {
        const n = Math.min(st.chunk, T - s);
        const g = tidy(() => {
          const xc = noGrad(() => st.x.narrow(st.dim, s, n).detach()).requiresGrad_(needX);
          const yc = enableGrad(() => st.fn(xc, s));
          const gyc = gy.narrow(st.outDim, st.offsets[c]!, yc.size(st.outDim)).contiguous();
          if (yc.requiresGrad) yc.backward(gyc);
          return needX ? xc.grad : null;
        });
        if (g) gx.push(g);
      }
      if (needX && gx.length) {
        const g = gx.length === 1 ? gx[0]! : cat(gx, st.dim);
        st.x.backward(g);
      }
    });
    gy.dispose();
  }

  /** Frees what the tape holds (called by backward(); call it yourself if backward never runs). */
  dispose(): void {
    for (const s of this.#stages) { s.x.dispose(); s.y.dispose(); }
    for (const b of this.#boundaries) { b.source.dispose(); b.leaf.dispose(); }
    for (const a of this.#aliases) a.dispose();
    this.#stages = [];
    this.#boundaries = [];
    this.#aliases = [];
  }
}
