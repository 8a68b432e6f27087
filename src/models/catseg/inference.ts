// CAT-Seg's inference protocols on one image (cat_seg_model.py):
//  - 'sliding' (inference_sliding_window, what eval.sh reports): resize to 640x640, four 384 crops
//    at stride int(384 * (1 - 0.333)) = 256 plus one global view resized to 384, sigmoid per view
//    after upsampling to 384, crops folded back and divided by their overlap count, averaged
//    with the global view, resized to the image;
//  - 'whole' (the validation path during training): CLIP-normalise, zero-pad to a multiple of
//    32, resize to the CLIP input, sigmoid, resize the 96x96 map to the image.
// Per-class maps at image size are produced a chunk of classes at a time, so memory stays
// bounded for ADE-847; the arg-max label map is accumulated chunk by chunk.
import { AhsError, fmtShape } from '../../errors.js';
import { cat, interpolate, keep, noGrad, pad, tidy, where, zeros, type Tensor } from '../../tensor/index.js';
import type { CATSeg } from './catseg_model.js';
// The same ResizeShortestEdge arithmetic as the training mapper (a pure function, no data I/O).
import { shortestEdgeOutputShape } from '../../data/transforms/resize_shortest_edge.js';

export type InferenceProtocol = 'sliding' | 'whole';

export interface CatSegInferenceOptions {
  protocol?: InferenceProtocol;
  /** Size the image is resized to before cropping (TEST.SLIDING_WINDOW_RESOLUTION). */
  slidingResolution?: [number, number];
  /** Crop overlap (CAT-Seg's 0.333). */
  overlap?: number;
  /** Zero-padding multiple of the whole-image protocol (MODEL.MASK_FORMER.SIZE_DIVISIBILITY). */
  sizeDivisibility?: number;
  /** Classes per chunk when producing image-size maps. */
  outputClassChunk?: number;
  /** 'whole': detectron2's test mapper first resizes the shortest edge to minSize (longest edge
   * at most maxSize; INPUT.MIN_SIZE_TEST / MAX_SIZE_TEST, 0 = no resize). The probabilities are
   * resized back to the image's own size either way. */
  testResize?: { minSize: number; maxSize: number };
}

/** Top-left corners of k x k crops at `stride` over `size` (nn.Unfold's positions). */
export function cropStarts(size: number, kernel: number, stride: number): number[] {
  if (size < kernel) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `sliding window: resolution ${size} is smaller than the crop ${kernel}`);
  return Array.from({ length: Math.floor((size - kernel) / stride) + 1 }, (_, i) => i * stride);
}

export class CatSegPredictor {
  readonly protocol: InferenceProtocol;
  constructor(readonly model: CATSeg, readonly opts: CatSegInferenceOptions = {}) {
    this.protocol = opts.protocol ?? 'sliding';
  }

  /** Logits at view resolution and how to fold them: one [V, T, h, w] batch of views. */
  private viewLogits(image: Tensor, text: Tensor): Tensor {
    const S = this.model.opts.clipInputSize;
    return tidy(() => {
      const img = image.float().unsqueeze(0); // (1, 3, H, W) on 0..255
      let views: Tensor;
      if (this.protocol === 'sliding') {
        const [rh, rw] = this.opts.slidingResolution ?? [640, 640];
        const stride = Math.trunc(S * (1 - (this.opts.overlap ?? 0.333)));
        const big = interpolate(img, { size: [rh, rw], mode: 'bilinear', alignCorners: false });
        const crops: Tensor[] = [];
        for (const y of cropStarts(rh, S, stride)) for (const x of cropStarts(rw, S, stride)) crops.push(big.narrow(2, y, S).narrow(3, x, S));
        const global = interpolate(img, { size: [S, S], mode: 'bilinear', alignCorners: false });
        views = this.model.normalize(cat([...crops, global], 0)); // (V, 3, S, S)
      } else {
        const div = this.opts.sizeDivisibility ?? 32;
        const n = this.model.normalize(this.testResized(img));
        const [H, W] = [n.size(2), n.size(3)]; // padded at the resized size
        const padded = pad(n, [0, (div - (W % div)) % div, 0, (div - (H % div)) % div]);
        views = interpolate(padded, { size: [S, S], mode: 'bilinear', alignCorners: false });
      }
      return this.model.forwardViews(views, text); // (V, T, 4g, 4g)
    });
  }

