// `ahs-seg eval --method maskclip|naclip|sclip|clearclip`: a zero-shot method (CLIP weights only)
// on the benchmarks with the same evaluator as the checkpoints. Where the method's repository
// covers a benchmark, its protocol is the one its published numbers come from: its
// configs/cfg_<dataset>.py settings (e.g. NACLIP runs VOC-20 on the whole image) and its
// configs/cls_<dataset>.txt class names (assets/classes/training_free.json).
import { statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { getBenchmark } from '../data/benchmarks.js';
import { writeFileAtomic } from '../io/atomic_write.js';
import { cacheRoot } from '../models/clip/hub/cache_dir.js';
import { TextEmbedder } from '../models/clip/text_embedder.js';
import { loadClip } from '../models/clip/weights.js';
import { isTrainingFreeMethod, referenceBenchmarkSetup, trainingFreeDefaults } from '../models/tfree/methods.js';
import { resolveClipWeights } from './clip_weights.js';
import { evaluateBenchmark, type BenchmarkEvalSummary } from './evaluate_benchmark.js';
import { writeRunSummary } from './run_eval.js';
import { isZeroShotMethod, ZERO_SHOT_METHODS, zeroShotName, zeroShotSegmenter, zeroShotUsesPamr } from './zero_shot_segmenter.js';
import { AhsError } from '../errors.js';

export interface ZeroShotEvalOptions {
  method: string;
  /** undefined = the method's default (on for NACLIP). */
  pamr?: boolean;
  /** CLIP weights: a file or a hub model name. */
  clip: string;
  benchmarks: string[];
  datasetRoot?: string;
  outDir: string;
  resume?: boolean;
  limit?: number;
  onProgress?: (benchmark: string, done: number, total: number) => void;
  log?: (line: string) => void;
}

export async function runZeroShotEval(opts: ZeroShotEvalOptions): Promise<{ summaries: BenchmarkEvalSummary[]; table: string }> {
  const method = opts.method;
  if (!isZeroShotMethod(method)) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `--method '${method}' is not one of ${ZERO_SHOT_METHODS.join(', ')}`);
  for (const b of opts.benchmarks) getBenchmark(b); // fail on a misspelt name before loading anything
  const weights = await resolveClipWeights(opts.clip);
  const clip = loadClip(weights);
  const text = new TextEmbedder(clip, { cacheDir: join(cacheRoot(), 'text-embeddings') });
  const st = statSync(weights);
  const name = zeroShotName(method, zeroShotUsesPamr(method, opts.pamr));
  const summaries: BenchmarkEvalSummary[] = [];
  const protocols: Record<string, unknown> = {};
  try {
    for (const b of opts.benchmarks) {
      const reference = isTrainingFreeMethod(method) ? referenceBenchmarkSetup(method, b) : null;
      const segmenter = zeroShotSegmenter(clip, text, { method, pamr: opts.pamr, settings: reference?.settings });
      const protocol = {
        method, pamr: zeroShotUsesPamr(method, opts.pamr, reference?.settings),
        settings: isTrainingFreeMethod(method) ? { ...trainingFreeDefaults(method), ...reference?.settings } : 'MaskCLIP defaults',
        classNames: reference ? 'reference' : 'benchmark',
      };
      protocols[b] = protocol;
      try {
        const s = await evaluateBenchmark({
          segmenter, benchmark: b, datasetRoot: opts.datasetRoot, outDir: join(opts.outDir, b), model: name,
          fingerprint: { clip: basename(weights), clipBytes: st.size, clipMtime: st.mtimeMs, ...protocol },
          promptClassNames: reference?.classNames, resume: opts.resume, limit: opts.limit, onProgress: (d, n) => opts.onProgress?.(b, d, n),
        });
        summaries.push(s);
        opts.log?.(`${b}: ${s.numImages} images, ${name} mIoU ${s.results.sem_seg.mIoU?.toFixed(2)} (${s.secondsPerImage.toFixed(2)} s/image${s.resumedImages ? `, ${s.resumedImages} resumed` : ''})`);
      } finally {
        segmenter.dispose();
      }
    }
  } finally {
    clip.dispose();
  }
  await writeFileAtomic(join(opts.outDir, 'protocol.json'), JSON.stringify({ model: name, clip: weights, benchmarks: protocols }, null, 2) + '\n');
  return { summaries, table: await writeRunSummary(opts.outDir, name, summaries) };
}
