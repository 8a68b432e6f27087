// Reads a training run's OUTPUT_DIR/metrics.json (detectron2's JSONWriter format: one JSON object
// per line, each with an integer "iteration" and scalar fields) into one series per key. Kept free
// of plotting so the trainer can reuse it, e.g. to find the last logged iteration on resume.

import { readFile } from 'node:fs/promises';
import { AhsError } from '../errors.js';

/** A series: [iteration, value] pairs sorted by iteration, one pair per iteration. */
export type Series = [iteration: number, value: number][];

export interface MetricsLog {
  /** The file read, for messages. */
  path: string;
  /** Every iteration that has at least one line, ascending. */
  iterations: number[];
  /** One series per numeric field ("total_loss", "lr", "sem_seg/mIoU", ...), keys in first-seen order. */
  series: Map<string, Series>;
  /** Lines read (not counting blank lines or a skipped truncated last line). */
  lines: number;
  /** True when the last line could not be parsed and was skipped (a run killed mid-write). */
  truncatedLastLine: boolean;
  /** Values written by Python as NaN/Infinity, left out of the series (a diverged run shows up here). */
  nonFinite: number;
}

/** Reads `path` (OUTPUT_DIR/metrics.json). Errors name the file and the 1-based line number. */
export async function readMetrics(path: string): Promise<MetricsLog> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new AhsError('AHS_ERR_FILE_NOT_FOUND', `${path} does not exist; \`ahs-seg train\` writes it into its OUTPUT_DIR`);
    }
    throw e;
  }
  return parseMetrics(text, path);
}

/**
 * Parses metrics.json text. A resumed run repeats iterations: for each key, the later line's value
 * for an iteration replaces the earlier one, while keys only the earlier line had are kept (a
 * training line and an evaluation line for the same iteration merge).
 */
export function parseMetrics(text: string, path = 'metrics.json'): MetricsLog {
  const rows = text.split('\n');
  let last = rows.length - 1;
  while (last >= 0 && rows[last]!.trim() === '') last--;
  const byKey = new Map<string, Map<number, number>>();
  const iterations = new Set<number>();
  let lines = 0;
  let truncatedLastLine = false;
  let nonFinite = 0;
  for (let i = 0; i <= last; i++) {
    const line = rows[i]!.trim();
    if (line === '') continue;
    const parsed = parseLine(line);
    if (parsed === undefined) {
      // Only the last line may be cut short by a kill; anything earlier means a damaged file.
      if (i === last) { truncatedLastLine = true; break; }
      throw new AhsError('AHS_ERR_FILE_FORMAT', `${path}:${i + 1}: not a JSON object: ${preview(line)}`);
    }
    const it = parsed.iteration;
    if (typeof it !== 'number' || !Number.isInteger(it) || it < 0) {
      throw new AhsError('AHS_ERR_FILE_FORMAT',
        `${path}:${i + 1}: "iteration" must be a non-negative integer, got ${JSON.stringify(it) ?? 'nothing'}`);
    }
    lines++;
    iterations.add(it);
    for (const [key, v] of Object.entries(parsed)) {
      if (key === 'iteration') continue;
      if (v === NON_FINITE) { nonFinite++; continue; }
      if (typeof v !== 'number') continue; // strings, booleans, nested objects: not a scalar series
      let s = byKey.get(key);
      if (!s) byKey.set(key, (s = new Map()));
      s.set(it, v);
    }
  }
  const series = new Map<string, Series>();
  for (const [key, points] of byKey) {
    series.set(key, [...points].sort((a, b) => a[0] - b[0]));
  }
  return { path, iterations: [...iterations].sort((a, b) => a - b), series, lines, truncatedLastLine, nonFinite };
}

/** Marks a NaN/Infinity token: JSON.parse rejects them, Python's json.dumps writes them. */
const NON_FINITE = '\u0000non-finite';

function parseLine(line: string): Record<string, unknown> | undefined {
  for (const candidate of [line, replaceNonFinite(line)]) {
    if (candidate === undefined) continue;
    try {
      const v: unknown = JSON.parse(candidate);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
      return undefined;
    } catch {
      // try the next candidate
    }
  }
  return undefined;
}

/** Python-style bare NaN / Infinity values become a marker string; undefined when there are none. */
function replaceNonFinite(line: string): string | undefined {
  const re = /([:,[]\s*)(-?Infinity|NaN)(?=\s*[,}\]])/g;
  if (!re.test(line)) return undefined;
  return line.replace(re, (_m, pre: string) => `${pre}${JSON.stringify(NON_FINITE)}`);
}

function preview(line: string): string {
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}