  /** The test mapper's ResizeShortestEdge on a (1, 3, H, W) 0..255 image, rounded to uint8 values
   * as PIL's bilinear resize returns them (PIL also antialiases when shrinking; this does not). */
  private testResized(img: Tensor): Tensor {
    const r = this.opts.testResize;
    if (!r || r.minSize <= 0) return img;
    const [h, w] = [img.size(2), img.size(3)];
    const [nh, nw] = shortestEdgeOutputShape(h, w, r.minSize, r.maxSize);
    if (nh === h && nw === w) return img;
    return tidy(() => interpolate(img, { size: [nh, nw], mode: 'bilinear', alignCorners: false }).round().clamp(0, 255));
  }

  /** Probabilities [c, H, W] for classes [start, start + c) from the view logits. */
  private mapChunk(logits: Tensor, start: number, count: number, H: number, W: number): Tensor {
    const S = this.model.opts.clipInputSize;
    return tidy(() => {
      const l = logits.narrow(1, start, count); // (V, c, h, w)
      if (this.protocol === 'whole') {
        // sem_seg_postprocess: the map covers the padded image; resize it whole to the image size.
        return interpolate(l.sigmoid(), { size: [H, W], mode: 'bilinear', alignCorners: false }).squeeze(0);
      }
      const [rh, rw] = this.opts.slidingResolution ?? [640, 640];
      const stride = Math.trunc(S * (1 - (this.opts.overlap ?? 0.333)));
      const probs = interpolate(l, { size: [S, S], mode: 'bilinear', alignCorners: false }).sigmoid(); // (V, c, S, S)
      const ys = cropStarts(rh, S, stride), xs = cropStarts(rw, S, stride);
      // nn.Fold: crops summed in place onto the canvas, divided by how many crops cover a pixel.
      const sum = zeros([count, rh, rw], probs.dtype, probs.device);
      const cnt = zeros([1, rh, rw], probs.dtype, probs.device);
      let v = 0;
      for (const y of ys) for (const x of xs) {
        sum.narrow(1, y, S).narrow(2, x, S).add_(probs.select(0, v++));
        cnt.narrow(1, y, S).narrow(2, x, S).add_(1);
      }
      const global = interpolate(probs.narrow(0, v, 1), { size: [rh, rw], mode: 'bilinear', alignCorners: false }).squeeze(0);
      const merged = sum.div(cnt).add(global).div(2).unsqueeze(0); // (1, c, rh, rw)
      return interpolate(merged, { size: [H, W], mode: 'bilinear', alignCorners: false }).squeeze(0);
    });
  }

  private run<R>(image: Tensor, classNames: string[], each: (probs: Tensor, start: number) => void, done: () => R): R {
    if (image.rank !== 3 || image.size(0) !== 3) throw new AhsError('AHS_ERR_SHAPE', `CAT-Seg: image must be [3, H, W], got ${fmtShape(image.shape)}`);
    const [H, W] = [image.size(1), image.size(2)];
    return noGrad(() => tidy(() => {
      const logits = this.viewLogits(image.to(this.model.device), this.model.classEmbeddings(classNames));
      const T = classNames.length;
      const chunk = this.opts.outputClassChunk ?? 32;
      for (let s = 0; s < T; s += chunk) tidy(() => each(this.mapChunk(logits, s, Math.min(chunk, T - s), H, W), s));
      return done();
    }));
  }

  /** Per-class probabilities [T, H, W] (memory T x H x W floats: for small vocabularies). */
  probabilities(image: Tensor, classNames: string[]): Tensor {
    const parts: Tensor[] = [];
    try {
      return this.run(image, classNames, (p) => { parts.push(keep(p.clone())); }, () => cat(parts, 0).to('cpu'));
    } finally {
      for (const p of parts) p.dispose();
    }
  }

  /** The arg-max class per pixel [H, W] (int64), without holding all class maps at once. */
  labels(image: Tensor, classNames: string[]): Tensor {
    return tidy(() => this.labelsWithConfidence(image, classNames).labels);
  }

  /** The arg-max class [H, W] (int64) and its probability [H, W], one class chunk at a time. */
  labelsWithConfidence(image: Tensor, classNames: string[]): { labels: Tensor; confidence: Tensor } {
    // Running maximum over class chunks; ties keep the earlier class, as a single arg-max does.
    let best: Tensor | null = null;
    let arg: Tensor | null = null;
    try {
      return this.run(image, classNames, (p, start) => {
        const [v, i] = p.maxDim(0); // (H, W)
        const idx = i.add(start);
        const nb = best ? best.maximum(v) : v;
        const na = best && arg ? where(v.gt(best), idx, arg) : idx;
        best?.dispose(); arg?.dispose();
        best = keep(nb); arg = keep(na);
      }, () => ({ labels: arg!.clone().to('cpu'), confidence: best!.clone().to('cpu') })); // results on the CPU, whatever the model's device
    } finally {
      (best as Tensor | null)?.dispose();
      (arg as Tensor | null)?.dispose();
    }
  }

}
