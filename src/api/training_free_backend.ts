// CLIP weights alone: a zero-shot method (default NACLIP with PAMR) as a DenseBackend. NACLIP,
// SCLIP and ClearCLIP give probabilities (their softmax over classes); MaskCLIP gives cosines,
// which become probabilities by CLIP's own zero-shot softmax at logit scale 100 (the arg-max is
// the same either way).
import { AhsError } from '../errors.js';
import { noGrad, tidy, type Device, type Tensor } from '../tensor/index.js';
import { loadClip } from '../models/clip/weights.js';
import { MaskClipSegmenter } from '../models/clip/maskclip.js';
import { clipInput } from '../models/clip/preprocess.js';
import { TextEmbedder } from '../models/clip/text_embedder.js';
import { promptTemplates, type PromptEnsemble } from '../models/clip/prompts.js';
import { trainingFreeDefaults } from '../models/tfree/methods.js';
import { TrainingFreeSegmenter } from '../models/tfree/training_free_segmenter.js';
import { classScoreBytes } from '../engine/segmenter.js';
import { DEFAULT_ZERO_SHOT_METHOD, isZeroShotMethod, zeroShotName, zeroShotSegmenter, zeroShotUsesPamr, ZERO_SHOT_METHODS } from '../engine/zero_shot_segmenter.js';
import { denseOutput, featuresOutput, type DenseBackend, type Protocol } from './dense_backend.js';

/** CLIP's trained logit scale (exp of its logit_scale parameter, clamped to 100 in training). */
const CLIP_LOGIT_SCALE = 100;

export interface TrainingFreeBackendOptions {
  /** maskclip, naclip (default), sclip or clearclip. */
  method?: string;
  pamr?: boolean;
  prompts?: PromptEnsemble;
  shortSide?: number;
  /** 'sliding' (the methods' own windows; default) or 'whole' (one pass over the resized image). */
  protocol?: Protocol;
  /** Folder of the text-embedding cache; null keeps it in memory. */
  textCacheDir: string | null;
  /** Where CLIP runs (default cpu); images come and results go back on the CPU. */
  device?: Device;
}

export function trainingFreeBackend(clipWeights: string, o: TrainingFreeBackendOptions): DenseBackend {
  const method = o.method ?? DEFAULT_ZERO_SHOT_METHOD;
  if (!isZeroShotMethod(method)) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `method '${method}' is not one of ${ZERO_SHOT_METHODS.join(', ')}`);
  if (method === 'maskclip' && o.protocol === 'sliding') {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', "mode 'sliding': MaskCLIP runs on the whole image only; use mode 'whole', or another method");
  }
  const protocol: Protocol = method === 'maskclip' ? 'whole' : (o.protocol ?? 'sliding');
  const clip = loadClip(clipWeights);
  try {
    clip.to(o.device ?? 'cpu');
    const text = new TextEmbedder(clip, { cacheDir: o.textCacheDir });
    const seg = zeroShotSegmenter(clip, text, {
      method, pamr: o.pamr, prompts: o.prompts, shortSide: o.shortSide, ...(protocol === 'whole' && method !== 'maskclip' ? { settings: { crop: 0 } } : {}),
    });
    const templates = o.prompts ? promptTemplates(o.prompts) : method === 'maskclip' ? promptTemplates('imagenet') : trainingFreeDefaults(method).templates;
    const tfree = seg instanceof TrainingFreeSegmenter ? seg : null;
    return {
      kind: 'training-free', method: zeroShotName(method, zeroShotUsesPamr(method, o.pamr)), protocol, templates, text,
      memoryBytes: (h, w, t) => seg.memoryBytes?.(h, w, t) ?? classScoreBytes(h, w, t),
      run: (cpuImage, classNames, want) => noGrad(() => tidy(() => {
        const image = cpuImage.to(clip.device);
        let probs: Tensor, labels: Tensor;
        if (tfree) {
          const q = tfree.queries(classNames);
          ({ probs, labels } = tfree.infer(image, tfree.textEmbeddings(q.texts), q.classOf));
        } else {
          probs = seg.scores(image, classNames).mul(CLIP_LOGIT_SCALE).softmax(0);
          labels = probs.argmax(0);
        }
        const out = denseOutput(probs, labels, want.probabilities);
        if (want.features) out.features = tfree ? tfreeFeatures(tfree, image) : maskclipFeatures(new MaskClipSegmenter(clip, text, { prompts: o.prompts, shortSide: o.shortSide }), image);
        return out;
      })),
      dispose: () => { seg.dispose(); clip.dispose(); },
    };
  } catch (e) {
    clip.dispose();
    throw e;
  }
}

/** The method's own dense features (its last block) of the resized image, in one pass. */
function tfreeFeatures(seg: TrainingFreeSegmenter, image: Tensor) {
  const { feats, grid } = seg.denseFeatures(seg.normalize(seg.resize(image)));
  return featuresOutput(feats, grid);
}

/** MaskCLIP's dense features (value path with a per-token residual) at its CLIP input size. */
function maskclipFeatures(m: MaskClipSegmenter, image: Tensor) {
  const { tokens, grid } = m.clip.visual.dense(clipInput(image, m.inputSize(image.size(1), image.size(2))), { residual: 'token' });
  return featuresOutput(tokens.narrow(1, 1, grid[0] * grid[1]), grid);
}
