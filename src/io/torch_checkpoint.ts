// torch.save files (zip format, PyTorch >= 1.6): `<root>/data.pkl` is the pickled object tree,
// `<root>/data/<key>` one raw storage per key, `<root>/byteorder` ("little"/"big") when present.
// torch.jit.save archives share the layout (plus code/ and constants.pkl). The object tree comes
// back as plain data (see pickle.ts) with tensors as lazy TorchTensorRef views.

import { AhsError, check } from '../errors.js';
import { readExactly, withFile } from './file_range.js';
import { OpaqueObject, unpickle, type GlobalResolver } from './pickle.js';
import { NumpyArray, numpyResolver } from './pickle_numpy.js';
import { DTYPE_ITEMSIZE, StateDict, type LazyTensor } from './raw_tensor.js';
import { TorchStorage, TorchTensorRef, checkSupported, storageTypeDtype, torchResolver } from './torch_tensor.js';
import { ZipReader } from './zip_reader.js';

export const PICKLE_RESOLVERS: GlobalResolver[] = [torchResolver, numpyResolver];

/** torch.save's legacy (pre-1.6) files start with a pickled magic number 0x1950a86a20f9469cfc6c. */
const LEGACY_MAGIC = Buffer.from([0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]);

export function isZipHead(head: Buffer): boolean {
  return head.length >= 4 && head.readUInt32LE(0) === 0x04034b50;
}

export function isLegacyTorchSaveHead(head: Buffer): boolean {
  return head.length >= 14 && head[0] === 0x80 && head.subarray(2, 14).equals(LEGACY_MAGIC);
}

export function legacyFormatError(path: string): AhsError {
  return new AhsError('AHS_ERR_FILE_FORMAT',
    `${path}: legacy (pre-1.6, non-zip) torch.save format is not supported; re-save it in Python with ` +
    `torch.save(torch.load(f), f_new, _use_new_zipfile_serialization=True)`);
}

export function readHead(path: string, n = 16): Buffer {
  return withFile(path, (fd, size) => readExactly(fd, path, 0, Math.min(n, size), 'file header'));
}

/** An opened torch.save / torch.jit.save archive. */
export interface TorchArchive {
  path: string;
  zip: ZipReader;
  /** Archive folder with a trailing slash, e.g. `archive/`; torch names it after the file. */
  root: string;
  byteOrder: 'little' | 'big';
}

export function openTorchArchive(path: string): TorchArchive {
  const head = readHead(path);
  if (isLegacyTorchSaveHead(head)) throw legacyFormatError(path);
  check(isZipHead(head), 'AHS_ERR_FILE_FORMAT', () => `${path}: not a torch.save zip archive (no zip signature)`);
  const zip = ZipReader.open(path);
  const first = zip.names()[0] ?? '';
  const root = first.includes('/') ? first.slice(0, first.indexOf('/') + 1) : '';
  check(zip.has(`${root}data.pkl`), 'AHS_ERR_FILE_FORMAT', () => `${path}: missing zip entry '${root}data.pkl': not a PyTorch checkpoint`);
  let byteOrder: 'little' | 'big' = 'little';
  if (zip.has(`${root}byteorder`)) {
    const text = zip.readEntry(`${root}byteorder`).toString('utf8').trim();
    check(text === 'little' || text === 'big', 'AHS_ERR_FILE_FORMAT', () => `${path}: unknown byteorder '${text}'`);
    byteOrder = text;
  }
  return { path, zip, root, byteOrder };
}

/**
 * Unpickles `<root><member>` (data.pkl or constants.pkl), resolving storages to `<root><dir>/<key>`.
 * Each storage's entry is checked to exist and to be large enough as soon as it is referenced.
 */
