// One entry point for weights in any format we read: the file's first bytes decide (never the
// extension alone, since `.pt`/`.pth`/`.bin` are used for all of them).
//   safetensors  u64 header length, then '{'
//   zip          torch.jit.save if it has <root>/constants.pkl, else torch.save (<root>/data.pkl)
//   pickle       a raw pickle (detectron2 model-zoo `.pkl` of numpy arrays); torch's legacy
//                format is also a pickle and is refused with advice on how to convert it.

import { AhsError } from '../errors.js';
import { readExactly, withFile } from './file_range.js';
import { unpickle } from './pickle.js';
import { StateDict, type WeightFormat } from './raw_tensor.js';
import { readSafetensorsLazy } from './safetensors.js';
import {
  PICKLE_RESOLVERS, collectTensors, findStateDict, isLegacyTorchSaveHead, isZipHead, legacyFormatError, loadStateDict, openTorchArchive, readHead,
} from './torch_checkpoint.js';
import { readTorchScriptStateDict } from './torchscript.js';

function looksLikeSafetensors(head: Buffer, size: number): boolean {
  if (head.length < 9) return false;
  const n = head.readBigUInt64LE(0);
  return n > 0n && n <= BigInt(size - 8) && head[8] === 0x7b; // '{'
}

/** Which reader `path` needs; throws AHS_ERR_FILE_FORMAT for legacy torch files and unknown formats. */
export function detectWeightFormat(path: string): WeightFormat {
  const size = withFile(path, (_fd, s) => s);
  const head = readHead(path);
  if (isZipHead(head)) {
    const { zip, root } = openTorchArchive(path);
    return zip.has(`${root}constants.pkl`) ? 'torchscript' : 'torch-zip';
  }
  if (isLegacyTorchSaveHead(head)) throw legacyFormatError(path);
  if (looksLikeSafetensors(head, size) || path.endsWith('.safetensors')) return 'safetensors';
  if (head[0] === 0x80) return 'pickle';
  throw new AhsError('AHS_ERR_FILE_FORMAT',
    `${path}: unrecognized weight file (not safetensors, a torch.save or TorchScript zip, or a pickle)`);
}

/** All tensors of a weight file as lazy tensors under their state-dict names, whatever the format. */
export function readStateDict(path: string): StateDict {
  const format = detectWeightFormat(path);
  switch (format) {
    case 'safetensors': {
      const { metadata, tensors } = readSafetensorsLazy(path);
      const out = new StateDict(path, format, [], metadata);
      for (const [k, v] of tensors) out.set(k, v);
      return out;
    }
    case 'torchscript':
      return readTorchScriptStateDict(path);
    case 'torch-zip':
      return loadStateDict(path);
    case 'pickle': {
      const data = withFile(path, (fd, size) => readExactly(fd, path, 0, size, 'pickle'));
      const obj = unpickle(data, { source: path, resolvers: PICKLE_RESOLVERS });
      const { dict, where } = findStateDict(obj, path);
      return collectTensors(dict, new StateDict(path, format, [`state dict taken from ${where}`]));
    }
  }
}
