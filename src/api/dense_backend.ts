// What the library API needs of a model, whatever its kind: per-pixel labels and the probability
// of each pixel's label, and on request every class's probability map and CLIP's dense features.
// A backend runs one image synchronously and hands back JavaScript arrays only: no tensor outlives
// the call, so an await between two calls can never leave a tensor to another request's scope.
import type { Tensor } from '../tensor/index.js';
import type { TextEmbedder } from '../models/clip/text_embedder.js';
import type { ModelKind } from './models.js';

export type Protocol = 'whole' | 'sliding';

export interface DenseFeatures {
  /** Row-major [h * w, D]: one D-dimensional CLIP feature per patch, in the text embedding space. */
  data: Float32Array;
  shape: [number, number];
  /** The patch grid [h, w] the rows come from. */
  grid: [number, number];
}

export interface DenseOutput {
  /** Class index per pixel, row-major. */
  labels: Int32Array;
  /** The probability of each pixel's class. */
  confidence: Float32Array;
  /** [T, H, W] row-major, when asked for. */
  probabilities?: Float32Array;
  features?: DenseFeatures;
}

export interface DenseBackend {
  readonly kind: ModelKind;
  /** The method's display name, e.g. "NACLIP+PAMR" or "CAT-Seg". */
  readonly method: string;
  readonly protocol: Protocol;
  /** Prompt templates each class name is filled into (their length bounds a class name). */
  readonly templates: readonly string[];
  readonly text: TextEmbedder;
  /** Bytes the largest tensors of one image take. */
  memoryBytes(height: number, width: number, numClasses: number): number;
  run(image: Tensor, classNames: string[], want: { probabilities: boolean; features: boolean }): DenseOutput;
  dispose(): void;
}

/** Labels, their probability and (on request) all probabilities from [T, H, W] scores in [0, 1]
 * and the label map [H, W] (integer). Call inside a tidy scope. */
export function denseOutput(probs: Tensor, labels: Tensor, wantProbabilities: boolean): DenseOutput {
  const idx = labels.long();
  const out: DenseOutput = {
    labels: idx.int().data<'int32'>(),
    confidence: probs.gather(0, idx.unsqueeze(0)).squeeze(0).float().data<'float32'>(),
  };
  if (wantProbabilities) out.probabilities = probs.float().contiguous().data<'float32'>();
  return out;
}

/** [1, n, D] or [n, D] patch features as a DenseFeatures. Call inside a tidy scope. */
export function featuresOutput(feats: Tensor, grid: [number, number]): DenseFeatures {
  const f = feats.rank === 3 ? feats.squeeze(0) : feats;
  return { data: f.float().contiguous().data<'float32'>(), shape: [f.size(0), f.size(1)], grid: [grid[0], grid[1]] };
}
