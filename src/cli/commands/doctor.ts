// `ahs-seg doctor`: what the engine runs on, and how fast its core kernel is, measured now.
import { readFileSync } from 'node:fs';
import { engineInfo, manualSeed, linearGflops, matmulGflops, noGrad, ones, tidy, type DType } from '../../index.js';

function blasLibrary(): string {
  try {
    const maps = readFileSync('/proc/self/maps', 'utf8');
    const libs = new Set(maps.split('\n').map((l) => l.split(/\s+/)[5] ?? '').filter((p) => /blas|mkl/i.test(p)));
    return [...libs].join(', ') || 'unknown';
  } catch {
    return 'unknown';
  }
}

function dtypeSupport(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of ['float32', 'float64', 'bfloat16', 'float16', 'int64', 'int32', 'uint8', 'bool'] as DType[]) {
    const parts: string[] = [];
    try {
      tidy(() => ones([8, 8], d).add(ones([8, 8], d)));
      parts.push('elementwise');
    } catch { parts.push('no elementwise'); }
    if (d !== 'bool') {
      try {
        tidy(() => ones([8, 8], d).matmul(ones([8, 8], d)));
        parts.push('matmul');
      } catch { parts.push('no matmul'); }
    }
    out[d] = parts.join(', ');
  }
  return out;
}

export async function doctor(opts: { json?: boolean }): Promise<void> {
  const info = engineInfo();
  manualSeed(0);
  const gflops = noGrad(() => matmulGflops(577, 768, 3072));
  const linGflops = noGrad(() => linearGflops(577, 768, 3072));
  const report = {
    libtorch: info.torchVersion,
    libtorchSource: process.env.LIBTORCH ?? 'Debian libtorch-dev (/usr)',
    devices: ['cpu', ...Array.from({ length: info.cudaDeviceCount }, (_, i) => `cuda:${i}`)],
    builtWithCuda: info.builtWithCuda,
    blas: blasLibrary(),
    openblasCoreType: info.openblasCoreType ?? '(OpenBLAS default)',
    threads: info.threads,
    cachingAllocator: info.cachingAllocator,
    mkldnn: info.mkldnn,
    linearGemm: info.onednnGemm ? 'oneDNN sgemm when K or N <= 256, else BLAS' : 'BLAS (at::linear)',
    dtypes: dtypeSupport(),
    matmulFp32Gflops: Math.round(gflops * 10) / 10,
    linearFp32Gflops: Math.round(linGflops * 10) / 10,
  };
  if (opts.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return;
  }
  const rows: [string, string][] = [
    ['libtorch', `${report.libtorch} (${report.libtorchSource})`],
    ['devices', `${report.devices.join(', ')}${info.builtWithCuda ? '' : ' (addon built without CUDA)'}`],
    ['BLAS', `${report.blas}; OPENBLAS_CORETYPE=${report.openblasCoreType}`],
    ['threads', `${report.threads} intra-op (AHS_SEG_THREADS overrides)`],
    ['allocator', report.cachingAllocator ? 'caching CPU allocator' : 'libtorch default (AHS_SEG_CACHING_ALLOCATOR=0)'],
    ['mkldnn', report.mkldnn ? 'yes' : 'no'],
    ['linear layers', `${report.linearGemm}${info.onednnGemm ? ' (AHS_SEG_ONEDNN_GEMM=0: BLAS only, =1: oneDNN only)' : ''}`],
    ...Object.entries(report.dtypes).map(([d, s]) => [`dtype ${d}`, s] as [string, string]),
    ['matmul fp32', `[577x768]@[768x3072]: ${report.matmulFp32Gflops} GFLOP/s (median of 15, measured now)`],
    ['linear fp32', `[577x768]@[3072x768]^T: ${report.linearFp32Gflops} GFLOP/s (median of 15, measured now)`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(w)}  ${v}\n`);
}