export function unpickleArchiveMember(archive: TorchArchive, member: string, dir: string): unknown {
  const { zip, root, path } = archive;
  const source = `${path} (${root}${member})`;
  const storages = new Map<string, TorchStorage>();
  const persistentLoad = (pid: unknown): TorchStorage => {
    check(Array.isArray(pid) && pid[0] === 'storage' && pid.length >= 5, 'AHS_ERR_FILE_FORMAT',
      () => `${source}: unsupported persistent id ${JSON.stringify(Array.isArray(pid) ? pid[0] : pid)} (expected a 'storage' tuple)`);
    const [, type, rawKey, , numel] = pid as unknown[];
    const key = String(rawKey);
    const cached = storages.get(key);
    if (cached) return cached;
    check(typeof numel === 'number' && Number.isSafeInteger(numel) && numel >= 0, 'AHS_ERR_FILE_FORMAT',
      () => `${source}: storage '${key}' has an invalid element count ${String(numel)}`);
    const { dtype, name } = storageTypeDtype(type);
    const entryName = `${root}${dir}/${key}`;
    const entry = zip.entry(entryName);
    if (!entry) throw new AhsError('AHS_ERR_FILE_FORMAT', `${path}: missing zip entry '${entryName}' for storage '${key}'`);
    if (dtype !== undefined) {
      const need = numel * DTYPE_ITEMSIZE[dtype];
      check(entry.size >= need, 'AHS_ERR_FILE_FORMAT',
        () => `${path}: storage '${key}' (${numel} x ${dtype}) needs ${need} bytes, zip entry '${entryName}' has ${entry.size}`);
    }
    const storage = new TorchStorage(key, dtype, name, numel, archive.byteOrder, (off, len) => zip.readRange(entryName, off, len));
    storages.set(key, storage);
    return storage;
  };
  return unpickle(zip.readEntry(`${root}${member}`), { source, persistentLoad, resolvers: PICKLE_RESOLVERS });
}

/** The object tree of a torch.save (or torch.jit.save) zip file, tensors as lazy TorchTensorRef. */
export function readTorchCheckpoint(path: string): unknown {
  return unpickleArchiveMember(openTorchArchive(path), 'data.pkl', 'data');
}

function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v instanceof OpaqueObject) return v.__class__;
  if (v instanceof Map) return 'dict';
  if (Array.isArray(v)) return 'list';
  if (Buffer.isBuffer(v)) return 'bytes';
  return typeof v;
}

export function isTensorValue(v: unknown): boolean {
  return v instanceof TorchTensorRef || v instanceof NumpyArray;
}

/**
 * The state dict inside a checkpoint object: `obj.model` (detectron2), `obj.state_dict`
 * (Lightning and friends), or the object itself when it is a dict holding tensors.
 */
export function findStateDict(obj: unknown, path: string): { dict: Map<unknown, unknown>; where: string } {
  if (obj instanceof Map) {
    for (const key of ['model', 'state_dict']) {
      const v = obj.get(key);
      if (v instanceof Map) return { dict: v, where: `key '${key}'` };
    }
    if ([...obj.values()].some(isTensorValue)) return { dict: obj, where: 'the top-level dict' };
    const keys = [...obj.keys()].slice(0, 10).map(String).join(', ');
    throw new AhsError('AHS_ERR_FILE_FORMAT',
      `${path}: no state dict found: the top-level dict (keys: ${keys}) has no tensors and no 'model' or 'state_dict' dict`);
  }
  if (obj instanceof OpaqueObject) {
    throw new AhsError('AHS_ERR_FILE_FORMAT',
      `${path}: holds a pickled ${obj.__class__} object, not a state dict; save model.state_dict() instead`);
  }
  throw new AhsError('AHS_ERR_FILE_FORMAT', `${path}: holds a ${describe(obj)}, not a state dict`);
}

/** Copies the tensors of a state-dict Map into `out`; anything else is skipped with a note. */
export function collectTensors(dict: Map<unknown, unknown>, out: StateDict): StateDict {
  for (const [key, value] of dict) {
    if (typeof key !== 'string') {
      out.notes.push(`skipped key ${String(key)}: not a string`);
      continue;
    }
    checkSupported(value, out.path, key);
    if (value instanceof TorchTensorRef) {
      out.set(key, value);
    } else if (value instanceof NumpyArray) {
      if (value.unsupported !== undefined || value.dtype === null) {
        throw new AhsError('AHS_ERR_DTYPE', `${out.path}: '${key}': ${value.unsupported ?? 'unsupported numpy array'}`);
      }
      const lazy: LazyTensor = { dtype: value.dtype, shape: value.shape, read: () => value.read() };
      out.set(key, lazy);
    } else {
      out.notes.push(`skipped '${key}': not a tensor (${describe(value)})`);
    }
  }
  return out;
}

/** The state dict of a torch.save zip checkpoint as lazy tensors, in file order. */
export function loadStateDict(path: string): StateDict {
  const { dict, where } = findStateDict(readTorchCheckpoint(path), path);
  const out = new StateDict(path, 'torch-zip', [`state dict taken from ${where}`]);
  return collectTensors(dict, out);
}
