import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { AhsError } from '../../../src/errors.js';
import { OpaqueObject } from '../../../src/io/pickle.js';
import { NumpyArray } from '../../../src/io/pickle_numpy.js';
import { loadStateDict, readTorchCheckpoint } from '../../../src/io/torch_checkpoint.js';
import { TorchStorage, TorchTensorRef } from '../../../src/io/torch_tensor.js';
import { assertAhsError, assertTensor, expected, fixture, tempDir, type ExpectedTensor } from './helpers.js';

interface SdExpected {
  keys: string[];
  tensors: Record<string, ExpectedTensor>;
}
interface D2Expected {
  state_dict_keys: string[];
  skipped: string[];
  tensors: Record<string, ExpectedTensor>;
  iteration: number;
  author: string;
  np_float: number;
  np_int: number;
  np_f32: number;
  np_array_f64: ExpectedTensor;
  np_array_fortran: ExpectedTensor;
  tuple: unknown[];
}

test('torch.save state dict: every dtype, scalar, empty, and strided views read like torch', () => {
  const exp = expected<SdExpected>('state_dict.pt.expected.json');
  const sd = loadStateDict(fixture('state_dict.pt'));
  assert.equal(sd.format, 'torch-zip');
  assert.deepEqual([...sd.keys()], exp.keys);
  // transposed / f16_transposed / strided / expanded check offset+stride gathering for 4- and
  // 2-byte elements; shared_b checks a storage offset; param checks _rebuild_parameter.
  for (const k of exp.keys) assertTensor(sd.get(k)!.read(), exp.tensors[k]!, k);
});

test('tensor refs expose storage key, offset and stride; shared storages are one storage', () => {
  const tree = readTorchCheckpoint(fixture('state_dict.pt')) as Map<string, TorchTensorRef>;
  const a = tree.get('shared_a')!;
  const b = tree.get('shared_b')!;
  const s = tree.get('strided')!;
  assert.ok(a instanceof TorchTensorRef);
  assert.equal(a.storageKey, b.storageKey);
  assert.equal(a.storageKey, s.storageKey);
  assert.deepEqual([b.storageOffset, b.shape, b.stride], [10, [2, 3], [3, 1]]);
  assert.deepEqual([s.storageOffset, s.stride], [1, [3]]);
  assert.deepEqual(tree.get('transposed')!.stride, [1, 5]);
  assert.equal(tree.get('param')!.requiresGrad, true);
});

test('big-endian archives (byteorder = "big") are swapped to little-endian, after the gather', () => {
  // Storage of float32 [1, 2, 3, 4, 5, 6] written big-endian; the view is its 3x2 transpose.
  const be = Buffer.alloc(24);
  [1, 2, 3, 4, 5, 6].forEach((v, i) => be.writeFloatBE(v, i * 4));
  const storage = new TorchStorage('0', 'float32', 'torch.FloatStorage', 6, 'big', (off, len) => Buffer.from(be.subarray(off, off + len)));
  const r = new TorchTensorRef(storage as TorchStorage & { dtype: 'float32' }, 0, [3, 2], [1, 3], false).read();
  assert.deepEqual([...new Float32Array(r.data.buffer, r.data.byteOffset, 6)], [1, 4, 2, 5, 3, 6]);
});

test('detectron2-style checkpoint: state dict from "model", non-tensors skipped with a note', () => {
  const exp = expected<D2Expected>('detectron2.pth.expected.json');
  const p = fixture('detectron2.pth');
  const sd = loadStateDict(p);
  assert.deepEqual([...sd.keys()], exp.state_dict_keys);
  for (const k of exp.state_dict_keys) assertTensor(sd.get(k)!.read(), exp.tensors[k]!, k);
  assert.ok(sd.notes.some((n) => n.includes("key 'model'")), sd.notes.join('; '));
  for (const k of exp.skipped) assert.ok(sd.notes.some((n) => n.includes(`'${k}'`) && n.includes('not a tensor')), sd.notes.join('; '));
});

