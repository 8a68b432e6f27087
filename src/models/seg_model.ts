// The training contract every segmentation model meets (detectron2's: in training, forward returns
// a dict of named losses). The trainer sums the terms with weights the builder read from the
// config, logs each term, and never needs to know which model or which components it trains.
import type { LoadReport, Module } from '../nn/module.js';
import type { BackwardTape, Tensor } from '../tensor/index.js';

/** One training batch, already augmented: all images of one size. */
export interface TrainingBatch {
  /** RGB images [B, 3, H, W] on the 0..255 scale (uint8 or float). */
  images: Tensor;
  /** Class index per pixel [B, H, W] (int64); the model's ignore value marks unlabelled pixels. */
  labels: Tensor;
  /** The vocabulary the label values index (the text encoder's prompts). */
  classNames: string[];
}

/** What the trainer lends the model for one forward/backward. */
export interface TrainingContext {
  /** Staged backward for activation checkpointing; the trainer calls tape.backward(total). */
  tape?: BackwardTape;
}

export interface TrainingOutput {
  /** Per-class logits [B, T, h, w] at the model's output resolution. */
  logits: Tensor;
  /** Named scalar losses: `loss_sem_seg`, and one term per component that adds one
   * (`loss_energy`, `loss_boundary`, `loss_contrastive`). Unweighted: the weights are config. */
  losses: Record<string, Tensor>;
}

/** Scores per pixel for evaluation: the class index map [H, W] of a uint8 image [3, H, W]. */
export interface PixelLabeler {
  labels(image: Tensor, classNames: string[]): Tensor;
}

export interface SegmentationModel extends Module {
  forwardTrain(batch: TrainingBatch, ctx?: TrainingContext): TrainingOutput;
  /** Trainable tensors by state-dict name (the optimizer's groups are chosen by name). */
  trainableParameters(): [string, Tensor][];
}

export type InferenceProtocolName = 'sliding' | 'whole';

/** What a registered builder returns: the model plus what only the config knows about it. */
export interface BuiltModel<M extends SegmentationModel = SegmentationModel> {
  model: M;
  /** Weight of every loss term the model can return (a term without a weight is an error). */
  lossWeights: Record<string, number>;
  /** What the user should know about this configuration (printed once when the model is built). */
  warnings?: string[];
  /** The pretrained backbone a run starts from when MODEL.WEIGHTS is empty: a hub name or a
   * weights file, and how to load the resolved file into the model. */
  pretrained: { source: string; load(path: string): LoadReport };
  /** Loads a checkpoint of this model family (CAT-Seg/H-CLIP .pth, ahs-seg .safetensors). */
  loadCheckpoint(path: string, opts?: { strict?: boolean }): LoadReport & { text: string };
  /** The evaluation predictor for a protocol, configured from the config's TEST keys. */
  predictor(protocol: InferenceProtocolName): PixelLabeler;
}
