// CAT-Seg's MaskFormerSemanticDatasetMapper (training augmentation) over plain typed arrays, for
// worker threads: ResizeShortestEdge -> RandomCrop_CategoryAreaConstraint (CROP.ENABLED) ->
// ColorAugSSDTransform (COLOR_AUG_SSD) -> RandomFlip -> pad to SIZE_DIVISIBILITY, bit-exact with
// the reference's PIL / torch / OpenCV arithmetic (see transforms/*.ts).
// The crop window is chosen before any pixel is resized (the area constraint reads the resized
// labels through index maps), and only that window is resized: same bytes, a fraction of the work.
// All randomness comes from `rng`, drawn in pipeline order: short edge, crop, colour, flip.
import type { AhsConfig } from '../config/index.js';
import { AhsError, check } from '../errors.js';
import type { Rng } from './rng.js';
import type { MappedSample, RawSample } from './sample.js';
import { colorAugSsd } from './transforms/color_aug_ssd.js';
import { flipPadToChw, type Flip } from './transforms/geometry.js';
import { gatherNearest, nearestIndexMap, resizeBilinearPil, type Window } from './transforms/pil_resize.js';
import { chooseCrop, type CropSpec } from './transforms/random_crop.js';
import { sampleShortEdge, shortestEdgeOutputShape } from './transforms/resize_shortest_edge.js';

/** Plain data (structured-clonable): what the mapper needs, read from the config once. */
export interface SemanticMapperOptions {
  minSizeTrain: number[];
  minSizeTrainSampling: 'choice' | 'range';
  maxSizeTrain: number;
  /** null: no crop. `ignoredCategory` defaults to `ignoreLabel`. */
  crop: null | CropSpec;
  colorAugSsd: boolean;
  flip: 'horizontal' | 'vertical' | 'none';
  /** Pad (or cut) to exactly this square size; <= 0: off. */
  sizeDivisibility: number;
  /** Label written into padding. */
  ignoreLabel: number;
}

/**
 * One training sample through the augmentation. Rng draws: sampleShortEdge; chooseCrop (when
 * crop); colorAugSsd (when colorAugSsd); random() < 0.5 flips (when flip is not 'none').
 * @example mapSemanticSample(raw640x480, opts, Rng.for(seed, epoch, index)) // 384x384 CHW + labels
 */
export function mapSemanticSample(raw: RawSample, opts: SemanticMapperOptions, rng: Rng): MappedSample {
  const { key, width: w, height: h } = raw;
  check(Number.isInteger(w) && Number.isInteger(h) && w > 0 && h > 0, 'AHS_ERR_SHAPE', () =>
    `sample ${key}: width and height must be positive integers, got ${w}x${h}`);
  check(raw.image.length === w * h * 3, 'AHS_ERR_SHAPE', () =>
    `sample ${key}: image has ${raw.image.length} bytes, expected ${w}x${h}x3 = ${w * h * 3}`);
  check(raw.label.length === w * h, 'AHS_ERR_SHAPE', () =>
    `sample ${key}: label map has ${raw.label.length} values but the image is ${w}x${h} (${w * h})`);

  const short = sampleShortEdge(opts.minSizeTrain, opts.minSizeTrainSampling, rng);
  const [nh, nw] = shortestEdgeOutputShape(h, w, short, opts.maxSizeTrain);
  const cols = nearestIndexMap(w, nw), rows = nearestIndexMap(h, nh);

  let win: Window = { x: 0, y: 0, width: nw, height: nh };
  if (opts.crop) {
    const spec = { ...opts.crop, ignoredCategory: opts.crop.ignoredCategory ?? opts.ignoreLabel };
    win = chooseCrop(spec, { data: raw.label, stride: w, cols, rows }, rng);
  }
  const image = resizeBilinearPil(raw.image, w, h, 3, nw, nh, win); // (ch, cw, 3)
  const label = gatherNearest(raw.label, w, cols, rows, win); // (ch, cw)

  if (opts.colorAugSsd) colorAugSsd(image, win.width, win.height, rng);
  const flip: Flip = opts.flip !== 'none' && rng.random() < 0.5 ? opts.flip : null;
  const out = flipPadToChw(image, label, win.width, win.height, flip, opts.sizeDivisibility, opts.ignoreLabel);
  return { key, width: out.width, height: out.height, image: out.image, label: out.label };
}

/**
 * The mapper's options from the config: INPUT.* as CAT-Seg's from_config reads them. The crop
 * constraint ignores MODEL.SEM_SEG_HEAD.IGNORE_VALUE (as CAT-Seg passes it), the padding uses
 * `ignoreLabel` (CAT-Seg: the training dataset's ignore_label; default IGNORE_VALUE).
 */
