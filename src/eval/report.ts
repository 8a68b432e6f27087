// Result files of an evaluation: results.json with detectron2's keys, a per-class CSV, and the
// Markdown main-results table (rows = models, columns = benchmarks, mIoU with one decimal) in the
// layout of the CAT-Seg / AHS-Seg READMEs. Every file is written atomically.

import { join } from 'node:path';
import { BENCHMARKS, MAIN_TABLE_BENCHMARKS, type BenchmarkName } from '../data/benchmarks.js';
import { check } from '../errors.js';
import { writeFileAtomic } from '../io/atomic_write.js';
import type { SemSegResults } from './sem_seg_metrics.js';

/**
 * results.json: `{"sem_seg": {...}}` with detectron2's keys and order. JSON has no NaN, so the
 * NaN detectron2 reports for classes absent from the ground truth is written as null.
 */
export function formatResultsJson(results: SemSegResults): string {
  return JSON.stringify(results, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

export async function writeResultsJson(path: string, results: SemSegResults): Promise<void> {
  await writeFileAtomic(path, formatResultsJson(results));
}

/** RFC 4180 quoting: ADE-847 names contain commas ('building, edifice'). */
function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvNumber(v: number | undefined): string {
  return v === undefined || Number.isNaN(v) ? 'NaN' : String(v);
}

/** Per-class CSV with header `class,IoU,ACC`, values in percent at full precision, NaN as 'NaN'. */
export function formatPerClassCsv(results: SemSegResults, classNames: readonly string[]): string {
  const res = results.sem_seg;
  const lines = ['class,IoU,ACC'];
  for (const name of classNames) {
    const iou = res[`IoU-${name}`];
    const acc = res[`ACC-${name}`];
    check(
      `IoU-${name}` in res && `ACC-${name}` in res,
      'AHS_ERR_INVALID_ARGUMENT',
      () => `formatPerClassCsv: class '${name}' has no IoU-/ACC- entry in the results`,
    );
    lines.push(`${csvField(name)},${csvNumber(iou)},${csvNumber(acc)}`);
  }
  return lines.join('\n') + '\n';
}

export async function writePerClassCsv(path: string, results: SemSegResults, classNames: readonly string[]): Promise<void> {
  await writeFileAtomic(path, formatPerClassCsv(results, classNames));
}

/** One table row: a model and its results per benchmark (missing benchmarks print as '-'). */
export interface ModelResults {
  model: string;
  results: Partial<Record<BenchmarkName, SemSegResults>>;
}

/**
 * One decimal as Python's '%.1f' prints it. JS toFixed rounds exact binary ties (77.25) up,
 * Python rounds them to even (77.2); everything else already agrees, since both round the
 * exact binary value.
 */
export function formatOneDecimal(v: number): string {
  if (!Number.isFinite(v) || Math.abs(v) >= 1e21) return String(v);
  const exact = Math.abs(v).toFixed(60); // exact: a double below 1e21 has < 60 fractional digits
  const [int, frac] = exact.split('.') as [string, string];
  if (!/^50*$/.test(frac.slice(1))) return v.toFixed(1);
  const low = BigInt(int + frac[0]);
  const n = (low % 2n === 0n ? low : low + 1n).toString().padStart(2, '0');
  return `${v < 0 ? '-' : ''}${n.slice(0, -1)}.${n.slice(-1)}`;
}

/** mIoU with one decimal; '-' when missing or NaN. */
function formatMiou(r: SemSegResults | undefined): string {
  const v = r?.sem_seg['mIoU'];
  return v === undefined || !Number.isFinite(v) ? '-' : formatOneDecimal(v);
}

/**
 * The main-results Markdown table. Columns default to A-847, PC-459, A-150, PC-59, PAS-20,
 * PAS-20b, the order of the CAT-Seg paper and README.
 */
export function formatMainTable(rows: readonly ModelResults[], benchmarks: readonly BenchmarkName[] = MAIN_TABLE_BENCHMARKS): string {
  for (const b of benchmarks) {
    check(b in BENCHMARKS, 'AHS_ERR_INVALID_ARGUMENT', () => `formatMainTable: unknown benchmark '${b}'`);
  }
  const cell = (s: string): string => s.replace(/\|/g, '\\|');
  const lines = [
    `| Model | ${benchmarks.map((b) => BENCHMARKS[b].title).join(' | ')} |`,
    `|---|${benchmarks.map(() => '---:').join('|')}|`,
  ];
  for (const row of rows) {
    lines.push(`| ${cell(row.model)} | ${benchmarks.map((b) => formatMiou(row.results[b])).join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}

export async function writeMainTable(
  path: string,
  rows: readonly ModelResults[],
  benchmarks: readonly BenchmarkName[] = MAIN_TABLE_BENCHMARKS,
): Promise<void> {
  await writeFileAtomic(path, formatMainTable(rows, benchmarks));
}

export interface EvalReportFiles { results: string; perClassCsv: string; table: string }

/** The three report files of one benchmark run in `outDir`: results.json, per_class.csv, results.md. */
export async function writeEvalReport(
  outDir: string,
  results: SemSegResults,
  classNames: readonly string[],
  model: string,
  benchmark: BenchmarkName,
): Promise<EvalReportFiles> {
  const files = { results: join(outDir, 'results.json'), perClassCsv: join(outDir, 'per_class.csv'), table: join(outDir, 'results.md') };
  await writeResultsJson(files.results, results);
  await writePerClassCsv(files.perClassCsv, results, classNames);
  await writeMainTable(files.table, [{ model, results: { [benchmark]: results } }], [benchmark]);
  return files;
}
