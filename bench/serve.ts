// `npm run bench -- serve`: seconds per request of `ahs-seg serve` on loopback (multipart upload
// of a 640x480 PNG with 5 labels, through the queue and the model's worker thread) for CLIP
// ViT-B/16 training-free (NACLIP + PAMR) and CAT-Seg ViT-B/16 (whole image and sliding window),
// all with random weights; then the throughput with 2 concurrent clients. Text embeddings are
// warmed by the first request and not timed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { loadConfig } from '../src/config/index.js';
import { buildCatSeg } from '../src/models/catseg/build.js';
import { CLIP } from '../src/models/clip/clip_model.js';
import { saveTensors } from '../src/io/tensor_io.js';
import { manualSeed, numThreads } from '../src/index.js';
import { buildServer } from '../src/service/server.js';
import { WorkerBackend } from '../src/service/worker_backend.js';
import type { WorkerInit } from '../src/service/worker_protocol.js';
import { VIT_B_16 } from './clip.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const LABELS = 'cup, saucer, table, spoon, coffee';

async function measure(name: string, init: WorkerInit, image: Buffer, out: (l: string) => void, runs: number): Promise<void> {
  const backend = new WorkerBackend(init, name);
  const app = await buildServer({ backend, staticDir: null, limits: { timeoutMs: 3_600_000 } });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    await backend.loaded;
    const post = async () => {
      const f = new FormData();
      f.append('image', new Blob([image]), 'photo.png');
      f.append('labels', LABELS);
      const r = await fetch(`${url}/v1/segment`, { method: 'POST', body: f });
      if (r.status !== 200) throw new Error(`${name}: HTTP ${r.status} ${await r.text()}`);
      await r.arrayBuffer();
    };
    await post(); // warm-up: text embeddings, allocator
    const times: number[] = [];
    for (let i = 0; i < runs; i++) { const t = performance.now(); await post(); times.push((performance.now() - t) / 1000); }
    const t = performance.now();
    await Promise.all([0, 1].map(async () => { for (let i = 0; i < runs; i++) await post(); }));
    const thr = (2 * runs) / ((performance.now() - t) / 1000);
    out(`${name.padEnd(44)} ${median(times).toFixed(2)} s per request (median of ${runs}), 2 clients: ${thr.toFixed(3)} requests/s`);
  } finally {
    await app.close();
    await backend.close();
  }
}

export async function benchServe(): Promise<void> {
  const out = (l: string) => process.stdout.write(l + '\n');
  const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 3;
  const dir = mkdtempSync(join(tmpdir(), 'ahs-bench-serve-'));
  try {
    manualSeed(0);
    const clip = new CLIP(VIT_B_16);
    const clipPath = join(dir, 'clip_vitb16.safetensors');
    saveTensors(clipPath, clip.stateDict());
    clip.dispose();
    const cfgPath = fileURLToPath(new URL('../configs/vitb_384.yaml', import.meta.url));
    const catseg = buildCatSeg(loadConfig(cfgPath));
    const ckpt = join(dir, 'catseg_vitb.safetensors');
    saveTensors(ckpt, catseg.stateDict());
    catseg.dispose();
    writeFileSync(join(dir, 'note.txt'), 'random weights for bench/serve.ts\n');
    const rgb = Buffer.from(Array.from({ length: 640 * 480 * 3 }, (_, i) => (i * 7919) % 256));
    const image = await sharp(rgb, { raw: { width: 640, height: 480, channels: 3 } }).png().toBuffer();
    out(`serve bench: loopback HTTP, 640x480 PNG, 5 labels, ViT-B/16 random weights, ${numThreads()} threads`);
    await measure('training-free (NACLIP + PAMR)', { options: { clip: clipPath, textCacheDir: null } }, image, out, runs);
    await measure('CAT-Seg ViT-B/16, whole image', { options: { model: ckpt, config: cfgPath, mode: 'whole', textCacheDir: null } }, image, out, runs);
    await measure('CAT-Seg ViT-B/16, sliding window (eval.sh)', { options: { model: ckpt, config: cfgPath, mode: 'sliding', textCacheDir: null } }, image, out, runs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
