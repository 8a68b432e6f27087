// `npm run bench -- loader`: images/s of the training data loader alone (decode + checks +
// augmentation + transfer, no model) at batch 4, for numWorkers 0, 1 and 2, over 64 full-size
// JPEGs (32 at 640x480, 32 at 480x640: smooth gradients plus noise, so JPEG decoding costs what it
// does on photos) with 8-bit label PNGs, written to a temp folder for the run.
//
// The mapper is CAT-Seg's (src/data/semantic_mapper.ts with configs/vitb_384.yaml's INPUT:
// ResizeShortestEdge 384 max 1333, absolute 384x384 crop, colour aug SSD, flip, pad to 384). Where
// that module cannot be loaded, the test mapper (a 384 crop + flip) stands in, and the report says so.
// loaderImagesPerSec() returns the figure, so that a training-step timing can sit next to it.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { loadConfig } from '../src/config/index.js';
import { writeLabelPng } from '../src/data/label_io.js';
import { resolveModuleUrl } from '../src/data/load_sample.js';
import { TrainLoader, type MapperSpec } from '../src/data/loader.js';
import { Rng } from '../src/data/rng.js';
import type { SegDataset } from '../src/data/sample.js';

const NUM_CLASSES = 171;

export interface BenchDataset {
  dataset: SegDataset;
  dir: string;
  cleanup(): Promise<void>;
}

/** 64 JPEG + label pairs in a fresh temp folder (about a second per 10 pairs to write). */
export async function makeBenchDataset(count = 64): Promise<BenchDataset> {
  const dir = await mkdtemp(join(tmpdir(), 'ahs-bench-loader-'));
  await mkdir(join(dir, 'images'));
  await mkdir(join(dir, 'labels'));
  const items = [];
  for (let i = 0; i < count; i++) {
    const [w, h] = i % 2 === 0 ? [640, 480] : [480, 640];
    const r = Rng.for(99, i);
    const rgb = Buffer.alloc(w * h * 3);
    const label = new Uint8Array(w * h);
    const [a, b, c] = [r.uniform(0.1, 0.6), r.uniform(0.1, 0.6), r.uniform(0, 255)];
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = y * w + x;
        const noise = (r.nextU32() & 31) - 16;
        rgb[p * 3] = Math.max(0, Math.min(255, x * a + noise));
        rgb[p * 3 + 1] = Math.max(0, Math.min(255, y * b + noise));
        rgb[p * 3 + 2] = Math.max(0, Math.min(255, (c + (x + y) * 0.2) % 256 + noise));
        // Blobs of a few classes per image, with an ignore border, like COCO-Stuff labels.
        label[p] = x < 4 || y < 4 ? 255 : (((x >> 6) + 3 * (y >> 6) + i * 7) % NUM_CLASSES);
      }
    }
    const key = `bench_${String(i).padStart(3, '0')}`;
    const imagePath = join(dir, 'images', `${key}.jpg`);
    const labelPath = join(dir, 'labels', `${key}.png`);
    await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toFile(imagePath);
    await writeLabelPng(labelPath, label, w, h);
    items.push({ key, imagePath, labelPath });
  }
  const dataset: SegDataset = { name: dir, classNames: Array.from({ length: NUM_CLASSES }, (_, i) => `class ${i}`), ignoreLabel: 255, items };
  return { dataset, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** CAT-Seg's mapper with vitb_384.yaml's settings, or the test mapper when it is missing. */
export async function benchMapper(ignoreLabel = 255): Promise<{ spec: MapperSpec; description: string }> {
  const real = new URL('../src/data/semantic_mapper.js', import.meta.url).href;
  try {
    const mod = (await import(resolveModuleUrl(real))) as {
      semanticMapperOptionsFromConfig: (cfg: unknown, ignore?: number) => unknown;
    };
    const cfg = loadConfig(fileURLToPath(new URL('../configs/vitb_384.yaml', import.meta.url)));
    const options = mod.semanticMapperOptionsFromConfig(cfg, ignoreLabel);
    return { spec: { module: real, exportName: 'mapSemanticSample', options }, description: `CAT-Seg semantic mapper (configs/vitb_384.yaml INPUT: ${JSON.stringify(options)})` };
  } catch (err) {
    const fixture = new URL('../tests/unit/data/fixtures/crop_flip_mapper.ts', import.meta.url).href;
    return {
      spec: { module: fixture, exportName: 'cropFlip', options: { crop: 384, ignoreLabel } },
      description: `TEST MAPPER (384 crop + flip; no resize or colour aug), since src/data/semantic_mapper.ts did not load: ${(err as Error).message}`,
    };
  }
}

export interface LoaderBenchResult {
  numWorkers: number;
  batchSize: number;
  images: number;
  seconds: number;
  imagesPerSec: number;
  /** Mean time next() waited per batch, as the trainer's data_time would show with a zero-cost step. */
  meanDataTimeMs: number;
}

/** images/s of the loader over `batches` batches after `warmup` (worker start, JIT) ones. */
export async function loaderImagesPerSec(o: { dataset: SegDataset; mapper: MapperSpec; numWorkers: number; batchSize?: number; batches?: number; warmup?: number }): Promise<LoaderBenchResult> {
  const batchSize = o.batchSize ?? 4;
  const loader = new TrainLoader({ dataset: o.dataset, batchSize, seed: 0, numWorkers: o.numWorkers, mapper: o.mapper });
  try {
    for (let i = 0; i < (o.warmup ?? 3); i++) await loader.next();
    const batches = o.batches ?? 24;
    let waited = 0;
    const t0 = performance.now();
    for (let i = 0; i < batches; i++) waited += (await loader.next()).dataTimeMs;
    const seconds = (performance.now() - t0) / 1000;
    const images = batches * batchSize;
    return { numWorkers: o.numWorkers, batchSize, images, seconds, imagesPerSec: images / seconds, meanDataTimeMs: waited / batches };
  } finally {
    await loader.close();
  }
}

export async function benchLoader(): Promise<LoaderBenchResult[]> {
  const out = (line: string) => process.stdout.write(line + '\n');
  const data = await makeBenchDataset();
  try {
    const { spec, description } = await benchMapper(data.dataset.ignoreLabel);
    out(`loader bench: ${data.dataset.items.length} JPEGs (640x480 and 480x640) + 8-bit PNG labels, batch 4, per-sample checks on`);
    out(`mapper: ${description}`);
    const results: LoaderBenchResult[] = [];
    for (const numWorkers of [0, 1, 2]) {
      const r = await loaderImagesPerSec({ dataset: data.dataset, mapper: spec, numWorkers });
      results.push(r);
      out(`numWorkers ${numWorkers}: ${r.imagesPerSec.toFixed(1)} images/s (${r.images} images in ${r.seconds.toFixed(2)} s, next() waited ${r.meanDataTimeMs.toFixed(1)} ms per batch)`);
    }
    return results;
  } finally {
    await data.cleanup();
  }
}
