// The error catalog and its documentation stay in sync, and every code used in src/ exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AhsError, ERROR_CODES } from '../../../src/errors.js';

const root = resolve(fileURLToPath(import.meta.url), '../../../..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

// Wrong here: a code was added without documenting it, or docs list a code that no longer exists.
test('docs/errors.md documents exactly the codes in src/errors.ts, with their status', () => {
  const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');
  const rows = [...doc.matchAll(/^\| `(AHS_ERR_[A-Z_]+)` \| (\d+) \|/gm)].map((m) => [m[1], Number(m[2])]);
  assert.deepEqual(Object.fromEntries(rows), Object.fromEntries(Object.entries(ERROR_CODES).map(([k, v]) => [k, v.status])));
});

// Wrong here: some code throws an AhsError with a code the catalog (and so the server) does not know.
test('every AHS_ERR_* code used in src/ is in the catalog', () => {
  const used = new Set(sources(join(root, 'src')).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/'(AHS_ERR_[A-Z_]+)'/g)].map((m) => m[1]!)));
  for (const c of used) assert.ok(c in ERROR_CODES, `${c} is used in src/ but missing from ERROR_CODES`);
});

// Wrong here: errors would not carry their code and HTTP status to callers.
test('AhsError carries code and status', () => {
  const e = new AhsError('AHS_ERR_FILE_NOT_FOUND', 'x.png not found');
  assert.equal(e.code, 'AHS_ERR_FILE_NOT_FOUND');
  assert.equal(e.statusCode, 404);
  assert.ok(e instanceof Error);
});
