// CAT-Seg's cosine cost volume (cat_seg/modeling/transformer/model.py, Aggregator.correlation and
// corr_embed) and the top-k class pruning that Aggregator.forward applies when there are more
// classes than `pad_len`: keep the classes with the largest cost anywhere in the image, run the
// head on those only, then scatter the logits back with -100 for every pruned class.
import { check, fmtShape } from '../../errors.js';
import type { Conv2d } from '../../nn/index.js';
import { einsum, full, tidy, type Tensor } from '../../tensor/index.js';

/** F.normalize(x, dim): x / max(||x||_2, eps). */
export function l2Normalize(x: Tensor, dim: number, eps = 1e-12): Tensor {
  return tidy(() => x.div(x.norm(2, dim, true).clamp(eps)));
}

/**
 * Cosine similarity of every pixel with every class prompt.
 * img (B, C, H, W) dense CLIP features, text (B, T, P, C) class embeddings -> corr (B, P, T, H, W).
 * Both sides are L2-normalised here, as the reference does.
 */
export function correlation(img: Tensor, text: Tensor): Tensor {
  check(img.rank === 4 && text.rank === 4 && img.size(0) === text.size(0) && img.size(1) === text.size(3), 'AHS_ERR_SHAPE',
    () => `correlation: expected img (B, C, H, W) and text (B, T, P, C) with the same B and C, got ${fmtShape(img.shape)} and ${fmtShape(text.shape)}`);
  return tidy(() => einsum('bchw,btpc->bpthw', l2Normalize(img, 1), l2Normalize(text, -1))); // (B, P, T, H, W)
}

/**
 * The 7x7 conv embedding of the cost volume (Aggregator.corr_embed):
 * corr (B, P, T, H, W) -> (B T) P H W -> conv1 -> (B, C, T, H, W).
 */
export function embedCost(conv1: Conv2d, corr: Tensor): Tensor {
  check(corr.rank === 5 && corr.size(1) === conv1.inChannels, 'AHS_ERR_SHAPE',
    () => `embedCost: corr must be (B, P=${conv1.inChannels}, T, H, W), got ${fmtShape(corr.shape)}`);
  const [B, P, T, H, W] = corr.shape as [number, number, number, number, number];
  return tidy(() => {
    const x = corr.permute([0, 2, 1, 3, 4]).reshape([B * T, P, H, W]); // (B T, P, H, W)
    const e = conv1.forward(x); // (B T, C, H, W)
    return e.view([B, T, conv1.outChannels, H, W]).permute([0, 2, 1, 3, 4]); // (B, C, T, H, W)
  });
}

/** max over (P, H, W) of the cost volume: the score the top-k pruning ranks classes by. (B, T) */
export function classCostMax(corr: Tensor): Tensor {
  return tidy(() => corr.permute([0, 2, 1, 3, 4]).flatten(-3).amax(-1)); // (B, T)
}

/**
 * The `k` classes per image with the largest cost maximum (B, k) int64, in ascending class order.
 * The reference calls topk(sorted=False), whose order is implementation-defined (the golden run
 * returned ascending order; libtorch 1.13.0's CPU quickselect returns another). The head is
 * equivariant to the class order, so sorting only makes the order deterministic.
 */
export function selectTopClasses(costMax: Tensor, k: number): Tensor {
  check(costMax.rank === 2 && k <= costMax.size(1), 'AHS_ERR_SHAPE',
    () => `selectTopClasses: need (B, T) scores with T >= k=${k}, got ${fmtShape(costMax.shape)}`);
  return tidy(() => costMax.topk(k, -1, true, false)[1].sort(-1)[0]); // (B, k)
}

/** Rows of x (B, T, ...) at classes (B, k) along dim 1 -> (B, k, ...). */
export function gatherClasses(x: Tensor, classes: Tensor): Tensor {
  check(x.rank >= 2 && classes.rank === 2 && classes.size(0) === x.size(0), 'AHS_ERR_SHAPE',
    () => `gatherClasses: x (B, T, ...) and classes (B, k) disagree: ${fmtShape(x.shape)} vs ${fmtShape(classes.shape)}`);
  return tidy(() => {
    const rest = x.shape.slice(2);
    const idx = classes.view([...classes.shape, ...rest.map(() => 1)]).expand([-1, -1, ...rest]);
    return x.gather(1, idx); // (B, k, ...)
  });
}

/**
 * Scatters per-kept-class logits (B, k, H, W) back to all `numClasses` classes; classes that were
 * pruned get `fill` (-100 in the reference, i.e. probability ~0 after the sigmoid).
 */
export function scatterClassLogits(logits: Tensor, classes: Tensor, numClasses: number, fill = -100): Tensor {
  check(logits.rank === 4 && classes.rank === 2 && logits.size(0) === classes.size(0) && logits.size(1) === classes.size(1), 'AHS_ERR_SHAPE',
    () => `scatterClassLogits: logits (B, k, H, W) and classes (B, k) disagree: ${fmtShape(logits.shape)} vs ${fmtShape(classes.shape)}`);
  const [B, , H, W] = logits.shape as [number, number, number, number];
  return tidy(() => {
    const idx = classes.view([B, classes.size(1), 1, 1]).expand([-1, -1, H, W]);
    return full([B, numClasses, H, W], fill, logits.dtype, logits.device).scatter(1, idx, logits); // (B, T, H, W)
  });
}
