// The one place that turns any thrown value into the user's error line and exit code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommanderError } from 'commander';
import { AhsError } from '../../../src/errors.js';
import { EXIT_CODES, reportError, toAhsError } from '../../../src/cli/error_report.js';
import { zeros } from '../../../src/tensor/index.js';

function report(e: unknown, debug = false): { code: number; out: string } {
  let out = '';
  const code = reportError(e, { write: (s: string) => (out += s) }, debug);
  return { code, out };
}

/** A Node fs error as `fs` throws it (errno code, syscall, path). */
function fsError(code: string, syscall: string, path: string): Error {
  return Object.assign(new Error(`${code}: ${syscall} '${path}'`), { code, syscall, path, errno: -1 });
}

// Wrong here: a user error, an environment error and a bug would share one exit code.
test('exit code by fault: user 1, environment 2, internal 3', () => {
  assert.deepEqual(EXIT_CODES, { user: 1, environment: 2, internal: 3 });
  assert.equal(report(new AhsError('AHS_ERR_CONFIG_VALUE', 'x')).code, 1);
  assert.equal(report(new AhsError('AHS_ERR_OFFLINE', 'x')).code, 2);
  assert.equal(report(new AhsError('AHS_ERR_NATIVE', 'x')).code, 3);
});

// Wrong here: an uncaught fs error (disk full, missing file, a file where a folder should be)
// reaches the user as a stack trace, or does not name the path.
test('Node fs errors name their path and map to a code of their kind', () => {
  const full = report(fsError('ENOSPC', 'write', '/data/out/results.json'));
  assert.equal(full.code, 2);
  assert.match(full.out, /^ahs-seg: error AHS_ERR_WRITE: '\/data\/out\/results\.json' could not be written: the disk is full \(write ENOSPC\)/);
  assert.equal(toAhsError(fsError('ENOENT', 'open', 'a.json')).code, 'AHS_ERR_FILE_NOT_FOUND');
  const notDir = toAhsError(fsError('ENOTDIR', 'mkdir', 'a.txt/b'));
  assert.equal(notDir.code, 'AHS_ERR_PATH');
  assert.match(notDir.message, /'a\.txt\/b' has a regular file where a folder is needed/);
  assert.equal(toAhsError(fsError('EACCES', 'open', '/root/x')).fault, 'user');
});

// Wrong here: a bug prints a stack trace by default, or no way to get one exists.
test('anything else is AHS_ERR_INTERNAL, one line; AHS_SEG_DEBUG adds the stack and causes', () => {
  const bug = new TypeError("Cannot read properties of undefined (reading 'size')");
  const plain = report(bug);
  assert.equal(plain.code, 3);
  assert.equal(plain.out.split('\n').filter(Boolean).length, 1);
  assert.match(plain.out, /^ahs-seg: error AHS_ERR_INTERNAL: unexpected error TypeError: Cannot read .*AHS_SEG_DEBUG=1/);
  const debug = report(new AhsError('AHS_ERR_FILE_FORMAT', 'outer', { cause: bug }), true);
  assert.match(debug.out, /AhsError: outer\n\s+at /);
  assert.match(debug.out, /TypeError: Cannot read properties/, 'the cause chain is printed');
});

// Wrong here: commander's usage errors bypass the catalog.
test('commander errors are AHS_ERR_INVALID_ARGUMENT', () => {
  const e = toAhsError(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--bogus'"));
  assert.equal(e.code, 'AHS_ERR_INVALID_ARGUMENT');
  assert.equal(e.message, "unknown option '--bogus' (see --help)");
});

// Wrong here: a failed allocation is blamed on the code (500) instead of the machine's memory.
test('a failed allocation, in libtorch or in JavaScript, is AHS_ERR_OUT_OF_MEMORY (exit 2)', () => {
  let native: unknown;
  try { zeros([2 ** 40]); } catch (e) { native = e; }
  assert.ok(native instanceof AhsError && native.code === 'AHS_ERR_OUT_OF_MEMORY', String(native));
  assert.match((native as AhsError).message, /^aten::zeros ran out of memory/);
  const js = report(new RangeError('Array buffer allocation failed'));
  assert.equal(js.code, 2);
  assert.match(js.out, /AHS_ERR_OUT_OF_MEMORY: out of memory: Array buffer allocation failed/);
});

// Wrong here: a label or path with ESC sequences in a message would drive the terminal.
test('the error line escapes control characters but keeps message line breaks', () => {
  const { out } = report(new AhsError('AHS_ERR_INVALID_ARGUMENT', "label 'a\x1b[2Jb'\nsecond line"));
  assert.equal(out, "ahs-seg: error AHS_ERR_INVALID_ARGUMENT: label 'a\\x1b[2Jb'\nsecond line\n");
});
