// native/find-node-headers.cjs: the addon is built against the running Node's own headers, found
// without assuming /usr/include/node (and without node-gyp downloading any).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const script = resolve(fileURLToPath(import.meta.url), '../../../../native/find-node-headers.cjs');

test('finds a prefix whose include/node holds node_api.h and common.gypi for this Node', () => {
  // Wrong here: setup and build:native would hand node-gyp a folder without headers (it would
  // then try to download them, which fails offline).
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const prefix = r.stdout.trim();
  assert.ok(existsSync(join(prefix, 'include/node/node_api.h')) && existsSync(join(prefix, 'include/node/common.gypi')), prefix);
});
