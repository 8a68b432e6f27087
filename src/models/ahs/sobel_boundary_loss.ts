// The original AHS-Seg boundary loss, kept for fidelity as BOUNDARY_MODE sobel_ahs
// (ZhaoYi-10-13/AHS-Seg@5b17427, cat_seg/modeling/multi_scale_fusion.py: MultiScaleBoundaryLoss
// with scales [1, 0.5] and weights [1, 0.5] as EnhancedCATSeg builds it, over BoundaryAwareLoss).
// Followed step by step:
//  - EnhancedCATSeg resizes the logits to the label size (bilinear, align_corners false) first;
//  - scale 1 uses those logits and labels; scale 0.5 resizes the logits to (int(H/2), int(W/2))
//    bilinearly and the labels (as float) with nearest;
//  - per scale: Sobel-x and Sobel-y (3x3, zero padding 1) of sigmoid(logits) per class channel and
//    of the class-INDEX map, magnitude sqrt(gx^2 + gy^2 + 1e-8), each divided by (its max over the
//    whole batch + 1e-8), then F.binary_cross_entropy (mean over B T H W; logs clamped at -100)
//    of the prediction edges against the index-map edges broadcast to every class;
//  - total = (1 L_1 + 0.5 L_0.5) / 1.5. (BOUNDARY_LOSS_WEIGHT is applied by the model.)
// Where it is ill-posed, kept as is:
//  - the index-map edge strength is |label difference| (class 3 next to 40 is a stronger edge
//    than 3 next to 4), and ignore pixels keep their raw value 255, so ignore regions make the
//    strongest "edges" of all; the zero padding makes an edge along the image border of any
//    non-zero class;
//  - every class channel is pushed to the same class-agnostic edge map;
//  - the global max couples all images and classes, and at the argmax pixel the normalised
//    prediction is 1 in float32, where BCE's gradient is (1 - y) / 1e-12 (ATen's clamp);
//  - the sqrt floor 1e-4 makes flat regions targets of 1e-4 / max, not 0.
// ignoreValue is used only to validate the labels as CAT-Seg's loss does; the original has no ignore handling.
import { AhsError, check, fmtShape } from '../../errors.js';
import { aten, conv2d, interpolate, tensor, tidy, type Tensor } from '../../tensor/index.js';

export interface SobelBoundaryLossOptions {
  /** Label value of pixels without a class (255): allowed besides [0, T). */
  ignoreValue?: number;
}

const SCALES: readonly [number, number][] = [[1, 1], [0.5, 0.5]]; // (scale, weight), as EnhancedCATSeg sets them

/** F.binary_cross_entropy (mean), through ATen so that its -100 log clamp and backward are PyTorch's. */
function binaryCrossEntropy(p: Tensor, y: Tensor): Tensor {
  return aten('aten::binary_cross_entropy').t([p, y, null, 1]);
}

/** Sobel gradient magnitude of every channel: x (B, C, H, W) -> (B, C, H, W). */
export function sobelMagnitude(x: Tensor): Tensor {
  return tidy(() => {
    const [B, C, H, W] = x.shape as [number, number, number, number];
    const kernels = tensor([
      [-1, 0, 1], [-2, 0, 2], [-1, 0, 1], // sobel_x
      [-1, -2, -1], [0, 0, 0], [1, 2, 1], // sobel_y
    ], { dtype: x.dtype, device: x.device }).view([2, 1, 3, 3]);
    const g = conv2d(x.reshape([B * C, 1, H, W]), kernels, null, 1, 1); // (B C, 2, H, W): gx, gy
    return g.mul(g).sum(1).add(1e-8).sqrt().view([B, C, H, W]);
  });
}

/** BoundaryAwareLoss.forward: pred logits (B, T, H, W), labels (B, H, W) at the same size -> scalar. */
function boundaryAware(pred: Tensor, labels: Tensor): Tensor {
  return tidy(() => {
    const predEdges = sobelMagnitude(pred.sigmoid()); // (B, T, H, W)
    const labelEdges = sobelMagnitude(labels.toDType(pred.dtype).unsqueeze(1)); // (B, 1, H, W)
    const p = predEdges.div(predEdges.amax().add(1e-8));
    const y = labelEdges.div(labelEdges.amax().add(1e-8));
    return binaryCrossEntropy(p, y.expand(p.shape));
  });
}

/** logits (B, T, h, w), labels (B, H, W) integer class indices -> the AHS-Seg multi-scale Sobel loss (scalar). */
export function sobelBoundaryLoss(logits: Tensor, labels: Tensor, o: SobelBoundaryLossOptions = {}): Tensor {
  check(logits.rank === 4 && labels.rank === 3 && logits.size(0) === labels.size(0), 'AHS_ERR_SHAPE',
    () => `sobelBoundaryLoss: expected logits (B, T, h, w) and labels (B, H, W), got ${fmtShape(logits.shape)} and ${fmtShape(labels.shape)}`);
  const ignore = o.ignoreValue ?? 255;
  const T = logits.size(1);
  const [H, W] = [labels.size(1), labels.size(2)];
  return tidy(() => {
    const lab = labels.long();
    const known = lab.maskedFill(lab.eq(ignore), 0);
    const lo = known.amin().item(), hi = known.amax().item();
    if (lo < 0 || hi >= T) {
      throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `sobelBoundaryLoss: labels must be in [0, ${T}) or ${ignore} (ignore), found values in [${lo}, ${hi}]`);
    }
    // compute_edges works in float32 (x.float()); float64 stays float64 so that gradients can be checked.
    const dtype = logits.dtype === 'float64' ? 'float64' : 'float32';
    const pred = interpolate(logits.toDType(dtype), { size: [H, W], mode: 'bilinear', alignCorners: false }); // (B, T, H, W)
    let total: Tensor | null = null;
    let weights = 0;
    for (const [scale, weight] of SCALES) {
      let p = pred, y = lab;
      if (scale !== 1) {
        const size: [number, number] = [Math.floor(H * scale), Math.floor(W * scale)];
        check(size[0] > 0 && size[1] > 0, 'AHS_ERR_SHAPE', () => `sobelBoundaryLoss: labels ${H}x${W} are too small for scale ${scale}`);
        p = interpolate(pred, { size, mode: 'bilinear', alignCorners: false });
        y = interpolate(lab.toDType(dtype).unsqueeze(1), { size, mode: 'nearest' }).squeeze(1).long();
      }
      const l = boundaryAware(p, y).mul(weight);
      total = total ? total.add(l) : l;
      weights += weight;
    }
    return total!.div(weights);
  });
}
