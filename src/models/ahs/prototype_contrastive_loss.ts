// DC-HSP's auxiliary loss, `loss_contrastive` (method-spec 4.4 and 5.3): a prototype-to-text
// InfoNCE. Labels are brought down to the feature grid by MODE, each class present in the batch
// gets one prototype (the mean of the dense features of its cells, L2-normalised), and every
// prototype must pick its own class's text embedding among the present classes:
//
//   L = mean_k  -log softmax_j( <p_k, t'_j> / temperature )[k]     k, j over the present classes
//
// Fixes to the AHS code (ClassContrastiveLoss): ignore pixels are excluded (the original relabels
// them as class 0), labels are downsampled to the grid (the original indexes the grid with the
// full-resolution label map), and the text side is DC-HSP's output t'.
import { AhsError, check, fmtShape } from '../../errors.js';
import { arange, crossEntropy, full, tensor, tidy, zeros, type Tensor } from '../../tensor/index.js';
import { l2Normalize } from '../catseg/cost_volume.js';

export interface PrototypeContrastiveOptions {
  /** Softmax temperature (0.1). */
  temperature?: number;
  /** Label value of pixels without a class (255). */
  ignoreValue?: number;
}

/** For each of n output cells along an axis of `size` pixels, pixel i belongs to the cell holding
 * its centre: floor((i + 0.5) n / size), in integers. A centre on a boundary goes to the later
 * cell; when size is a multiple of n this is the plain block partition. */
function cellOf(size: number, n: number): number[] {
  return Array.from({ length: size }, (_, i) => Math.floor(((2 * i + 1) * n) / (2 * size)));
}

