// `ahs-seg eval-suite` with several models: each (config, checkpoint) pair is evaluated on the same
// benchmarks into its own sub-folder, and one main-results table gets a row per model, so an
// ablation table (configs/ablations/) comes from one command.
import { basename, join } from 'node:path';
import { AhsError } from '../errors.js';
import { writeMainTable } from '../eval/report.js';
import { MAIN_TABLE_BENCHMARKS } from '../data/benchmarks.js';
import { runEval, type RunEvalOptions } from './run_eval.js';
import type { BenchmarkEvalSummary } from './evaluate_benchmark.js';

export interface SuiteModel { configFile: string; weights?: string }

/** Pairs --config-file and --weights as given: one config for all checkpoints, or one each. */
export function pairSuiteModels(configFiles: string[], weights: string[]): SuiteModel[] {
  if (weights.length <= 1) return configFiles.length <= 1
    ? [{ configFile: configFiles[0] ?? 'configs/vitb_384.yaml', weights: weights[0] }]
    : configFiles.map((c) => ({ configFile: c, weights: weights[0] }));
  if (configFiles.length > 1 && configFiles.length !== weights.length) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `eval-suite: ${configFiles.length} --config-file for ${weights.length} --weights; give one config for all checkpoints or one per checkpoint, in the same order`);
  }
  return weights.map((w, i) => ({ configFile: configFiles.length > 1 ? configFiles[i]! : configFiles[0] ?? 'configs/vitb_384.yaml', weights: w }));
}

/** A row name per model: the checkpoint's stem, with the config's stem when stems repeat. */
export function suiteRowNames(models: SuiteModel[]): string[] {
  const stem = (p: string) => basename(p).replace(/\.(pth|pt|safetensors|ya?ml)$/, '');
  const plain = models.map((m) => (m.weights ? stem(m.weights) : stem(m.configFile)));
  const names = plain.map((n, i) => (plain.indexOf(n) !== plain.lastIndexOf(n) ? `${n} (${stem(models[i]!.configFile)})` : n));
  if (new Set(names).size !== names.length) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `eval-suite: two models would share the row '${names.find((n, i) => names.indexOf(n) !== i)}' (same checkpoint and config given twice?)`);
  }
  return names;
}

export async function runEvalSuite(models: SuiteModel[], opts: Omit<RunEvalOptions, 'configFile' | 'weights'>): Promise<{ rows: { model: string; summaries: BenchmarkEvalSummary[] }[]; table: string }> {
  const names = suiteRowNames(models);
  const rows: { model: string; summaries: BenchmarkEvalSummary[] }[] = [];
  for (const [i, m] of models.entries()) {
    opts.log?.(`[${i + 1}/${models.length}] ${names[i]}: ${m.configFile}${m.weights ? ` + ${m.weights}` : ''}`);
    const dir = join(opts.outDir, names[i]!.replace(/[^A-Za-z0-9._-]+/g, '_'));
    const { summaries } = await runEval({ ...opts, configFile: m.configFile, weights: m.weights, outDir: dir });
    rows.push({ model: names[i]!, summaries });
  }
  const table = join(opts.outDir, 'results.md');
  const seen = [...new Set(rows.flatMap((r) => r.summaries.map((s) => s.benchmark.name)))];
  const order = [...MAIN_TABLE_BENCHMARKS.filter((b) => seen.includes(b)), ...seen.filter((b) => !MAIN_TABLE_BENCHMARKS.includes(b))];
  await writeMainTable(table, rows.map((r) => ({ model: r.model, results: Object.fromEntries(r.summaries.map((s) => [s.benchmark.name, s.results])) })), order);
  return { rows, table };
}
