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
