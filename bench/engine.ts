// `npm run bench -- engine`: fp32 matmul GFLOP/s and one ViT-B/16 block (width 768, 12 heads,
// MLP 3072, QuickGELU, 577 tokens, batch 1) forward and forward+backward, next to Debian's
// PyTorch measured in the same run when it is installed. Ratios are what to compare.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ResidualAttentionBlock } from '../src/models/clip/residual_attention_block.js';
import { engineInfo, manualSeed, matmulGflops, noGrad, randn, timeMs } from '../src/index.js';

function torchPython(): string | undefined {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return undefined;
}

export async function benchEngine(): Promise<void> {
  manualSeed(0);
  const info = engineInfo();
  const ts: Record<string, number> = {};
  for (const [m, k, n] of [[577, 768, 3072], [577, 768, 768]] as const) {
    ts[`matmul_${m}x${k}x${n}_gflops`] = noGrad(() => matmulGflops(m, k, n));
  }
  const blk = new ResidualAttentionBlock(768, 12);
  const x = randn([1, 577, 768]);
  ts.block_fwd_ms = noGrad(() => timeMs(() => blk.forward(x), 11));
  const xg = randn([1, 577, 768]).requiresGrad_();
  const params = blk.parameters();
  ts.block_fwd_bwd_ms = timeMs(() => {
    for (const p of params) p.grad = null;
    blk.forward(xg).sum().backward();
  }, 11);

  let torch: Record<string, number | string> | undefined;
  const py = torchPython();
  if (py) {
    const script = fileURLToPath(new URL('./torch_engine.py', import.meta.url));
    const r = spawnSync(py, [script, String(info.threads)], { encoding: 'utf8', env: process.env });
    if (r.status === 0) torch = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number | string>;
    else process.stderr.write(`bench: PyTorch run failed:\n${r.stderr}\n`);
  }

  process.stdout.write(`engine bench: libtorch ${info.torchVersion}, ${info.threads} threads, OPENBLAS_CORETYPE=${info.openblasCoreType}${torch ? `, PyTorch ${torch.torch}` : ', PyTorch not installed (apt-get install python3-torch to compare)'}\n`);
  process.stdout.write(`${'measure'.padEnd(34)}${'ahs-seg'.padStart(10)}${torch ? 'PyTorch'.padStart(10) + 'ratio'.padStart(8) : ''}\n`);
  for (const [k, v] of Object.entries(ts)) {
    const t = torch?.[k] as number | undefined;
    // ratio > 1 is better for ahs-seg: throughput ours/theirs, time theirs/ours.
    const ratio = t === undefined ? '' : (k.endsWith('gflops') ? v / t : t / v).toFixed(2).padStart(8);
    process.stdout.write(`${k.padEnd(34)}${v.toFixed(1).padStart(10)}${t === undefined ? '' : t.toFixed(1).padStart(10) + ratio}\n`);
  }
  if (torch) process.stdout.write('ratio: ahs-seg relative to PyTorch (throughput ratio, or inverse time ratio); targets: matmul >= 0.9, block fwd+bwd >= 0.91 (no slower than 1.1x)\n');
}
