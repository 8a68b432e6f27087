// Engine-wide facts and settings.
import { native } from './native.js';

export function manualSeed(seed: number): void {
  native().manualSeed(seed);
}

/** The full state of a device's default random generator ('cpu' or 'cuda:N'), as
 * torch.get_rng_state returns it; setRngState restores it exactly (checkpoints, resume). */
export function rngState(device = 'cpu'): Uint8Array {
  return new Uint8Array(native().rngState(device));
}

export function setRngState(state: Uint8Array, device = 'cpu'): void {
  native().setRngState(device, state);
}

export function numThreads(): number {
  return native().getNumThreads();
}

export function setNumThreads(n: number): void {
  native().setNumThreads(n);
}

/** Live native tensors (JS handles not yet disposed or collected). Tests use it to find leaks. */
export function liveTensorCount(): number {
  return native().liveTensorCount();
}

/** Native memory: live tensors, bytes held by the allocator (live + cached for reuse), cache
 * hits and misses, and the peak of live (in-use) bytes since start. */
export function memoryStats(): { liveTensors: number; allocatedBytes: number; cachedBytes: number; hits: number; misses: number; peakLiveBytes: number } {
  const s = native().allocatorStats();
  return { liveTensors: native().liveTensorCount(), allocatedBytes: s.allocatedBytes ?? 0, cachedBytes: s.cachedBytes ?? 0, hits: s.hits ?? 0, misses: s.misses ?? 0, peakLiveBytes: s.peakLiveBytes ?? 0 };
}

/** The caching allocator's cap on freed blocks it keeps (AHS_SEG_CPU_CACHE_MB, default 4096 MB). */
export function cacheLimitBytes(): number {
  return native().allocatorStats().cacheLimitBytes ?? 0;
}

/** Changes that cap; blocks beyond a lower cap go back to the system at once. */
export function setCacheLimitBytes(bytes: number): void {
  native().setCacheLimit(Math.max(0, Math.floor(bytes)));
}

/** Caps live + cached bytes (0 = no cap): an allocation that would pass it first hands cached
 * blocks back to the system, so a big cache never adds to the process's peak. */
export function setFootprintLimitBytes(bytes: number): void {
  native().setFootprintLimit(Math.max(0, Math.floor(bytes)));
}

/** Returns cached CPU blocks to the system. */
export function emptyCache(): void {
  native().emptyCache();
}

export interface EngineInfo {
  torchVersion: string;
  cudaAvailable: boolean;
  cudaDeviceCount: number;
  builtWithCuda: boolean;
  threads: number;
  openblasCoreType: string | undefined;
  parallelInfo: string;
  buildConfig: string;
  mkldnn: boolean;
  /** float32 linear layers with K or N <= 256 run on oneDNN's sgemm (else BLAS through at::linear). */
  onednnGemm: boolean;
  cachingAllocator: boolean;
}

export function engineInfo(): EngineInfo {
  const b = native();
  const i = b.info();
  return {
    torchVersion: i.torchVersion,
    cudaAvailable: i.cudaAvailable,
    cudaDeviceCount: i.cudaDeviceCount,
    builtWithCuda: i.builtWithCuda,
    threads: b.getNumThreads(),
    openblasCoreType: process.env.OPENBLAS_CORETYPE,
    parallelInfo: i.parallelInfo,
    buildConfig: i.config,
    mkldnn: i.mkldnn,
    onednnGemm: i.onednnGemm,
    cachingAllocator: b.allocatorStats().enabled,
  };
}
