// `ahs-seg eval` and `ahs-seg eval-suite`.
import { getBenchmark, MAIN_TABLE_BENCHMARKS } from '../../data/benchmarks.js';
import { prepareOutputDir } from '../../io/output_location.js';
import { runEval } from '../../engine/run_eval.js';
import { pairSuiteModels, runEvalSuite } from '../../engine/run_eval_suite.js';
import { runZeroShotEval } from '../../engine/run_zero_shot_eval.js';
import { AhsError } from '../../errors.js';
import { createProgressReporter } from '../../progress.js';

export interface EvalCliOptions {
  /** Repeatable: eval-suite pairs them with --weights (one config for all, or one each). */
  configFile: string[];
  weights: string[];
  benchmarks?: string;
  datasetRoot?: string;
  out: string;
  resume: boolean;
  limit?: number;
  lenient?: boolean;
  /** A zero-shot method instead of a checkpoint: maskclip, naclip, sclip or clearclip. */
  method?: string;
  pamr?: boolean;
  clip: string;
}

export async function evalCommand(opts: EvalCliOptions, overrides: string[], suite = false): Promise<void> {
  const benchmarks = suite || !opts.benchmarks ? [...MAIN_TABLE_BENCHMARKS] : opts.benchmarks.split(',').map((s) => s.trim()).filter(Boolean);
  for (const b of benchmarks) getBenchmark(b); // a misspelt name fails before anything loads
  prepareOutputDir(opts.out, '--out'); // a file there, or a read-only folder, fails before the evaluation
  const report = createProgressReporter({ unit: { name: 'img', scale: 1, decimals: 0 } });
  if (opts.method === undefined && opts.pamr !== undefined) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', '--pamr / --no-pamr apply to a zero-shot --method');
  const common = {
    benchmarks, datasetRoot: opts.datasetRoot, outDir: opts.out, overrides, resume: opts.resume, limit: opts.limit, lenient: opts.lenient,
    onProgress: (b: string, d: number, n: number) => report({ file: b, received: d, total: n }),
    log: (l: string) => process.stderr.write(l + '\n'),
  };
  const models = pairSuiteModels(opts.configFile, opts.weights);
  if (!suite && (opts.configFile.length > 1 || opts.weights.length > 1)) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', 'eval takes one --config-file and one --weights; several models go to eval-suite (one table row each)');
  }
  const { table } = opts.method !== undefined ? await zeroShot(opts, overrides, benchmarks, report)
    : models.length > 1 ? await runEvalSuite(models, common)
      : await runEval({ ...common, ...models[0]! });
  process.stdout.write(`results: ${opts.out}/<benchmark>/{results.json,per_class.csv,results.md}; table: ${table}\n`);
}

function zeroShot(opts: EvalCliOptions, overrides: string[], benchmarks: string[], report: ReturnType<typeof createProgressReporter>) {
  if (opts.weights.length > 0 || overrides.length > 0) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `--method ${opts.method} evaluates CLIP weights alone: drop --weights and the KEY VALUE overrides`);
  }
  return runZeroShotEval({
    method: opts.method!, pamr: opts.pamr, clip: opts.clip, benchmarks, datasetRoot: opts.datasetRoot, outDir: opts.out,
    resume: opts.resume, limit: opts.limit,
    onProgress: (b, d, n) => report({ file: b, received: d, total: n }),
    log: (l) => process.stderr.write(l + '\n'),
  });
}