/** Checks integer labels are ignoreValue or >= 0; returns the largest valid label (-1 if none). */
function maxValidLabel(labels: Tensor, ignoreValue: number, what: string): number {
  return tidy(() => {
    const lab = labels.long();
    const valid = lab.ne(ignoreValue);
    if (!valid.any().item()) return -1;
    const lo = lab.maskedFill(valid.logicalNot(), 0).amin().item();
    if (lo < 0) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${what}: labels must be >= 0 or ${ignoreValue} (ignore), found ${lo}`);
    return lab.maskedFill(valid.logicalNot(), -1).amax().item();
  });
}

/**
 * Labels (B, H, W) integer -> (B, gh, gw) int64: each cell takes the most frequent label among
 * its VALID pixels (pixels are assigned to cells by their centre, see cellOf; ignore pixels do not
 * vote); ties go to the smallest class id; a cell with no valid pixel is ignoreValue.
 */
export function modeDownsample(labels: Tensor, grid: [number, number], ignoreValue = 255): Tensor {
  check(labels.rank === 3, 'AHS_ERR_SHAPE', () => `modeDownsample: labels must be (B, H, W), got ${fmtShape(labels.shape)}`);
  const [gh, gw] = grid;
  check(Number.isInteger(gh) && Number.isInteger(gw) && gh > 0 && gw > 0, 'AHS_ERR_INVALID_ARGUMENT',
    () => `modeDownsample: grid must be two positive integers, got ${JSON.stringify(grid)}`);
  const [B, H, W] = labels.shape as [number, number, number];
  const G = gh * gw;
  const maxLabel = maxValidLabel(labels, ignoreValue, 'modeDownsample');
  return tidy(() => {
    if (maxLabel < 0) return full([B, gh, gw], ignoreValue, 'int64', labels.device);
    const K = maxLabel + 1;
    const rows = cellOf(H, gh), cols = cellOf(W, gw);
    const cellIds = new BigInt64Array(H * W);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) cellIds[y * W + x] = BigInt(rows[y]! * gw + cols[x]!);
    const cell = tensor(cellIds, { shape: [1, H, W], device: labels.device }); // (1, H, W)
    const lab = labels.long();
    const valid = lab.ne(ignoreValue); // (B, H, W)
    const known = lab.maskedFill(valid.logicalNot(), 0);
    const batch = arange(0, B, 1, 'int64', labels.device).view([B, 1, 1]);
    const bin = batch.mul(G).add(cell).mul(K).add(known); // (B, H, W): index of (b, cell, label) in the histogram
    const counts = zeros([B * G * K], 'int64', labels.device)
      .scatterAdd(0, bin.flatten(), valid.long().flatten())
      .view([B, G, K]); // valid pixels of each label in each cell
    const mode = counts.argmax(-1); // (B, G); the first maximum, i.e. the smallest id on ties
    return mode.maskedFill(counts.sum(-1).eq(0), ignoreValue).view([B, gh, gw]);
  });
}

/**
 * features (B, D, gh, gw): dense CLIP features on the feature grid (CLS dropped), L2-normalised
 * along D as the cost volume sees them (used as given); labels (B, H, W) integer at label
 * resolution, covering the same field of view as the grid; text (T, P, D): class embeddings
 * (DC-HSP's t'), the template mean of each class is L2-normalised. -> scalar loss.
 *
 * The present classes are those that are the mode of at least one cell over the whole batch.
 * With fewer than two the InfoNCE is trivially 0 (a softmax over one class); the result is then
 * a zero scalar connected to the inputs that require grad, so backward() still runs.
 */
export function prototypeContrastiveLoss(features: Tensor, labels: Tensor, text: Tensor, opts: PrototypeContrastiveOptions = {}): Tensor {
  check(features.rank === 4 && labels.rank === 3 && labels.size(0) === features.size(0), 'AHS_ERR_SHAPE',
    () => `prototypeContrastiveLoss: expected features (B, D, gh, gw) and labels (B, H, W) with the same B, got ${fmtShape(features.shape)} and ${fmtShape(labels.shape)}`);
  check(text.rank === 3 && text.size(2) === features.size(1), 'AHS_ERR_SHAPE',
    () => `prototypeContrastiveLoss: text embeddings must be (T, P, D=${features.size(1)}), got ${fmtShape(text.shape)}`);
  const temperature = opts.temperature ?? 0.1;
  const ignore = opts.ignoreValue ?? 255;
  check(temperature > 0 && Number.isFinite(temperature), 'AHS_ERR_INVALID_ARGUMENT',
    () => `prototypeContrastiveLoss: option 'temperature' must be a positive number, got ${temperature}`);
  const [B, D, gh, gw] = features.shape as [number, number, number, number];
  const T = text.size(0);
  const maxLabel = maxValidLabel(labels, ignore, 'prototypeContrastiveLoss');
  if (maxLabel >= T) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `prototypeContrastiveLoss: labels must be in [0, ${T}) (one per class embedding) or ${ignore} (ignore), found ${maxLabel}`);
  }
  return tidy(() => {
    const cellLab = modeDownsample(labels, [gh, gw], ignore).view([B * gh * gw]); // (N)
    const present = [...new Set(cellLab.toArray())].filter((k) => k !== ignore).sort((a, b) => a - b);
    if (present.length < 2) return zeroWithGraph(features, text);
    const ids = tensor(BigInt64Array.from(present, BigInt), { device: features.device }); // (K)
    const member = cellLab.unsqueeze(1).eq(ids.unsqueeze(0)).toDType(features.dtype); // (N, K) one-hot of each cell's class
    const f = features.permute([0, 2, 3, 1]).reshape([B * gh * gw, D]); // (N, D)
    const mean = member.transpose(0, 1).matmul(f).div(member.sum(0).unsqueeze(1)); // (K, D) mean feature per class
    const proto = l2Normalize(mean, -1);
    const txt = l2Normalize(text.mean(1), -1).indexSelect(0, ids); // (K, D)
    const logits = proto.matmul(txt.transpose(0, 1)).div(temperature); // (K, K)
    return crossEntropy(logits, arange(0, present.length, 1, 'int64', features.device));
  });
}

/** +0 that back-propagates (zero gradients) into whichever inputs require grad (the sums times 0
 * are added to a +0 so that a negative sum does not make it -0). */
function zeroWithGraph(...xs: Tensor[]): Tensor {
  return xs.filter((x) => x.requiresGrad).reduce((acc, x) => acc.add(x.sum().mul(0)), zeros([], xs[0]!.dtype, xs[0]!.device));
}
