// How much memory a job may plan for, and the check that refuses a job whose size is known in
// advance to exceed it (class count x image size, model widths), before anything is allocated.
import { totalmem } from 'node:os';
import { AhsError } from '../errors.js';

const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** The budget: $AHS_SEG_MEMORY_LIMIT (bytes, or with a K/M/G/T suffix, e.g. "8G"), else all of
 * this machine's memory: a job planned beyond that cannot run here at all. */
export function memoryLimitBytes(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.AHS_SEG_MEMORY_LIMIT;
  if (raw === undefined || raw.trim() === '') return totalmem();
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$/i.exec(raw);
  const v = m ? Number(m[1]) * UNITS[m[2]!.toLowerCase()]! : NaN;
  if (!(v > 0)) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `AHS_SEG_MEMORY_LIMIT must be a size such as 8G, 512M or 1073741824 (bytes), got '${raw}'`);
  return v;
}

/** 1536 -> "1.5 KB", 3.2e9 -> "3.0 GB" (binary units, as `free -h`). */
export function fmtBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** Throws AHS_ERR_TOO_LARGE when `bytes` exceeds the budget; `what` says what needs it and `fix`
 * how to make it smaller. */
export function checkMemoryBudget(bytes: number, what: string, fix: string, limit = memoryLimitBytes()): void {
  if (bytes <= limit) return;
  const source = process.env.AHS_SEG_MEMORY_LIMIT ? 'AHS_SEG_MEMORY_LIMIT' : "this machine's memory";
  throw new AhsError('AHS_ERR_TOO_LARGE', `${what} needs about ${fmtBytes(bytes)}, more than the ${fmtBytes(limit)} of ${source}; ${fix}`);
}
