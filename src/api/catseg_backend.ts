// A CAT-Seg-family checkpoint (CAT-Seg, H-CLIP, AHS-Seg) as a DenseBackend: built from its config
// with eval.sh's overrides, run with the whole-image or sliding-window protocol, optionally
// refined by PAMR. Without a request for all probability maps, the label map and its probability
// are taken a class chunk at a time (memory bounded for hundreds of classes).
import { interpolate, noGrad, tidy, type Device, type Tensor } from '../tensor/index.js';
import { catsegInferenceOptions } from '../models/catseg/build.js';
import { CatSegPredictor } from '../models/catseg/inference.js';
import { REFERENCE_PAMR } from '../models/tfree/methods.js';
import { Pamr } from '../models/tfree/pamr.js';
import { classScoreBytes } from '../engine/segmenter.js';
import { evalConfig, loadEvalModel } from '../engine/run_eval.js';
import { checkCatSegModelFits } from '../engine/model_memory.js';
import { denseOutput, featuresOutput, type DenseBackend, type Protocol } from './dense_backend.js';

export interface CatSegBackendOptions {
  /** Default: the config's TEST.SLIDING_WINDOW (eval.sh: sliding). */
  protocol?: Protocol;
  pamr?: boolean;
  /** Folder of the text-embedding cache; null keeps it in memory. */
  textCacheDir: string | null;
  log?: (line: string) => void;
  /** Where the model runs (default cpu); images come and results go back on the CPU. */
  device?: Device;
}

export function catsegBackend(weights: string, config: string, o: CatSegBackendOptions): DenseBackend {
  const cfg = evalConfig(config);
  checkCatSegModelFits(cfg, config);
  const model = loadEvalModel(cfg, weights, { log: o.log, textCacheDir: o.textCacheDir }).to(o.device ?? 'cpu');
  const inference = catsegInferenceOptions(cfg, o.protocol);
  const predictor = new CatSegPredictor(model, inference);
  const pamr = o.pamr ? new Pamr(REFERENCE_PAMR) : null;
  return {
    kind: 'catseg', method: pamr ? 'CAT-Seg+PAMR' : 'CAT-Seg', protocol: predictor.protocol, templates: model.opts.templates, text: model.text,
    // All probability maps are held when PAMR refines them (and when they are asked for).
    memoryBytes: (h, w, t) => classScoreBytes(h, w, pamr ? t : Math.min(t, inference.outputClassChunk ?? 32)),
    run: (image, classNames, want) => noGrad(() => tidy(() => {
      let out;
      if (want.probabilities || pamr) {
        let probs = predictor.probabilities(image, classNames);
        if (pamr) probs = pamr.refine(image.float(), probs);
        out = denseOutput(probs, probs.argmax(0), want.probabilities);
      } else {
        const { labels, confidence } = predictor.labelsWithConfidence(image, classNames);
        out = { labels: labels.int().data<'int32'>(), confidence: confidence.float().data<'float32'>() };
      }
      if (want.features) out.features = clipFeatures(predictor, image);
      return out;
    })),
    dispose: () => model.dispose(),
  };
}

/** The model's CLIP (fine-tuned as trained) on the image resized to its input: [g*g, D]. */
function clipFeatures(p: CatSegPredictor, image: Tensor) {
  const S = p.model.opts.clipInputSize;
  const x = p.model.normalize(interpolate(image.to(p.model.device).float().unsqueeze(0), { size: [S, S], mode: 'bilinear', alignCorners: false }));
  const { tokens, grid } = p.model.clip.visual.dense(x, { residual: 'cls' });
  return featuresOutput(tokens.narrow(1, 1, grid[0] * grid[1]), grid);
}
