// The launcher (detectron2's launch / torchrun): starts this machine's processes of a
// data-parallel run as children running the same command line, each told its rank through the
// environment (dist_env.ts), relays their output with the rank in front of every line, and
// watches them. The first process that fails (an error, a crash, SIGKILL, the OOM killer) ends
// the run: the others are stopped (SIGTERM, then SIGKILL after a grace period) and the launcher
// fails naming that rank. A child whose launcher disappears stops itself (watchLauncher), so no
// process is left behind either way.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { AhsError } from '../errors.js';
import { distEnvVars, type DistEnv } from './dist_env.js';
import { findFreePort } from './free_port.js';
import type { LaunchPlan } from './launch_plan.js';

export interface LaunchOptions {
  plan: LaunchPlan;
  /** The command each child runs: node's own flags, then the script and its arguments. */
  execArgv: string[];
  argv: string[];
  env?: NodeJS.ProcessEnv;
  /** Where the children's lines go (default: this process's stdout / stderr). */
  stdout?: (line: string) => void;
  stderr?: (line: string) => void;
  /** Between SIGTERM and SIGKILL for the processes left when one failed. Default 5000. */
  killGraceMs?: number;
}

interface Child {
  rank: number;
  proc: ChildProcess;
  exit?: { code: number | null; signal: NodeJS.Signals | null; atMs: number };
}

function describeExit(c: Child): string {
  const e = c.exit!;
  return `rank ${c.rank} (pid ${c.proc.pid}) ${e.signal ? `was killed by ${e.signal}${e.signal === 'SIGKILL' ? ' (by a user, or the out-of-memory killer)' : ''}` : `exited with code ${e.code}`}`;
}

/** Runs the plan's local processes to the end; rejects with AHS_ERR_DIST naming the first rank that failed. */
export async function launch(o: LaunchOptions): Promise<void> {
  const { plan } = o;
  const url = plan.url === 'auto' ? `tcp://127.0.0.1:${await findFreePort()}` : plan.url;
  const out = o.stdout ?? ((l: string) => process.stdout.write(l + '\n'));
  const err = o.stderr ?? ((l: string) => process.stderr.write(l + '\n'));
  const grace = o.killGraceMs ?? 5000;
  const started = performance.now();
  const children: Child[] = [];
  let failed: Child | null = null;
  let interrupted: NodeJS.Signals | null = null;
  let killTimer: NodeJS.Timeout | undefined;

  const stopAll = (): void => {
    for (const c of children) if (!c.exit) c.proc.kill('SIGTERM');
    killTimer ??= setTimeout(() => { for (const c of children) if (!c.exit) c.proc.kill('SIGKILL'); }, grace);
  };
  const onSignal = (s: NodeJS.Signals): void => {
    interrupted ??= s;
    stopAll();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  const done = new Promise<void>((resolveAll) => {
    let left = plan.localWorldSize;
    for (let local = 0; local < plan.localWorldSize; local++) {
      const d: DistEnv = {
        rank: plan.machineRank * plan.localWorldSize + local, worldSize: plan.worldSize,
        localRank: local, localWorldSize: plan.localWorldSize, url, backend: plan.backend,
      };
      const env: NodeJS.ProcessEnv = { ...(o.env ?? process.env), ...distEnvVars(d) };
      if (plan.threadsPerProcess !== null) {
        env.AHS_SEG_THREADS ??= String(plan.threadsPerProcess);
        env.OMP_NUM_THREADS ??= env.AHS_SEG_THREADS;
      }
      // 'ipc': the child sees the channel close when this process dies, however it dies.
      const proc = spawn(process.execPath, [...o.execArgv, ...o.argv], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
      const c: Child = { rank: d.rank, proc };
      children.push(c);
      const tag = `[rank ${d.rank}] `;
      createInterface({ input: proc.stdout! }).on('line', (l) => (d.rank === 0 ? out(l) : out(tag + l)));
      createInterface({ input: proc.stderr! }).on('line', (l) => err(tag + l));
      // 'exit' stops the others at once; 'close' (its output read to the end) counts it as done.
      const exited = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (c.exit) return;
        c.exit = { code, signal, atMs: performance.now() - started };
        if ((code !== 0 || signal) && !failed && !interrupted) {
          failed = c;
          if (children.some((x) => !x.exit)) stopAll();
        }
      };
      let closed = false;
      const close = (code: number | null, signal: NodeJS.Signals | null): void => {
        exited(code, signal);
        if (closed) return;
        closed = true;
        if (--left === 0) resolveAll();
      };
      proc.on('error', (e) => { err(`${tag}could not start: ${e.message}`); close(127, null); });
      proc.on('exit', exited);
      proc.on('close', close);
    }
  });
  try {
    await done;
  } finally {
    clearTimeout(killTimer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  }
  if (interrupted) throw new AhsError('AHS_ERR_DIST', `the launcher received ${interrupted}: stopped all ${children.length} processes of the run`);
  if (failed) {
    const first: Child = failed;
    const others = children.filter((c) => c !== first && (c.exit!.code !== 0 || c.exit!.signal));
    const after = others.length ? `; then ${others.map((c) => (c.exit!.signal === 'SIGTERM' || c.exit!.signal === 'SIGKILL') && c.exit!.atMs >= first.exit!.atMs ? `rank ${c.rank} was stopped` : describeExit(c)).join(', ')}` : '';
    throw new AhsError('AHS_ERR_DIST', `${describeExit(first)} after ${(first.exit!.atMs / 1000).toFixed(1)} s${after}; the run on this machine is stopped (the lines above say why; continue it with --resume)`);
  }
}

/** In a launched process: stop when the launcher is gone (its end of the IPC channel closed). */
export function watchLauncher(rank: number): void {
  if (!process.send || !process.channel) return;
  process.channel.unref(); // the channel alone must not keep a finished process alive
  process.on('disconnect', () => {
    process.stderr.write(`ahs-seg: error AHS_ERR_DIST: rank ${rank}: the launcher (pid ${process.ppid}) is gone; stopping\n`);
    process.exit(2);
  });
}
