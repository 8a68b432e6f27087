// Runs the real `ahs-seg` command line (src/cli/main.ts through tsx) in a child process, from any
// working directory, and checks what a user sees when it fails.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const MAIN = resolve(REPO_ROOT, 'src/cli/main.ts');
// An absolute loader URL: the child may run in a folder that has no node_modules.
const TSX = import.meta.resolve('tsx');

export interface CliResult { status: number | null; stdout: string; stderr: string }

/** Asynchronous, so that a suite can run several at once (each costs about a second). */
export function runCli(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
      cwd: opts.cwd ?? REPO_ROOT, env: { ...process.env, AHS_SEG_DEBUG: '', ...opts.env }, timeout: 120_000,
    });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

/**
 * The run failed the way the error catalog says: exit code `exit`, exactly one stderr line
 * `ahs-seg: error <code>: ...` whose message matches every pattern in `names` (the option, key,
 * file or value at fault), and no stack trace.
 */
export function assertCliError(r: CliResult, exit: number, code: string, names: readonly (string | RegExp)[]): string {
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('ahs-seg: error '));
  assert.equal(lines.length, 1, `one error line expected, stderr:\n${r.stderr}`);
  const line = lines[0]!;
  assert.ok(line.startsWith(`ahs-seg: error ${code}: `), `expected ${code}, got: ${line}`);
  for (const n of names) {
    if (typeof n === 'string') assert.ok(line.includes(n), `the message should name ${JSON.stringify(n)}: ${line}`);
    else assert.match(line, n);
  }
  assert.doesNotMatch(r.stderr, /^\s+at .+:\d+:\d+\)?$/m, `no stack trace without AHS_SEG_DEBUG, stderr:\n${r.stderr}`);
  assert.equal(r.status, exit, `exit code for ${code}: ${line}`);
  return line;
}
