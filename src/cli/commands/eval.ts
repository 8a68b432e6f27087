// `ahs-seg eval` and `ahs-seg eval-suite`.
import { MAIN_TABLE_BENCHMARKS } from '../../data/benchmarks.js';
import { runEval } from '../../engine/run_eval.js';
import { createProgressReporter } from '../../progress.js';

export interface EvalCliOptions {
  configFile: string;
  weights?: string;
  benchmarks?: string;
  datasetRoot?: string;
  out: string;
  resume: boolean;
  limit?: number;
  lenient?: boolean;
}

export async function evalCommand(opts: EvalCliOptions, overrides: string[], suite = false): Promise<void> {
  const benchmarks = suite || !opts.benchmarks ? [...MAIN_TABLE_BENCHMARKS] : opts.benchmarks.split(',').map((s) => s.trim()).filter(Boolean);
  const report = createProgressReporter({ unit: { name: 'img', scale: 1, decimals: 0 } });
  const { table } = await runEval({
    configFile: opts.configFile, weights: opts.weights, benchmarks, datasetRoot: opts.datasetRoot, outDir: opts.out,
    overrides, resume: opts.resume, limit: opts.limit, lenient: opts.lenient,
    onProgress: (b, d, n) => report({ file: b, received: d, total: n }),
    log: (l) => process.stderr.write(l + '\n'),
  });
  process.stdout.write(`results: ${opts.out}/<benchmark>/{results.json,per_class.csv,results.md}; table: ${table}\n`);
}
