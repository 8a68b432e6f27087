// The error catalog and its documentation stay in sync, and every code used in src/ exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AhsError, ERROR_CODES, printable } from '../../../src/errors.js';

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

// Wrong here: a code's fault disagrees with its HTTP status (a user error answered with a 5xx, or
// a libtorch failure the user cannot fix reported as their fault), or docs/errors.md says otherwise.
test('each code\'s fault follows its status class, and docs/errors.md shows the same fault', () => {
  const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');
  const faults = Object.fromEntries([...doc.matchAll(/^\| `(AHS_ERR_[A-Z_]+)` \| \d+ \| (\w+) \|/gm)].map((m) => [m[1], m[2]]));
  for (const [code, { status, fault }] of Object.entries(ERROR_CODES)) {
    const expected = status < 500 ? 'user' : status === 500 ? 'internal' : 'environment';
    assert.equal(fault, expected, `${code}: status ${status} is a ${expected} fault`);
    assert.equal(faults[code], fault, `docs/errors.md: fault of ${code}`);
  }
});

// Wrong here: a code has no documented example or fix, so a user who meets it is left guessing.
test('docs/errors.md has, for every code, a section with an example error line and the fix', () => {
  const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');
  const sections = new Map(doc.split(/^### /m).slice(1).map((s) => [s.slice(0, s.indexOf('\n')).trim(), s]));
  assert.deepEqual([...sections.keys()].sort(), Object.keys(ERROR_CODES).sort());
  for (const [code, text] of sections) {
    assert.ok(text.includes(`ahs-seg: error ${code}: `), `${code}: an example error line`);
    assert.match(text, /^Fix: \S/m, `${code}: the fix`);
  }
});

// Wrong here: an escape sequence in a label or path would reach the terminal raw.
test('printable escapes control characters and keeps the rest', () => {
  assert.equal(printable('a\x1b[31mred\u0007\r\n\tx'), 'a\\x1b[31mred\\x07\\r\\n\\tx');
  assert.equal(printable('café ☕ "q"'), 'café ☕ "q"');
});

// Wrong here: errors would not carry their code and HTTP status to callers.
test('AhsError carries code and status', () => {
  const e = new AhsError('AHS_ERR_FILE_NOT_FOUND', 'x.png not found');
  assert.equal(e.code, 'AHS_ERR_FILE_NOT_FOUND');
  assert.equal(e.statusCode, 404);
  assert.equal(e.fault, 'user');
  assert.ok(e instanceof Error);
});
