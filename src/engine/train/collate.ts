// Mapped samples -> one training batch of tensors (detectron2's trivial_batch_collator followed by
// CATSeg.forward's torch.stack of the labels: every sample of a batch must have one size).
import type { MappedSample } from '../../data/sample.js';
import { AhsError } from '../../errors.js';
import { fromBytes, tensor, type Tensor } from '../../tensor/index.js';

export interface CollateOptions {
  /** The dataset's ignore label, rewritten to the model's ignore value (e.g. 65535 -> 255). */
  datasetIgnore: number;
  modelIgnore: number;
}

export function collate(samples: MappedSample[], o: CollateOptions): { images: Tensor; labels: Tensor } {
  const first = samples[0];
  if (!first) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', 'collate: empty batch');
  const { width: W, height: H } = first;
  for (const s of samples) {
    if (s.width !== W || s.height !== H) {
      throw new AhsError('AHS_ERR_SHAPE', `training samples of one batch must have one size, got ${first.key} ${W}x${H} and ${s.key} ${s.width}x${s.height}; set INPUT.CROP.ENABLED True (absolute crop) and INPUT.SIZE_DIVISIBILITY to the crop size, as CAT-Seg's configs do`);
    }
  }
  const n = W * H;
  const img = new Uint8Array(samples.length * 3 * n);
  const lab = new Int32Array(samples.length * n);
  samples.forEach((s, b) => {
    img.set(s.image, b * 3 * n);
    const off = b * n;
    for (let i = 0; i < n; i++) {
      const v = s.label[i]!;
      lab[off + i] = v === o.datasetIgnore ? o.modelIgnore : v;
    }
  });
  const images = fromBytes(img, 'uint8', [samples.length, 3, H, W]);
  const labels32 = tensor(lab, { shape: [samples.length, H, W] });
  const labels = labels32.long();
  labels32.dispose();
  return { images, labels };
}
