// `ahs-seg eval` / `eval-suite`: a CAT-Seg-family checkpoint on one or more benchmarks with the
// protocol of the original eval.sh (sliding window, class-aggregation pooling 1x1, top-256
// class pruning), a results folder per benchmark and one main-results table for the run.
import { statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { dumpConfig, loadConfig, type AhsConfig } from '../config/index.js';
import { MAIN_TABLE_BENCHMARKS, getBenchmark } from '../data/benchmarks.js';
import { AhsError } from '../errors.js';
import { writeMainTable } from '../eval/report.js';
import { writeFileAtomic } from '../io/atomic_write.js';
import { buildCatSeg, catsegInferenceOptions, EVAL_SH_OVERRIDES } from '../models/catseg/build.js';
import { loadCatSegCheckpoint } from '../models/catseg/checkpoint.js';
import type { CATSeg } from '../models/catseg/catseg_model.js';
import { CatSegPredictor } from '../models/catseg/inference.js';
import { cacheRoot } from '../models/clip/hub/cache_dir.js';
import type { SemSegResults } from '../eval/sem_seg_metrics.js';
import { evaluateBenchmark, type BenchmarkEvalSummary } from './evaluate_benchmark.js';
import { checkCatSegModelFits } from './model_memory.js';

export interface RunEvalOptions {
  configFile: string;
  weights?: string;
  benchmarks: string[];
  datasetRoot?: string;
  outDir: string;
  overrides?: string[];
  resume?: boolean;
  limit?: number;
  /** Load the checkpoint even if keys are missing or unexpected (reported either way). */
  lenient?: boolean;
  onProgress?: (benchmark: string, done: number, total: number) => void;
  log?: (line: string) => void;
}

/** The config with eval.sh's overrides first, so the user's own overrides win. */
export function evalConfig(configFile: string, overrides: string[] = []): AhsConfig {
  return loadConfig(configFile, [...EVAL_SH_OVERRIDES, ...overrides]);
}

export function loadEvalModel(cfg: AhsConfig, weights: string, opts: { lenient?: boolean; log?: (l: string) => void; textCacheDir?: string | null } = {}): CATSeg {
  checkCatSegModelFits(cfg, 'the config');
  const model = buildCatSeg(cfg, { textCacheDir: opts.textCacheDir !== undefined ? opts.textCacheDir : join(cacheRoot(), 'text-embeddings') });
  const report = loadCatSegCheckpoint(model, weights, { strict: !opts.lenient });
  if (report.text) opts.log?.(`loaded ${weights} with differences:\n${report.text}`);
  return model.eval();
}

export async function runEval(opts: RunEvalOptions): Promise<{ summaries: BenchmarkEvalSummary[]; table: string }> {
  const cfg = evalConfig(opts.configFile, opts.overrides);
  const weights = opts.weights ?? cfg.MODEL.WEIGHTS;
  if (!weights) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `no checkpoint: give --weights or set MODEL.WEIGHTS in ${opts.configFile}`);
  for (const b of opts.benchmarks) getBenchmark(b); // fail on a misspelt name before loading anything
  const model = loadEvalModel(cfg, weights, { lenient: opts.lenient, log: opts.log });
  const predictor = new CatSegPredictor(model, catsegInferenceOptions(cfg));
  dumpConfig(cfg, join(opts.outDir, 'config.yaml')); // atomic; the merged config of this run
  const st = statSync(weights);
  const fingerprint = { weights: basename(weights), weightsBytes: st.size, weightsMtime: st.mtimeMs, config: cfg.toYAML() };
  const model_ = basename(weights).replace(/\.(pth|pt|safetensors)$/, '');
  const summaries: BenchmarkEvalSummary[] = [];
  try {
    for (const b of opts.benchmarks) {
      const s = await evaluateBenchmark({
        segmenter: predictor, benchmark: b, datasetRoot: opts.datasetRoot, outDir: join(opts.outDir, b), model: model_,
        fingerprint, resume: opts.resume, limit: opts.limit, onProgress: (d, n) => opts.onProgress?.(b, d, n),
      });
      summaries.push(s);
      opts.log?.(`${b}: ${s.numImages} images, mIoU ${s.results.sem_seg.mIoU?.toFixed(2)} (${s.secondsPerImage.toFixed(2)} s/image${s.resumedImages ? `, ${s.resumedImages} resumed` : ''})`);
    }
  } finally {
    model.dispose();
  }
  return { summaries, table: await writeRunSummary(opts.outDir, model_, summaries) };
}

/** The run's main-results table (results.md, one row) and summary.json; returns the table's path. */
export async function writeRunSummary(outDir: string, model: string, summaries: BenchmarkEvalSummary[]): Promise<string> {
  const results: Record<string, SemSegResults> = Object.fromEntries(summaries.map((s) => [s.benchmark.name, s.results]));
  const table = join(outDir, 'results.md');
  const order = MAIN_TABLE_BENCHMARKS.filter((b) => b in results);
  const extra = summaries.map((s) => s.benchmark.name).filter((b) => !order.includes(b));
  await writeMainTable(table, [{ model, results }], [...order, ...extra]);
  await writeFileAtomic(join(outDir, 'summary.json'), JSON.stringify(
    Object.fromEntries(summaries.map((s) => [s.benchmark.name, { ...s.results.sem_seg, images: s.numImages, secondsPerImage: s.secondsPerImage }])), null, 2) + '\n');
  return table;
}
