import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readTorchScriptStateDict } from '../../../src/io/torchscript.js';
import { assertAhsError, assertTensor, expected, fixture, type ExpectedTensor } from './helpers.js';

interface JitExpected {
  keys: string[];
  not_state?: string[];
  tensors: Record<string, ExpectedTensor>;
}

test('traced OpenAI-CLIP-like module: state_dict() names, order and values', () => {
  const exp = expected<JitExpected>('tiny_clip.jit.pt.expected.json');
  const sd = readTorchScriptStateDict(fixture('tiny_clip.jit.pt'));
  assert.equal(sd.format, 'torchscript');
  // Same keys in the same order as Python's traced.state_dict(): nested Sequential indices,
  // MultiheadAttention's in_proj_* and out_proj.*, top-level parameters and the int64 buffer.
  assert.deepEqual([...sd.keys()], exp.keys);
  assert.ok(sd.has('visual.transformer.resblocks.0.attn.in_proj_weight'));
  for (const k of exp.keys) assertTensor(sd.get(k)!.read(), exp.tensors[k]!, k, { prefixOnly: true });
  // `training` flags and hook fields are attributes too, and must not leak in.
  assert.ok(![...sd.keys()].some((k) => k.endsWith('training') || k.includes('_is_full_backward_hook')));
});

test('scripted module: a plain tensor attribute is not state (code/ __parameters__/__buffers__ decide)', () => {
  const exp = expected<JitExpected>('scripted.jit.pt.expected.json');
  const sd = readTorchScriptStateDict(fixture('scripted.jit.pt'));
  // Without the code/ lookup, attn_mask would appear and be an "unexpected key" at load time.
  assert.deepEqual([...sd.keys()], exp.keys);
  for (const k of exp.keys) assertTensor(sd.get(k)!.read(), exp.tensors[k]!, k);
  for (const k of exp.not_state!) assert.ok(sd.notes.some((n) => n.includes(`'${k}'`)), sd.notes.join('; '));
});

test('a torch.save file is not a TorchScript module', () => {
  const p = fixture('state_dict.pt');
  assertAhsError(() => readTorchScriptStateDict(p), 'AHS_ERR_FILE_FORMAT', p, /does not hold a __torch__ module/);
});
