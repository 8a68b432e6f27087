// Output folders are checked (and made) before work starts, each failure naming the path.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareOutputDir, prepareOutputFile } from '../../../src/io/output_location.js';
import { isAhsError } from '../../helpers/ahs_error.js';

const dir = mkdtempSync(join(tmpdir(), 'ahs-out-'));
const file = join(dir, 'results.md');
writeFileSync(file, 'x');
after(() => {
  chmodSync(join(dir, 'ro'), 0o755);
  rmSync(dir, { recursive: true, force: true });
});

// Wrong here: the folder is not made, or a probe file is left behind in the user's folder.
test('a missing folder is created with its parents, and nothing else is left in it', () => {
  const out = join(dir, 'a', 'b', 'c');
  assert.equal(prepareOutputDir(out, '--out'), out);
  assert.deepEqual(readdirSync(out), []);
  assert.equal(prepareOutputDir(out, '--out'), out, 'an existing writable folder is fine');
});

// Wrong here: Node's ENOTDIR / EEXIST stack trace instead of the path and the fix.
test('a regular file, or a path under one, is refused naming it', () => {
  assert.throws(() => prepareOutputDir(file, '--out'), isAhsError('AHS_ERR_PATH', `--out '${file}' is an existing file, not a folder; give a folder path (a missing folder is created)`));
  assert.throws(() => prepareOutputDir(join(file, 'x', 'y'), '--out'),
    isAhsError('AHS_ERR_PATH', `--out '${join(file, 'x', 'y')}' lies under '${file}', which is a regular file, not a folder; choose another location`));
  assert.throws(() => prepareOutputFile(dir, '--out'), isAhsError('AHS_ERR_PATH', `--out '${dir}' is a folder; give a file path`));
  assert.throws(() => prepareOutputFile(join(file, 'm.png'), '--out'), isAhsError('AHS_ERR_PATH', /its folder .* is an existing file/));
});

// Wrong here: a read-only folder is found out only when the first result is written.
test('a folder that cannot be written is refused (as any user but root)', (t) => {
  const ro = join(dir, 'ro');
  mkdirSync(ro);
  chmodSync(ro, 0o555);
  // Root writes into a 0555 folder; sysfs refuses even root.
  const target = [ro, '/sys'].find((d) => {
    try {
      writeFileSync(join(d, 'p'), '');
      rmSync(join(d, 'p'));
      return false;
    } catch {
      return existsSync(d);
    }
  });
  if (!target) return t.skip('every folder is writable for this user');
  assert.throws(() => prepareOutputDir(target, '--out'), isAhsError('AHS_ERR_PATH', new RegExp(`^--out '${target}' is not writable \\((EACCES|EPERM)\\); choose a folder you can write to`)));
  assert.throws(() => prepareOutputDir(join(target, 'new'), '--out'), isAhsError('AHS_ERR_PATH', /cannot create the folder '.*\/new' \((EACCES|EPERM)/));
  if (target === ro) assert.throws(() => prepareOutputDir(join(ro, 'new'), '--out', { create: false }), isAhsError('AHS_ERR_PATH', /it would be created in is not writable/));
});

// Wrong here: a dry run changes the disk.
test('create: false checks without creating anything', () => {
  const out = join(dir, 'dry', 'run');
  assert.equal(prepareOutputDir(out, '--out', { create: false }), out);
  assert.ok(!existsSync(join(dir, 'dry')));
  assert.throws(() => prepareOutputDir(join(file, 'x'), '--out', { create: false }), isAhsError('AHS_ERR_PATH', /lies under/));
});
