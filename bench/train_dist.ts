// `npm run bench -- train --workers N [--steps S] [--width W] [--layers L] [--rounds R]`: data-parallel
// training through the real launcher (`ahs-seg train --num-workers N`, CPU Gloo on loopback)
// against one process, every process with ONE intra-op thread so that N processes on N cores
// compare fairly with one. A small CAT-Seg (CLIP ViT of width W and L layers at 128x128, the
// synthetic shapes dataset) keeps it to a minute. Reported: median step time (rank 0's, with the
// gradient allreduce), the allreduce's share, and scaling efficiency
//   weak:   same batch per process (N x the images per step): efficiency = T(1 proc) / T(N procs)
//   strong: same global batch:                         efficiency = T(1 proc) / (N x T(N procs))
// plus allreduce throughput of a 25 MB bucket between two ranks over loopback.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findFreePort } from '../src/distributed/free_port.js';
import { ProcessGroup } from '../src/distributed/process_group.js';
import { openStore, parseDistUrl } from '../src/distributed/rendezvous.js';
import { dispose, zeros } from '../src/index.js';
import { TINY_CLIP_64, tinyTrainConfig, writeShapesDataset, writeTinyClip } from '../tests/helpers/shapes_dataset.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface RunResult { step: number; sync: number | null }

