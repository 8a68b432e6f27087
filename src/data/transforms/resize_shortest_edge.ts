// detectron2's ResizeShortestEdge: draw a short-edge length, scale the short edge to it keeping
// the aspect ratio, unless the long edge would pass max_size, in which case the long edge is
// max_size; sizes round with int(x + 0.5). The resize itself is pil_resize.ts.
import type { Rng } from '../rng.js';

export type ShortEdgeSampling = 'choice' | 'range';

/**
 * The short-edge length: `choice` draws int(sizes.length) (np.random.choice, drawn even for one
 * size); `range` draws intInclusive(sizes[0], sizes[1]) (np.random.randint(min, max + 1)).
 */
export function sampleShortEdge(sizes: readonly number[], sampling: ShortEdgeSampling, rng: Rng): number {
  return sampling === 'range' ? rng.intInclusive(sizes[0]!, sizes[1]!) : sizes[rng.int(sizes.length)]!;
}

/**
 * ResizeShortestEdge.get_output_shape: (newH, newW).
 * @example shortestEdgeOutputShape(480, 640, 384, 1333) // [384, 512]
 */
export function shortestEdgeOutputShape(oldH: number, oldW: number, shortEdge: number, maxSize: number): [number, number] {
  const size = shortEdge * 1.0;
  const scale = size / Math.min(oldH, oldW);
  let newH: number, newW: number;
  if (oldH < oldW) {
    newH = size; newW = scale * oldW;
  } else {
    newH = scale * oldH; newW = size;
  }
  if (Math.max(newH, newW) > maxSize) {
    const s = (maxSize * 1.0) / Math.max(newH, newW);
    newH = newH * s;
    newW = newW * s;
  }
  return [Math.trunc(newH + 0.5), Math.trunc(newW + 0.5)];
}
