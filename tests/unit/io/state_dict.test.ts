import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { detectWeightFormat, readStateDict } from '../../../src/io/state_dict.js';
import { assertAhsError, assertTensor, expected, fixture, tempDir, type ExpectedTensor } from './helpers.js';

interface Exp {
  format: string;
  keys?: string[];
  state_dict_keys?: string[];
  tensors: Record<string, ExpectedTensor>;
}

const FILES = ['simple.safetensors', 'state_dict.pt', 'detectron2.pth', 'tiny_clip.jit.pt', 'detectron2_zoo.pkl'];

for (const name of FILES) {
  test(`readStateDict detects and reads ${name}`, (t) => {
    const exp = expected<Exp>(`${name}.expected.json`);
    // Detection must use content: the same bytes under a misleading name give the same result.
    const dir = tempDir(t);
    const renamed = path.join(dir, 'weights.bin');
    fs.copyFileSync(fixture(name), renamed);
    for (const p of [fixture(name), renamed]) {
      assert.equal(detectWeightFormat(p), exp.format);
      const sd = readStateDict(p);
      assert.equal(sd.format, exp.format);
      const keys = exp.keys ?? exp.state_dict_keys ?? Object.keys(exp.tensors);
      assert.deepEqual([...sd.keys()].sort(), [...keys].sort());
      for (const k of keys) assertTensor(sd.get(k)!.read(), exp.tensors[k]!, k, { prefixOnly: exp.format === 'torchscript' });
    }
  });
}

test('safetensors metadata travels with the state dict', () => {
  const exp = expected<{ metadata: Record<string, string> }>('simple.safetensors.expected.json');
  assert.deepEqual(readStateDict(fixture('simple.safetensors')).metadata, exp.metadata);
});

test('unknown, legacy and missing files are refused with the file named', (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'notes.txt');
  fs.writeFileSync(p, 'hello, not weights');
  assertAhsError(() => readStateDict(p), 'AHS_ERR_FILE_FORMAT', p, /unrecognized weight file/);
  const legacy = fixture('legacy.pt');
  assertAhsError(() => readStateDict(legacy), 'AHS_ERR_FILE_FORMAT', legacy, /legacy .*_use_new_zipfile_serialization=True/);
  assertAhsError(() => readStateDict(path.join(dir, 'absent.pt')), 'AHS_ERR_FILE_NOT_FOUND', 'absent.pt');
  const empty = path.join(dir, 'empty.safetensors');
  fs.writeFileSync(empty, '');
  assertAhsError(() => readStateDict(empty), 'AHS_ERR_FILE_FORMAT', empty, /too short/);
});
