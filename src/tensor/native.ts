// Loads the libtorch addon once, after fixing the process settings that must be in place before
// BLAS and OpenMP initialise (../shared/design/engine-notes.md: OPENBLAS_CORETYPE, threads).
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { AhsError } from '../errors.js';

export type Handle = { readonly __handle: unique symbol };

/** The addon's whole surface (native/src). Everything else is built on these calls in TS. */
export interface NativeBinding {
  fromBuffer(data: ArrayBufferView, dtype: number, shape: number[], device?: string): Handle;
  toBuffer(h: Handle): Buffer;
  meta(h: Handle): [dtype: number, shape: number[], device: string, requiresGrad: boolean];
  item(h: Handle): number | boolean;
  dispose(h: Handle): void;
  isLive(h: Handle): boolean;
  liveTensorCount(): number;
  dataPtr(h: Handle): number;
  resolveOp(name: string, overload: string): [id: number, args: string[], types: string[], hasDefault: boolean[], nReturns: number];
  callOp(id: number, args: unknown[]): unknown;
  backward(outputs: Handle[], grads: Handle[] | null, retainGraph: boolean, createGraph: boolean): void;
  grad(h: Handle): Handle | null;
  setGrad(h: Handle, g: Handle | null): void;
  setRequiresGrad(h: Handle, on: boolean): void;
  isLeaf(h: Handle): boolean;
  setGradEnabled(on: boolean): boolean;
  isGradEnabled(): boolean;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  manualSeed(seed: number): void;
  rngState(device: string): Buffer;
  setRngState(device: string, state: Uint8Array): void;
  info(): { torchVersion: string; cudaAvailable: boolean; cudaDeviceCount: number; builtWithCuda: boolean; parallelInfo: string; config: string; mkldnn: boolean; onednnGemm: boolean };
  allocatorStats(): { enabled: boolean; allocatedBytes?: number; cachedBytes?: number; hits?: number; misses?: number; peakLiveBytes?: number; cacheLimitBytes?: number };
  setCacheLimit(bytes: number): void;
  setFootprintLimit(bytes: number): void;
  emptyCache(): void;
  // c10d (native/src/dist_*.cc); typed and checked in src/distributed. Every call that can wait on other
  // processes returns a Promise settled on a libuv thread, after at most its timeout.
  distTcpStore(host: string, port: number, isServer: boolean, worldSize: number, timeoutMs: number): Promise<[store: Handle, port: number]>;
  distFileStore(path: string, worldSize: number, timeoutMs: number): Promise<Handle>;
  distCloseStore(store: Handle): void;
  distProcessGroup(store: Handle, rank: number, worldSize: number, backend: string, timeoutMs: number, iface: string, hostname: string): Promise<Handle>;
  distAllreduceSum(group: Handle, t: Handle, timeoutMs: number): Promise<void>;
  distBroadcast(group: Handle, t: Handle, root: number, timeoutMs: number): Promise<void>;
  distAllgather(group: Handle, t: Handle, worldSize: number, timeoutMs: number): Promise<Handle[]>;
  distBarrier(group: Handle, timeoutMs: number): Promise<void>;
  distDestroyGroup(group: Handle): void;
  distBackends(): string[];
}

/** The OpenBLAS kernel for this CPU, from its real flags: the image forces Haswell (AVX2), which
 * leaves a third of the AVX-512 machines' speed unused; never pick a kernel the CPU lacks. */
export function pickOpenBlasCoreType(cpuinfo: string): string | undefined {
  const flags = new Set((/^flags\s*:(.*)$/m.exec(cpuinfo)?.[1] ?? '').trim().split(/\s+/));
  if (['avx512f', 'avx512bw', 'avx512vl', 'avx512dq', 'avx512cd'].every((f) => flags.has(f))) {
    return flags.has('avx512_bf16') ? 'Cooperlake' : 'SkylakeX';
  }
  if (flags.has('avx2') && flags.has('fma')) return 'Haswell';
  return undefined; // let OpenBLAS detect
}

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
let binding: NativeBinding | undefined;

export function native(): NativeBinding {
  if (binding) return binding;
  // AHS_SEG_BLAS_CORETYPE forces a kernel; otherwise the CPU's flags decide (x86 Linux only).
  const forced = process.env.AHS_SEG_BLAS_CORETYPE;
  if (forced) process.env.OPENBLAS_CORETYPE = forced;
  else if (process.platform === 'linux' && process.arch === 'x64' && existsSync('/proc/cpuinfo')) {
    const core = pickOpenBlasCoreType(readFileSync('/proc/cpuinfo', 'utf8'));
    if (core) process.env.OPENBLAS_CORETYPE = core;
    else delete process.env.OPENBLAS_CORETYPE;
  }
  const path = process.env.AHS_SEG_ADDON ?? `${repoRoot}native/build/Release/ahs_seg.node`;
  if (!existsSync(path)) {
    throw new AhsError('AHS_ERR_NATIVE', `native addon not built: ${path} is missing. Run \`bash scripts/setup.sh\` (or \`npm run build:native\`).`);
  }
  binding = createRequire(import.meta.url)(path) as NativeBinding;
  const threads = Number(process.env.AHS_SEG_THREADS ?? cpus().length);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `AHS_SEG_THREADS must be a positive integer, got '${process.env.AHS_SEG_THREADS}'`);
  }
  binding.setNumThreads(threads);
  return binding;
}
