// Throughput measurements shared by `ahs-seg doctor` and bench/.
import { randn } from './ops.gen.js';
import { linear } from './linear.js';
import { tidy } from './scope.js';

/** Median of `reps` timings (ms) of `fn` after `warmup` untimed runs; tensors made are freed. */
export function timeMs(fn: () => unknown, reps = 15, warmup = 3): number {
  for (let i = 0; i < warmup; i++) tidy(() => { fn(); });
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    tidy(() => { fn(); });
    ts.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)]!;
}

/** fp32 GFLOP/s of [m x k] @ [k x n] (2mkn FLOPs), median over repeats. */
export function matmulGflops(m: number, k: number, n: number, reps = 15): number {
  return tidy(() => {
    const a = randn([m, k]);
    const b = randn([k, n]);
    const ms = timeMs(() => a.matmul(b), reps);
    return (2 * m * k * n) / (ms * 1e6);
  });
}

/** GFLOP/s of one [m, k] @ [n, k]^T linear layer without bias (the path Linear modules take). */
export function linearGflops(m: number, k: number, n: number, reps = 15): number {
  return tidy(() => {
    const x = randn([m, k]);
    const w = randn([n, k]);
    const ms = timeMs(() => linear(x, w), reps);
    return (2 * m * k * n) / (ms * 1e6);
  });
}
