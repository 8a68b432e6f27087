// THE config schema: every key ahs-seg reads, declared once with its type, default and one line of
// doc. Ported keys keep detectron2's names and defaults (`detectron2/config/defaults.py`, plus
// `add_deeplab_config`) as overridden by CAT-Seg's `add_cat_seg_config` (cat_seg/config.py), so
// CAT-Seg / H-CLIP / AHS-Seg YAML files load unchanged. Only keys some port of those models uses are
// here (no RPN/ROI heads, no Swin backbone): an unported key is an error, not a silent no-op.
// Keys marked "[ahs-seg]" are ours: constants the reference hard-codes, or the AHS switches.
// docs/config-keys.md is generated from this file (tools/gen_config_docs.ts).

import { CfgNode, type TypedCfg } from './cfg_node.js';
import { bool, float, floats, int, ints, oneOf, section, str, strs } from './schema.js';

export const SCHEMA = section('Root of the ahs-seg config.', {
  VERSION: int(2, 'detectron2 config format version; kept so dumped configs match detectron2 ones.'),

  MODEL: section('Model architecture and weights.', {
    META_ARCHITECTURE: str('CATSeg', 'Registered model builder (detectron2 default GeneralizedRCNN does not exist here).'),
    WEIGHTS: str('', 'Checkpoint to load (.pth / .safetensors); empty = CLIP weights only.'),
    DEVICE: str('cuda', 'Device to run on: cuda, cuda:N or cpu (detectron2 default).'),
    PIXEL_MEAN: floats([103.53, 116.28, 123.675], 'Image mean, 0-255 (detectron2 BGR default). No effect: CAT-Seg normalises a copy with it that nothing reads; CLIP_PIXEL_MEAN applies.', 3),
    PIXEL_STD: floats([1.0, 1.0, 1.0], 'Image std, 0-255. No effect, as PIXEL_MEAN; CLIP_PIXEL_STD applies.', 3),
    CLIP_PIXEL_MEAN: floats([122.7709383, 116.7460125, 104.09373615], 'CLIP input mean, RGB 0-255 (OpenAI CLIP).', 3, { min: 0, max: 255 }),
    CLIP_PIXEL_STD: floats([68.5005327, 66.6321579, 70.323163], 'CLIP input std, RGB 0-255 (OpenAI CLIP).', 3, { min: 0.001, max: 255 }),
    PROMPT_ENSEMBLE: bool(false, 'Unused by CAT-Seg; declared so its configs load (PROMPT_ENSEMBLE_TYPE decides).'),
    PROMPT_ENSEMBLE_TYPE: oneOf(
      ['single', 'imagenet', 'imagenet_select'],
      'single',
      "Text templates: 'A photo of a {} in the scene' (1), ImageNet-80 or ImageNet-select-8.",
    ),

    MASK_FORMER: section('MaskFormer keys CAT-Seg inherits.', {
      SIZE_DIVISIBILITY: int(32, 'Pad model inputs to a multiple of this (non-sliding inference).', { min: -1, max: 4096 }),
    }),

    SEM_SEG_HEAD: section('CAT-Seg head (cost volume, aggregation, decoder) and the AHS-Seg switches.', {
      NAME: str('CATSegHead', 'Registered head builder.'),
      IN_FEATURES: strs(['p2', 'p3', 'p4', 'p5'], 'Backbone features (detectron2 key; CAT-Seg configs set it but the CLIP head ignores it).'),
      IGNORE_VALUE: int(255, 'Label value of unlabelled pixels.', { min: 0, max: 65535 }),
      NUM_CLASSES: int(54, 'Training classes (171 for COCO-Stuff). Not read: the open-vocabulary head takes the class list of the dataset / TRAIN_CLASS_JSON.', { min: 1, max: 1_000_000 }),
      TRAIN_CLASS_JSON: str('datasets/ADE20K_2021_17_01/ADE20K_847.json', 'JSON list of training class names.'),
      TEST_CLASS_JSON: str('datasets/ADE20K_2021_17_01/ADE20K_847.json', 'JSON list of test class names.'),
      TRAIN_CLASS_INDEXES: str('datasets/coco/coco_stuff/split/seen_indexes.json', 'Seen-class split (CAT-Seg key; unused by the released code).'),
      TEST_CLASS_INDEXES: str('datasets/coco/coco_stuff/split/unseen_indexes.json', 'Unseen-class split (CAT-Seg key; unused by the released code).'),
      CLIP_PRETRAINED: str('ViT-B/16', 'OpenAI CLIP model name: ViT-B/16 (384 input) or ViT-L/14@336px (336 input).'),
      PROMPT_DEPTH: int(0, 'Visual prompt-tuning depth (0 = off).', { min: 0, max: 64 }),
      PROMPT_LENGTH: int(0, 'Visual prompt tokens per layer (0 = off).', { min: 0, max: 1024 }),
      TEXT_GUIDANCE_DIM: int(512, 'CLIP text embedding width fed to the text guidance.', { min: 0, max: 8192 }),
      TEXT_GUIDANCE_PROJ_DIM: int(128, 'Text guidance width after projection.', { min: 0, max: 8192 }),
      APPEARANCE_GUIDANCE_DIM: int(512, 'CLIP dense feature width fed to the appearance guidance.', { min: 0, max: 8192 }),
      APPEARANCE_GUIDANCE_PROJ_DIM: int(128, 'Appearance guidance width after projection.', { min: 0, max: 8192 }),
      DECODER_DIMS: ints([64, 32], 'Output channels of the two upsampling decoder stages.', 2, { min: 1, max: 4096 }),
      DECODER_GUIDANCE_DIMS: ints([256, 128], 'Channels of the two CLIP intermediate-layer guidance maps.', 2, { min: 0, max: 4096 }),
      DECODER_GUIDANCE_PROJ_DIMS: ints([32, 16], 'Decoder guidance channels after projection.', 2, { min: 0, max: 4096 }),
      NUM_LAYERS: int(4, 'Aggregator layers (spatial + class aggregation each).', { min: 1, max: 64 }),
      NUM_HEADS: int(4, 'Attention heads in the aggregator.', { min: 1, max: 256 }),
      HIDDEN_DIMS: int(128, 'Aggregator width.', { min: 1, max: 8192 }),
      POOLING_SIZES: ints([6, 6], 'Avg-pool kernel before class aggregation (eval.sh uses [1, 1]).', 2, { min: 1, max: 64 }),
      FEATURE_RESOLUTION: ints([24, 24], 'CLIP patch grid (H, W) of the cost volume.', 2, { min: 1, max: 256 }),
      WINDOW_SIZES: int(12, 'Swin window size of spatial aggregation.', { min: 1, max: 256 }),
      ATTENTION_TYPE: oneOf(['linear', 'full'], 'linear', 'Class-aggregation attention: linear (elu+1) or full softmax.'),
      CLIP_FINETUNE: oneOf(
        ['attention', 'full', 'oft_both', 'none'],
        'attention',
        'CLIP tuning: attention = CAT-Seg Q/V, full, oft_both = H-CLIP OFT on both encoders, none = frozen.',
      ),
      CLASS_PAD_LEN: int(256, "[ahs-seg] Classes kept per image (top-k by cost) and padded to; CAT-Seg's hard-coded pad_len.", { min: 0, max: 100_000 }),
      LOSS_IGNORE_MODE: oneOf(
        ['zero_target', 'exclude'],
        'zero_target',
        '[ahs-seg] Ignored pixels in the BCE: all-zero targets (CAT-Seg exact) or left out of the mean.',
      ),
      CHECKPOINT_CLASS_CHUNK: int(0, '[ahs-seg] Activation checkpointing in training: the per-class stages (cost embedding, spatial aggregation, decoder, loss) keep no activations and are recomputed in backward this many classes at a time (0 = off). Same gradients, much less memory.', { min: 0, max: 100_000 }),
      SEM_SEG_LOSS_WEIGHT: float(1.0, '[ahs-seg] Weight of loss_sem_seg in the total loss (the reference adds it with weight 1).', { min: 0 }),
      USE_ADAPTIVE_ENERGY: bool(false, 'AHS-Seg HA-HEM: layer-wise adaptive OFT constraint strength.'),
      ENERGY_LOSS_WEIGHT: float(0.01, 'AHS-Seg HA-HEM regulariser weight.', { min: 0 }),
      USE_MULTI_SCALE_FUSION: bool(false, 'AHS-Seg MH-FPN: fuse CLIP layers MS_LAYER_INDICES into the guidance.'),
      MS_LAYER_INDICES: ints([3, 7, 11], 'AHS-Seg MH-FPN: 0-based CLIP blocks to fuse (ViT-L: [7, 15, 23]).', undefined, { min: 0, max: 255 }),
      BOUNDARY_LOSS_WEIGHT: float(0.1, 'AHS-Seg MH-FPN boundary loss weight.', { min: 0 }),
      USE_CLASS_AWARE_PROJECTION: bool(false, 'AHS-Seg DC-HSP: class-aware text projection before the cost volume.'),
      CONTRASTIVE_LOSS_WEIGHT: float(0.05, 'AHS-Seg DC-HSP prototype-text InfoNCE weight.', { min: 0 }),
      HIERARCHY_LOSS_WEIGHT: float(0.02, 'AHS-Seg DC-HSP hierarchy loss weight; AHS-Seg defines no relations, so unused.', { min: 0 }),
    }),

    AHS: section('[ahs-seg] How the AHS components are realised (method-spec section 5).', {
      HEM_MODE: oneOf(
        ['geodesic', 'coft', 'readme_convex'],
        'geodesic',
        'HA-HEM strength: Cayley(s*S) (orthogonal), per-layer COFT radius, or AHS README (1-s)I+sR (not orthogonal).',
      ),
      VISION_ORTHO: bool(false, "Cayley-orthogonalise the vision OFT blocks too, and modulate them with HA-HEM (H-CLIP keeps them free)."),
      VISION_ATTN_BIAS_TRAINABLE: bool(false, "With CLIP_FINETUNE oft_both, also train CLIP's vision attention biases, as AHS-Seg's code does."),
      MSFPN_TARGET: oneOf(['guidance', 'cost'], 'guidance', 'MH-FPN output: gated add to appearance guidance, or extra cost-volume channels.'),
      BOUNDARY_MODE: oneOf(['weighted_bce', 'sobel_ahs'], 'weighted_bce', 'MH-FPN boundary loss: boundary-weighted BCE, or AHS-Seg Sobel BCE.'),
      DCHSP_MODE: oneOf(['gate', 'rank'], 'gate', 'DC-HSP capacity: scalar gate on a low-rank delta, or soft per-class rank.'),
    }),
  }),

  INPUT: section('Data loading and augmentation.', {
    MIN_SIZE_TRAIN: ints([800], 'Shortest-edge sizes for training resize (a tuple in YAML: (384, )).'),
    MIN_SIZE_TRAIN_SAMPLING: oneOf(['choice', 'range'], 'choice', 'Pick one of MIN_SIZE_TRAIN, or sample in [min, max].'),
    MAX_SIZE_TRAIN: int(1333, 'Longest-edge cap for training resize.'),
    MIN_SIZE_TEST: int(800, 'Shortest-edge size of the test resize before whole-image inference (0 = no resize); the sliding window resizes to SLIDING_WINDOW_RESOLUTION instead.', { min: 0, max: 16_384 }),
    MAX_SIZE_TEST: int(1333, 'Longest-edge cap for test resize.', { min: 1, max: 16_384 }),
    RANDOM_FLIP: oneOf(['horizontal', 'vertical', 'none'], 'horizontal', 'Training flip direction (p = 0.5).'),
    CROP: section('Training random crop.', {
      ENABLED: bool(false, 'Random-crop training images.'),
      TYPE: oneOf(['relative_range', 'relative', 'absolute', 'absolute_range'], 'relative_range', 'How CROP.SIZE is read (detectron2 RandomCrop).'),
      SIZE: floats([0.9, 0.9], 'Crop size (H, W): fraction for relative types, pixels for absolute.', 2),
      SINGLE_CATEGORY_MAX_AREA: float(1.0, 'Re-draw crops where one class covers more than this fraction (1.0 = off).'),
    }),
    FORMAT: oneOf(['RGB', 'BGR'], 'BGR', 'Channel order the model receives.'),
    SIZE_DIVISIBILITY: int(-1, 'Pad image and label to a multiple of this in the mapper (-1 = off).', { min: -1, max: 4096 }),
    DATASET_MAPPER_NAME: str('mask_former_semantic', 'Registered training dataset mapper.'),
    COLOR_AUG_SSD: bool(false, 'SSD photometric augmentation (brightness, contrast, saturation, hue).'),
  }),

  DATASETS: section('Registered dataset names.', {
    TRAIN: strs([], 'Training datasets (merged).'),
    TEST: strs([], 'Evaluation datasets, evaluated one by one.'),
    VAL_ALL: strs(['coco_2017_val_all_stuff_sem_seg'], 'CAT-Seg key; unused by the released code.'),
  }),

  DATALOADER: section('Data loader.', {
    NUM_WORKERS: int(4, 'Decoding workers.', { min: 0, max: 256 }),
    ASPECT_RATIO_GROUPING: bool(true, 'Batch portrait and landscape images separately.'),
    SAMPLER_TRAIN: str('TrainingSampler', 'Training sampler (infinite shuffled stream).'),
    FILTER_EMPTY_ANNOTATIONS: bool(true, 'No effect on semantic segmentation (detectron2 filters instance annotations only).'),
  }),

  SOLVER: section('Optimiser and schedule.', {
    OPTIMIZER: oneOf(['ADAMW', 'SGD'], 'ADAMW', 'Optimiser.'),
    IMS_PER_BATCH: int(16, 'Images per step across all workers.', { min: 1, max: 65_536 }),
    BASE_LR: float(0.001, 'Learning rate of the head.', { min: 0 }),
    MAX_ITER: int(40000, 'Training iterations.', { min: 0 }),
    LR_SCHEDULER_NAME: oneOf(['WarmupMultiStepLR', 'WarmupCosineLR', 'WarmupPolyLR'], 'WarmupMultiStepLR', 'Schedule after warmup.'),
    BASE_LR_END: float(0.0, 'Final learning rate of WarmupCosineLR.', { min: 0 }),
    MOMENTUM: float(0.9, 'SGD momentum.', { min: 0, max: 1 }),
    NESTEROV: bool(false, 'SGD Nesterov momentum.'),
    WEIGHT_DECAY: float(0.0001, 'Weight decay.', { min: 0 }),
    WEIGHT_DECAY_NORM: float(0.0, 'Weight decay of normalisation layers.', { min: 0 }),
    WEIGHT_DECAY_EMBED: float(0.0, 'Weight decay of embeddings (positional, padding tokens).', { min: 0 }),
    GAMMA: float(0.1, 'WarmupMultiStepLR decay factor.', { min: 0 }),
    STEPS: ints([30000], 'WarmupMultiStepLR decay iterations.'),
    WARMUP_FACTOR: float(0.001, 'Warmup starts at BASE_LR * WARMUP_FACTOR.', { min: 0, max: 1 }),
    WARMUP_ITERS: int(1000, 'Warmup length (0 = none).', { min: 0 }),
    WARMUP_METHOD: oneOf(['linear', 'constant'], 'linear', 'Warmup shape.'),
    POLY_LR_POWER: float(0.9, 'WarmupPolyLR power.', { min: 0 }),
    POLY_LR_CONSTANT_ENDING: float(0.0, 'WarmupPolyLR floor, as a fraction of BASE_LR.', { min: 0 }),
    BACKBONE_MULTIPLIER: float(0.1, 'LR multiplier of backbone parameters (CAT-Seg has no separate backbone).', { min: 0 }),
    CLIP_MULTIPLIER: float(0.01, 'LR multiplier of CLIP parameters.', { min: 0 }),
    CHECKPOINT_PERIOD: int(5000, 'Save a checkpoint every this many iterations (0 = only model_final).', { min: 0 }),
    GRAD_ACCUM_STEPS: int(1, '[ahs-seg] Micro-batches per optimizer step: IMS_PER_BATCH is split into this many forward/backward passes (same gradients, less memory).', { min: 1, max: 65_536 }),
    LOG_PERIOD: int(20, "[ahs-seg] Iterations per metrics.json line and progress line (detectron2's PeriodicWriter period).", { min: 1 }),
    CLIP_GRADIENTS: section('Gradient clipping.', {
      ENABLED: bool(false, 'Clip gradients.'),
      CLIP_TYPE: oneOf(['value', 'norm', 'full_model'], 'value', 'Per-element value, per-parameter norm, or norm over all parameters.'),
      CLIP_VALUE: float(1.0, 'Clip threshold.', { min: 0 }),
      NORM_TYPE: float(2.0, 'p of the L-p norm for norm clipping.'),
    }),
    AMP: section('Mixed precision.', {
      ENABLED: bool(false, 'Train with automatic mixed precision.'),
    }),
  }),

  TEST: section('Evaluation.', {
    EVAL_PERIOD: int(0, 'Evaluate every this many iterations during training (0 = off).', { min: 0 }),
    SLIDING_WINDOW: bool(false, 'CAT-Seg sliding-window inference: 4 overlapping crops + 1 global view.'),
    SLIDING_WINDOW_OVERLAP: float(0.333, "[ahs-seg] Overlap of sliding-window crops; CAT-Seg's hard-coded overlap (stride 256 at 384).", { min: 0, max: 0.95 }),
    SLIDING_WINDOW_RESOLUTION: ints([640, 640], "[ahs-seg] Size the image is resized to before sliding; CAT-Seg's hard-coded out_res.", 2, { min: 16, max: 16_384 }),
  }),

  DIST: section('[ahs-seg] Data-parallel training over several processes (`ahs-seg train --num-workers N`, `--num-gpus N`, `--num-machines M`).', {
    TIMEOUT: float(600, '[ahs-seg] Seconds a process waits for the others (store and group rendezvous, each collective) before the run fails with AHS_ERR_DIST naming the rank and the operation: the bound on how long a dead or stalled process can hold the others.', { min: 0.1, max: 86_400 }),
    BUCKET_CAP_MB: float(25, "[ahs-seg] Gradients are averaged over processes in flat buckets of at most this many MB, one allreduce per bucket (torch DDP's bucket_cap_mb).", { min: 0.001, max: 65_536 }),
  }),

  OUTPUT_DIR: str('./output', 'Where checkpoints, logs, metrics and the merged config.yaml go.'),
  SEED: int(-1, 'Random seed (negative = random).'),
  CUDNN_BENCHMARK: bool(false, 'Let cuDNN benchmark convolution algorithms. Not read yet (the trainer runs on the CPU).'),
});

export type AhsConfig = TypedCfg<typeof SCHEMA>;

/** A fresh, mutable config holding the defaults. */
export function defaultConfig(): AhsConfig {
  return CfgNode.fromSchema(SCHEMA);
}
