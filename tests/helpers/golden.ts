// The golden-fixture folder and the tolerances its README states. Parity tests take every shape,
// count and tolerance from here so that another fixture folder of the same structure works too.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTensors } from '../../src/io/tensor_io.js';
import { readSafetensorsLazy } from '../../src/io/safetensors.js';
import type { Tensor } from '../../src/tensor/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function goldenDir(): string {
  return process.env.AHS_GOLDEN_DIR ?? path.resolve(repoRoot, '../shared/fixtures/golden');
}

export function goldenPath(file: string): string {
  return path.join(goldenDir(), file);
}

/** A reason to skip when the fixture is absent (node:test's `skip` option), else false. */
export function skipUnless(...files: string[]): string | false {
  const missing = files.filter((f) => !existsSync(goldenPath(f)));
  return missing.length ? `golden fixture(s) ${missing.join(', ')} not found in ${goldenDir()}` : false;
}

export interface GoldenTolerance { output: number; rawBlock: number; gradRelative: number }

/** Parses "within max |diff| <= A of every F32 output here (B for raw block outputs), and
 * gradient L2 norms within C relative" from the README. */
export function goldenTolerance(): GoldenTolerance {
  const readme = readFileSync(goldenPath('README.md'), 'utf8').replace(/\s+/g, ' ');
  const out = /max \|diff\| <= ([0-9.e-]+) of every F32 output here \(([0-9.e-]+) for raw block outputs\)/.exec(readme);
  const grad = /gradient L2 norms within ([0-9.e-]+) relative/.exec(readme);
  if (!out || !grad) throw new Error(`cannot find the tolerance sentences in ${goldenPath('README.md')}`);
  return { output: Number(out[1]), rawBlock: Number(out[2]), gradRelative: Number(grad[1]) };
}

/** All tensors of a fixture file (float16 upcast to float32, as the README prescribes). */
export function loadGolden(file: string): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const { tensors, metadata } = loadTensors(goldenPath(file), { float32: true });
  return { tensors, metadata };
}

export function goldenMetadata(file: string): Record<string, string> {
  return readSafetensorsLazy(goldenPath(file)).metadata;
}

export function maxAbsDiff(a: Tensor, b: Tensor): number {
  const d = a.sub(b);
  const ad = d.abs();
  const m = ad.amax();
  const v = m.item();
  d.dispose(); ad.dispose(); m.dispose();
  return v;
}

export interface TrainingFreeTolerance {
  /** max |diff| of every F32 output of the tfree_* files. */
  output: number;
  /** Label maps must agree wherever the file's top-1 minus top-2 probability is at least this. */
  labelGap: number;
}

/** Parses the tfree_* section's "should be within max |diff| <= A of every F32 output" and
 * "top-1 minus top-2 gap of the file's `seg_probs` is at least B". */
export function trainingFreeTolerance(): TrainingFreeTolerance {
  const readme = readFileSync(goldenPath('README.md'), 'utf8');
  const start = readme.search(/^## tfree_/m);
  if (start < 0) throw new Error(`no "## tfree_" section in ${goldenPath('README.md')}`);
  const section = readme.slice(start).replace(/\s+/g, ' ');
  const out = /max \|diff\| <= ([0-9.e-]+) of every F32 output\./.exec(section);
  const gap = /top-1 minus top-2 gap of the file's `seg_probs` is at least ([0-9.e-]+)/.exec(section);
  if (!out || !gap) throw new Error(`cannot find the tfree tolerance sentences in ${goldenPath('README.md')}`);
  return { output: Number(out[1]), labelGap: Number(gap[1]) };
}