test('detectron2-style checkpoint: the rest of the tree (numpy scalars/arrays, sets, big ints)', () => {
  const exp = expected<D2Expected>('detectron2.pth.expected.json');
  const tree = readTorchCheckpoint(fixture('detectron2.pth')) as Map<string, unknown>;
  assert.equal(tree.get('iteration'), exp.iteration);
  assert.equal(tree.get('__author__'), exp.author);
  // numpy.core.multiarray.scalar decoded by dtype: a wrong width would give garbage numbers.
  assert.equal(tree.get('np_float'), exp.np_float);
  assert.equal(tree.get('np_int'), exp.np_int);
  assert.equal(tree.get('np_f32'), exp.np_f32);
  assertTensor((tree.get('np_array_f64') as NumpyArray).read(), exp.np_array_f64, 'np_array_f64');
  // Fortran-ordered bytes must be transposed into C order.
  assertTensor((tree.get('np_array_fortran') as NumpyArray).read(), exp.np_array_fortran, 'np_array_fortran');
  // An unsupported numpy dtype is an inert value, an error only when read.
  const u16 = tree.get('np_array_u16') as NumpyArray;
  assert.match(u16.unsupported ?? '', /'u2' is not supported/);
  assert.throws(() => u16.read(), (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_DTYPE');
  assert.deepEqual(tree.get('tags'), new Set(['a', 'b']));
  assert.deepEqual(tree.get('frozen'), new Set([3]));
  assert.deepEqual((tree.get('tuple') as unknown[]).map((v) => (typeof v === 'bigint' ? v.toString() : v)), exp.tuple);
});

test('quantized tensors load as an opaque value but are refused as state-dict entries', () => {
  const p = fixture('quantized.pt');
  const tree = readTorchCheckpoint(p) as Map<string, unknown>;
  assert.ok(tree.get('w') instanceof TorchTensorRef);
  assert.ok(tree.get('q') instanceof OpaqueObject);
  assertAhsError(() => loadStateDict(p), 'AHS_ERR_DTYPE', p, /'q': quantized tensors .* not supported/);
});

test('the legacy (non-zip) torch.save format is refused with instructions', () => {
  const p = fixture('legacy.pt');
  assertAhsError(() => readTorchCheckpoint(p), 'AHS_ERR_FILE_FORMAT', p, /_use_new_zipfile_serialization=True/);
});

test('truncated and corrupted checkpoints give AHS_ERR_FILE_FORMAT naming the file', (t) => {
  const dir = tempDir(t);
  const good = fs.readFileSync(fixture('state_dict.pt'));
  const p = path.join(dir, 'ckpt.pt');
  for (const cut of [10, 200, Math.floor(good.length / 2), good.length - 30]) {
    fs.writeFileSync(p, good.subarray(0, cut));
    assertAhsError(() => loadStateDict(p), 'AHS_ERR_FILE_FORMAT', p);
  }
  // Rename data.pkl (same length, so the zip stays consistent): the archive has no pickle.
  fs.writeFileSync(p, Buffer.from(good.toString('latin1').replaceAll('state_dict/data.pkl', 'state_dict/data.pkX'), 'latin1'));
  assertAhsError(() => loadStateDict(p), 'AHS_ERR_FILE_FORMAT', p, /missing zip entry 'state_dict\/data\.pkl'/);
  // Rename one storage: the tensor that needs it must say which entry is missing.
  fs.writeFileSync(p, Buffer.from(good.toString('latin1').replaceAll('state_dict/data/12', 'state_dict/data/XX'), 'latin1'));
  assertAhsError(() => loadStateDict(p), 'AHS_ERR_FILE_FORMAT', p, /missing zip entry 'state_dict\/data\/12' for storage '12'/);
});

test('no byte flip in a checkpoint crashes the reader (every outcome is an AhsError or a load)', (t) => {
  const dir = tempDir(t);
  const good = fs.readFileSync(fixture('detectron2.pth'));
  const p = path.join(dir, 'flip.pth');
  for (let i = 0; i < good.length; i += 3) {
    const bad = Buffer.from(good);
    bad[i] ^= 0x3c;
    fs.writeFileSync(p, bad);
    try {
      for (const v of loadStateDict(p).values()) v.read();
    } catch (err) {
      assert.ok(err instanceof AhsError && err.message.includes(p), `byte ${i}: ${String(err)}`);
    }
  }
});