async function runTraining(dir: string, name: string, workers: number, batch: number, steps: number, cfg: string): Promise<RunResult> {
  const out = join(dir, name);
  const args = ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'train', '--config-file', cfg, ...(workers > 1 ? ['--num-workers', String(workers)] : []),
    'OUTPUT_DIR', out, 'SOLVER.IMS_PER_BATCH', String(batch), 'SOLVER.MAX_ITER', String(steps), 'SOLVER.CHECKPOINT_PERIOD', '0', 'SOLVER.WARMUP_ITERS', '0'];
  const child = spawn(process.execPath, args, { env: { ...process.env, AHS_SEG_THREADS: '1', OMP_NUM_THREADS: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((res) => child.on('close', res));
  if (code !== 0) throw new Error(`${name}: ahs-seg train failed\n${stderr}`);
  const lines = readFileSync(join(out, 'metrics.json'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
  const timed = lines.filter((l) => l.iteration! >= 2 && l.time !== undefined); // the first steps warm the allocator and caches
  return { step: median(timed.map((l) => l.time!)), sync: timed[0]?.sync_time !== undefined ? median(timed.map((l) => l.sync_time!)) : null };
}

/** Allreduce of a 25 MB float32 bucket between two ranks of this process (loopback TCP). */
async function allreduceThroughput(reps = 10): Promise<{ ms: number; gbps: number }> {
  const r = parseDistUrl(`tcp://127.0.0.1:${await findFreePort()}`);
  const stores = await Promise.all([0, 1].map((rank) => openStore(r, { rank, worldSize: 2, timeoutMs: 30_000 })));
  const groups = await Promise.all([0, 1].map((rank) => ProcessGroup.init(stores[rank]!, { rank, worldSize: 2, backend: 'gloo', timeoutMs: 30_000, hostname: '127.0.0.1' })));
  const n = (25 * 2 ** 20) / 4;
  const bufs = [zeros([n]), zeros([n])];
  const times: number[] = [];
  for (let i = 0; i < reps + 1; i++) {
    const t0 = performance.now();
    await Promise.all(groups.map((g, k) => g.allreduceSum(bufs[k]!, 'bench bucket')));
    if (i > 0) times.push(performance.now() - t0);
  }
  dispose(bufs);
  for (const g of groups) g.destroy();
  for (const s of stores) s.close();
  const ms = median(times);
  return { ms, gbps: (25 * 2 ** 20) / (ms / 1000) / 1e9 };
}

export async function benchTrainDist(argv: string[]): Promise<void> {
  const arg = (name: string, def: number) => { const i = argv.indexOf(name); return i >= 0 ? Number(argv[i + 1]) : def; };
  const workers = arg('--workers', 2), steps = arg('--steps', 12), width = arg('--width', 512), layers = arg('--layers', 8), perProc = arg('--batch', 2);
  const out = (l: string) => process.stdout.write(l + '\n');
  const dir = mkdtempSync(join(tmpdir(), 'ahs-bench-dist-'));
  try {
    const data = await writeShapesDataset(join(dir, 'shapes'), 32);
    const clip = writeTinyClip(join(dir, 'clip.safetensors'), 11, { ...TINY_CLIP_64, visionWidth: width, visionLayers: layers, visionHeads: Math.max(1, width / 64), transformerWidth: width, transformerHeads: Math.max(1, width / 64) });
    const cfg = join(dir, 'bench.yaml');
    writeFileSync(cfg, tinyTrainConfig(repoRoot, { clip, data, out: join(dir, 'unused') }));
    out(`train bench, data parallel: CAT-Seg with a CLIP ViT of width ${width} and ${layers} layers, 128x128 crops, 1 intra-op thread per process, best of ${arg('--rounds', 2)} alternating rounds of the median step of iterations 2..${steps - 1}; ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(2)} before the runs (other work on the machine skews the comparison)`);
    // Rounds alternate the cases and each keeps its best median, so a burst of other work on the
    // machine does not land on one case only.
    const rounds = arg('--rounds', 2);
    const best = (a: RunResult | undefined, b: RunResult): RunResult => (a && a.step <= b.step ? a : b);
    let one: RunResult | undefined, oneBig: RunResult | undefined, many: RunResult | undefined, apart: RunResult | undefined;
    for (let r = 0; r < rounds; r++) {
      one = best(one, await runTraining(dir, `one${r}`, 1, perProc, steps, cfg));
      many = best(many, await runTraining(dir, `many${r}`, workers, perProc * workers, steps, cfg));
      oneBig = best(oneBig, await runTraining(dir, `one_big${r}`, 1, perProc * workers, steps, cfg));
      // What the machine gives N processes that never talk to each other: the bound for N ranks.
      const runs = await Promise.all(Array.from({ length: workers }, (_, k) => runTraining(dir, `apart${r}_${k}`, 1, perProc, steps, cfg)));
      apart = best(apart, runs.reduce((a, b) => (a.step >= b.step ? a : b)));
    }
    if (!one || !oneBig || !many || !apart) throw new Error('--rounds must be at least 1');
    out(`1 process,  batch ${perProc}:               step ${one.step.toFixed(3)} s  (${(perProc / one.step).toFixed(2)} img/s)`);
    out(`1 process,  batch ${perProc * workers}:               step ${oneBig.step.toFixed(3)} s  (${((perProc * workers) / oneBig.step).toFixed(2)} img/s)`);
    out(`${workers} processes, batch ${perProc} each (${perProc * workers}): step ${many.step.toFixed(3)} s  (${((perProc * workers) / many.step).toFixed(2)} img/s), gradient allreduce ${many.sync!.toFixed(3)} s of it`);
    out(`${workers} independent 1-process runs at once, batch ${perProc} each: step ${apart.step.toFixed(3)} s (the slower one): what this machine gives ${workers} processes that do not communicate`);
    out(`scaling efficiency of ${workers} processes: weak ${((100 * one.step) / many.step).toFixed(0)}% (same batch per process), strong ${((100 * oneBig.step) / (workers * many.step)).toFixed(0)}% (same global batch); against ${workers} independent processes ${((100 * apart.step) / many.step).toFixed(0)}% (the cost of data parallelism itself)`);
    const ar = await allreduceThroughput();
    out(`allreduce of a 25 MB float32 bucket, 2 ranks over loopback (gloo): ${ar.ms.toFixed(1)} ms (${ar.gbps.toFixed(2)} GB/s of bucket)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
