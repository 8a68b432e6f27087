// The library API: `const seg = await createSegmenter({ model })`, then
// `await seg.segment(image, ['cat', 'sofa'], { overlay: true })`, and `seg.dispose()`.
// Everything a segmenter holds (weights, text-embedding cache, settings) lives in its instance;
// two segmenters share nothing. The model runs on the calling thread for now: each image's tensor
// work is one synchronous block between the awaits (decoding, PNG encoding), so overlapping calls
// never hold tensors across an await.
import { join } from 'node:path';
import { AhsError } from '../errors.js';
import { checkDevice, tidy, type Device } from '../tensor/index.js';
import { imageToTensor } from '../data/image_io.js';
import { checkClassNames } from '../data/class_names.js';
import { encodeLabelPng } from '../data/label_io.js';
import { checkMemoryBudget } from '../engine/memory_budget.js';
import { checkPromptLengths } from '../models/clip/prompt_length.js';
import { fillTemplate, firstSynonym, type PromptEnsemble } from '../models/clip/prompts.js';
import { cacheRoot } from '../models/clip/hub/cache_dir.js';
import type { EnsureModelOptions } from '../models/clip/hub/download.js';
import { catsegBackend } from './catseg_backend.js';
import { colourMaskPng } from './colour_mask.js';
import type { DenseBackend, Protocol } from './dense_backend.js';
import { decodeImageInput, type ImageInput } from './image_input.js';
import { fetchModel, planClip, planModel } from './model_source.js';
import { DEFAULT_MODEL } from './models.js';
import { overlayWithLegend } from './overlay_legend.js';
import { summariseClasses, type ModelInfo, type SegmentOptions, type SegmentResult } from './segment_result.js';
import { trainingFreeBackend } from './training_free_backend.js';

export interface CreateSegmenterOptions {
  /** A catalog name (clip-vit-b16, catseg-vitb, catseg-vitl), an `ahs-seg train` OUTPUT_DIR or
   * checkpoint, a CAT-Seg checkpoint (with `config`), or CLIP weights; default clip-vit-b16. */
  model?: string;
  /** Instead of `model`: CLIP weights for the training-free method (a file, a Hugging Face
   * folder, or a hub CLIP name such as openai/clip-vit-base-patch16). */
  clip?: string;
  /** The config of a checkpoint file that has no config.yaml beside it. */
  config?: string;
  /** 'cpu' (default), 'cuda' or 'cuda:N': where the model runs; inputs and results stay on the CPU. */
  device?: string;
  /** 'sliding' windows (default) or the 'whole' image in one pass. */
  protocol?: Protocol;
  /** Another name for `protocol`. */
  mode?: Protocol;
  /** Refine the probabilities with PAMR (default: on for NACLIP, off otherwise). */
  pamr?: boolean;
  /** Training-free only: maskclip, naclip (default), sclip, clearclip. */
  method?: string;
  /** Training-free only: prompt templates instead of the method's. */
  prompts?: PromptEnsemble;
  /** Training-free only: the shorter side CLIP sees instead of the method's. */
  shortSide?: number;
  /** The model must be a segmentation checkpoint (refuse CLIP weights); `ahs-seg segment --weights`. */
  requireCheckpoint?: boolean;
  /** Text-embedding cache folder; null keeps it in memory (default <cache>/text-embeddings). */
  textCacheDir?: string | null;
  /** Hub download settings: endpoint, cacheDir, offline, onProgress, ... */
  download?: EnsureModelOptions;
  /** Notes from loading (checkpoint keys that differ). */
  onLog?: (line: string) => void;
}

const PROTOCOLS: readonly Protocol[] = ['whole', 'sliding'];

/** Refuses a device inference cannot use: unknown names, and CUDA where the addon sees none. */
export function checkInferenceDevice(device: string, option = 'device'): Device {
  try {
    return (checkDevice(device) ?? 'cpu') as Device;
  } catch (e) {
    if (e instanceof AhsError) throw new AhsError(e.code, `${option}: ${e.message}`);
    throw e;
  }
}