export function semanticMapperOptionsFromConfig(cfg: AhsConfig, ignoreLabel?: number): SemanticMapperOptions {
  const inp = cfg.INPUT;
  const cfgIgnore = cfg.MODEL.SEM_SEG_HEAD.IGNORE_VALUE;
  const ignore = ignoreLabel ?? cfgIgnore;
  const bad = (key: string, msg: string): never => {
    throw new AhsError('AHS_ERR_CONFIG_VALUE', `${key} ${msg}`);
  };
  const isLabel = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 65535;

  if (inp.FORMAT !== 'RGB') {
    bad('INPUT.FORMAT', `must be 'RGB' for training (CAT-Seg's CLIP backbone takes RGB), got '${inp.FORMAT}'`);
  }
  const sizes = [...inp.MIN_SIZE_TRAIN];
  if (sizes.length === 0 || !sizes.every((s) => Number.isInteger(s) && s > 0)) {
    bad('INPUT.MIN_SIZE_TRAIN', `must be a non-empty list of positive integers, got [${sizes.join(', ')}]`);
  }
  const sampling = inp.MIN_SIZE_TRAIN_SAMPLING;
  if (sampling === 'range' && (sizes.length !== 2 || sizes[0]! > sizes[1]!)) {
    bad('INPUT.MIN_SIZE_TRAIN', `must be (min, max) with min <= max when INPUT.MIN_SIZE_TRAIN_SAMPLING is 'range', got [${sizes.join(', ')}]`);
  }
  if (!Number.isInteger(inp.MAX_SIZE_TRAIN) || inp.MAX_SIZE_TRAIN <= 0) {
    bad('INPUT.MAX_SIZE_TRAIN', `must be a positive integer, got ${inp.MAX_SIZE_TRAIN}`);
  }
  if (!Number.isInteger(inp.SIZE_DIVISIBILITY)) bad('INPUT.SIZE_DIVISIBILITY', `must be an integer, got ${inp.SIZE_DIVISIBILITY}`);
  if (!isLabel(cfgIgnore)) bad('MODEL.SEM_SEG_HEAD.IGNORE_VALUE', `must be an integer in [0, 65535], got ${cfgIgnore}`);
  check(isLabel(ignore), 'AHS_ERR_INVALID_ARGUMENT', () =>
    `semanticMapperOptionsFromConfig: ignoreLabel must be an integer in [0, 65535], got ${ignore}`);

  let crop: CropSpec | null = null;
  if (inp.CROP.ENABLED) {
    const type = inp.CROP.TYPE;
    const size = [...inp.CROP.SIZE];
    if (size.length !== 2) bad('INPUT.CROP.SIZE', `must be two values (H, W), got [${size.join(', ')}]`);
    const [a, b] = size as [number, number];
    if (type === 'relative' || type === 'relative_range') {
      if (!(a > 0 && a <= 1 && b > 0 && b <= 1)) {
        bad('INPUT.CROP.SIZE', `must be two fractions in (0, 1] for INPUT.CROP.TYPE '${type}', got [${a}, ${b}]`);
      }
    } else if (!(Number.isInteger(a) && Number.isInteger(b) && a > 0 && b > 0)) {
      bad('INPUT.CROP.SIZE', `must be two positive integers (pixels) for INPUT.CROP.TYPE '${type}', got [${a}, ${b}]`);
    } else if (type === 'absolute_range' && a > b) {
      bad('INPUT.CROP.SIZE', `must be (min, max) with min <= max for INPUT.CROP.TYPE 'absolute_range', got [${a}, ${b}]`);
    }
    const area = inp.CROP.SINGLE_CATEGORY_MAX_AREA;
    if (!(area > 0 && area <= 1)) bad('INPUT.CROP.SINGLE_CATEGORY_MAX_AREA', `must be in (0, 1], got ${area}`);
    crop = { type, size: [a, b], singleCategoryMaxArea: area, ignoredCategory: cfgIgnore };
  }

  return {
    minSizeTrain: sizes,
    minSizeTrainSampling: sampling,
    maxSizeTrain: inp.MAX_SIZE_TRAIN,
    crop,
    colorAugSsd: inp.COLOR_AUG_SSD,
    // CAT-Seg's mapper builds T.RandomFlip() (horizontal, p = 0.5) whatever INPUT.RANDOM_FLIP says;
    // the key's default is 'horizontal', so only an explicit override departs from it.
    flip: inp.RANDOM_FLIP,
    sizeDivisibility: inp.SIZE_DIVISIBILITY,
    ignoreLabel: ignore,
  };
}