export async function createSegmenter(opts: CreateSegmenterOptions = {}): Promise<ImageSegmenter> {
  const device = checkInferenceDevice(opts.device ?? 'cpu');
  if (opts.clip !== undefined && opts.model !== undefined) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `give model or clip, not both (model '${opts.model}', clip '${opts.clip}')`);
  if (opts.protocol !== undefined && opts.mode !== undefined && opts.protocol !== opts.mode) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `protocol '${opts.protocol}' and mode '${opts.mode}' disagree; give one`);
  }
  const protocol = opts.mode ?? opts.protocol;
  if (protocol !== undefined && !PROTOCOLS.includes(protocol)) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `mode '${String(protocol)}' is not one of ${PROTOCOLS.join(', ')}`);
  }
  const plan = opts.clip !== undefined ? planClip(opts.clip) : planModel(opts.model ?? DEFAULT_MODEL, { config: opts.config, checkpoint: opts.requireCheckpoint });
  if (plan.kind === 'catseg') {
    const stray = (['method', 'prompts', 'shortSide'] as const).filter((k) => opts[k] !== undefined);
    if (stray.length) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${stray.join(', ')}: ${stray.length > 1 ? 'apply' : 'applies'} to the training-free method; '${plan.name}' is a segmentation checkpoint (its prompts and input size come from its config)`);
  }
  const source = await fetchModel(plan, opts.download);
  const textCacheDir = opts.textCacheDir !== undefined ? opts.textCacheDir : join(opts.download?.cacheDir ?? cacheRoot(), 'text-embeddings');
  const backend = source.kind === 'catseg'
    ? catsegBackend(source.weights, source.config, { protocol, pamr: opts.pamr, textCacheDir, log: opts.onLog, device })
    : trainingFreeBackend(source.clipWeights, { method: opts.method, pamr: opts.pamr, prompts: opts.prompts, shortSide: opts.shortSide, protocol, textCacheDir, device });
  return new ImageSegmenter(backend, { name: plan.name, kind: backend.kind, method: backend.method, protocol: backend.protocol, device });
}

export class ImageSegmenter {
  #backend: DenseBackend | null;

  constructor(backend: DenseBackend, readonly model: ModelInfo) {
    this.#backend = backend;
  }

  get disposed(): boolean {
    return this.#backend === null;
  }

  /** The prompt templates each class name is filled into. */
  get templates(): readonly string[] {
    return this.alive().templates;
  }

  /** How many prompts these classes make, and how many of them are not in the text cache yet
   * (each of those goes through CLIP's text tower once). */
  textWork(classNames: readonly string[]): { prompts: number; missing: number } {
    const templates = this.alive().templates;
    const texts = classNames.flatMap((c) => templates.map((t) => fillTemplate(t, firstSynonym(c))));
    return { prompts: texts.length, missing: this.alive().text.countMissing(texts) };
  }

  /** Called after each batch of prompts is encoded (a progress bar for long class lists). */
  set onTextProgress(fn: ((done: number, total: number) => void) | null) {
    this.alive().text.onProgress = fn;
  }

  async segment(input: ImageInput, labels: readonly string[], options: SegmentOptions = {}): Promise<SegmentResult> {
    const t0 = performance.now();
    const backend = this.alive();
    if (!Array.isArray(labels)) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `labels: expected an array of class names, got ${labels === null ? 'null' : typeof labels}`);
    const classNames = checkClassNames(labels, 'labels');
    checkPromptLengths(classNames, backend.templates, 'labels');
    const overlay = options.overlay === true ? {} : options.overlay || null;
    if (overlay?.opacity !== undefined && !(overlay.opacity >= 0 && overlay.opacity <= 1)) {
      throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `overlay.opacity must be from 0 to 1, got ${overlay.opacity}`);
    }
    const image = await decodeImageInput(input);
    const { width: W, height: H } = image;
    const T = classNames.length;
    const bytes = backend.memoryBytes(H, W, T) + (options.probabilities ? 4 * T * H * W : 0);
    checkMemoryBudget(bytes, `segmenting a ${W}x${H} image into ${T} class${T === 1 ? '' : 'es'}`, 'use fewer classes or a smaller image');
    const run = this.alive(); // not disposed while the image was decoded
    const want = { probabilities: options.probabilities === true, features: options.features === true };
    const dense = tidy(() => run.run(imageToTensor(image), classNames, want));
    const labelMap = T <= 65_536 ? Uint16Array.from(dense.labels) : dense.labels;
    const classes = summariseClasses(classNames, dense.labels, dense.confidence);
    const result: SegmentResult = { width: W, height: H, classNames, labels: labelMap, classes, model: this.model, seconds: 0 };
    if (options.colorMask) result.colorMask = await colourMaskPng(dense.labels, W, H, T);
    if (overlay) result.overlay = await overlayWithLegend(image.data, dense.labels, W, H, classNames, classes.map((c) => c.share), overlay);
    if (options.labelPng) result.labelPng = await encodeLabelPng(dense.labels, W, H, 'label map');
    if (dense.probabilities) result.probabilities = { data: dense.probabilities, shape: [T, H, W] };
    if (dense.features) result.features = dense.features;
    result.seconds = (performance.now() - t0) / 1000;
    return result;
  }

  /** Frees the model's tensors; later calls fail. Calling it twice does nothing. */
  dispose(): void {
    this.#backend?.dispose();
    this.#backend = null;
  }

  private alive(): DenseBackend {
    if (!this.#backend) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `this segmenter (${this.model.name}) was disposed; create another with createSegmenter`);
    return this.#backend;
  }
}
