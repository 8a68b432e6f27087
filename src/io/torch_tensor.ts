// How torch pickles tensors: a persistent id names a storage (a flat typed buffer stored as its
// own archive member), and `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`
// makes a view of it. We keep that view lazy (TorchTensorRef) and read only its bytes on demand,
// honouring offset and stride, so shared storages, transposes and expands come out right.

import { AhsError, check, fmtShape } from '../errors.js';
import { OpaqueObject, PickleGlobal, expectIndex, type GlobalResolver, type PyCallable } from './pickle.js';
import { DTYPE_ITEMSIZE, numelOf, swapBytesInPlace, type DTypeName, type LazyTensor, type RawTensor } from './raw_tensor.js';
import { isCContiguous, stridedCopy, viewSpan } from './strided_copy.js';

/** Legacy storage classes (what torch.save writes in persistent ids) and torch dtypes -> our dtype. */
const STORAGE_DTYPES: Record<string, DTypeName> = {
  FloatStorage: 'float32', DoubleStorage: 'float64', HalfStorage: 'float16', BFloat16Storage: 'bfloat16',
  LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8',
  BoolStorage: 'bool', UntypedStorage: 'uint8', _UntypedStorage: 'uint8',
  float32: 'float32', float: 'float32', float64: 'float64', double: 'float64', float16: 'float16', half: 'float16',
  bfloat16: 'bfloat16', int64: 'int64', long: 'int64', int32: 'int32', int: 'int32', int16: 'int16', short: 'int16',
  int8: 'int8', uint8: 'uint8', bool: 'bool',
};
const TORCH_MODULES = new Set(['torch', 'torch.cuda', 'torch.storage']);

/** The dtype a pickled storage type (`torch.FloatStorage`, `torch.float16`...) stands for; undefined when we have none. */
export function storageTypeDtype(type: unknown): { dtype: DTypeName | undefined; name: string } {
  if (!(type instanceof PickleGlobal)) return { dtype: undefined, name: String(type) };
  const dtype = TORCH_MODULES.has(type.module) && Object.hasOwn(STORAGE_DTYPES, type.name) ? STORAGE_DTYPES[type.name] : undefined;
  return { dtype, name: type.fullName };
}

/** One flat storage of a checkpoint: `numel` elements of `dtype`, read on demand. */
export class TorchStorage {
  constructor(
    readonly key: string,
    readonly dtype: DTypeName | undefined,
    readonly typeName: string,
    readonly numel: number,
    readonly byteOrder: 'little' | 'big',
    readonly readBytes: (byteOffset: number, byteLength: number) => Buffer,
  ) {}
}

/** A tensor of a torch checkpoint, not yet read: a strided view of a storage. */
export class TorchTensorRef implements LazyTensor {
  readonly storageKey: string;
  readonly dtype: DTypeName;

  constructor(
    private readonly storage: TorchStorage & { dtype: DTypeName },
    readonly storageOffset: number,
    readonly shape: number[],
    readonly stride: number[],
    readonly requiresGrad: boolean,
  ) {
    this.storageKey = storage.key;
    this.dtype = storage.dtype;
  }

  /** The same view with Parameter's requires_grad flag. */
  withRequiresGrad(requiresGrad: boolean): TorchTensorRef {
    return new TorchTensorRef(this.storage, this.storageOffset, this.shape, this.stride, requiresGrad);
  }

  /** Dense C-order little-endian copy of the view. */
  read(): RawTensor {
    const itemsize = DTYPE_ITEMSIZE[this.dtype];
    const span = viewSpan(this.shape, this.stride);
    const bytes = this.storage.readBytes(this.storageOffset * itemsize, span * itemsize);
    const data = isCContiguous(this.shape, this.stride) ? bytes : stridedCopy(bytes, this.shape, this.stride, itemsize);
    if (this.storage.byteOrder === 'big') swapBytesInPlace(data, itemsize);
    return { dtype: this.dtype, shape: [...this.shape], data };
  }
}

function rebuildTensor(args: unknown[], source: string): TorchTensorRef | OpaqueObject {
  const [storage, offset, size, stride, requiresGrad] = args;
  check(storage instanceof TorchStorage, 'AHS_ERR_FILE_FORMAT', () => `${source}: corrupt pickle: tensor rebuilt from a ${typeof storage}, not a storage`);
  check(Array.isArray(size) && Array.isArray(stride) && size.length === stride.length, 'AHS_ERR_FILE_FORMAT',
    () => `${source}: corrupt pickle: tensor size ${String(size)} and stride ${String(stride)} do not match`);
  const shape = size.map((d, i) => expectIndex(d, source, `tensor size[${i}]`));
  const strides = stride.map((d, i) => expectIndex(d, source, `tensor stride[${i}]`));
  const off = expectIndex(offset, source, 'tensor storage offset');
  if (storage.dtype === undefined) {
    return new OpaqueObject('torch.Tensor', args, `tensors with storage type ${storage.typeName} are not supported (supported dtypes: ${Object.keys(DTYPE_ITEMSIZE).join(', ')})`);
  }
  const end = numelOf(shape) === 0 ? 0 : off + viewSpan(shape, strides);
  check(end <= storage.numel, 'AHS_ERR_FILE_FORMAT',
    () => `${source}: tensor ${fmtShape(shape)} (offset ${off}, stride ${fmtShape(strides)}) reaches element ${end} of storage '${storage.key}', which has ${storage.numel}`);
  return new TorchTensorRef(storage as TorchStorage & { dtype: DTypeName }, off, shape, strides, requiresGrad === true);
}

const UNSUPPORTED_REBUILD: Record<string, string> = {
  _rebuild_qtensor: 'quantized tensors (torch._utils._rebuild_qtensor) are not supported; dequantize before saving',
  _rebuild_sparse_tensor: 'sparse tensors are not supported; save tensor.to_dense()',
  _rebuild_sparse_csr_tensor: 'sparse CSR tensors are not supported; save tensor.to_dense()',
  _rebuild_meta_tensor_no_storage: 'meta tensors have no data',
};

function rebuildParameter(args: unknown[]): unknown {
  const [data, requiresGrad] = args;
  return data instanceof TorchTensorRef ? data.withRequiresGrad(requiresGrad !== false) : data;
}

const TORCH_CALLS: Record<string, PyCallable> = {
  'torch._utils._rebuild_tensor_v2': (args, ctx) => rebuildTensor(args, ctx.source),
  'torch._utils._rebuild_tensor': (args, ctx) => rebuildTensor(args, ctx.source),
  // Parameters are tensors that remember requires_grad; backward hooks do not survive loading.
  'torch._utils._rebuild_parameter': rebuildParameter,
  'torch._utils._rebuild_parameter_with_state': rebuildParameter,
  // Tensor subclasses: (func, type, args, state) -> func(*args).
  'torch._tensor._rebuild_from_type_v2': (args, ctx) => ctx.call(args[0], args[2] as unknown[]),
  'torch._tensor._rebuild_from_type': (args, ctx) => ctx.call(args[0], args[2] as unknown[]),
  'torch.Size': (args) => [...((args[0] as unknown[] | undefined) ?? [])],
};

/** Handlers for the torch globals found in torch.save / torch.jit.save pickles. */
export const torchResolver: GlobalResolver = (module, name) => {
  const known = TORCH_CALLS[`${module}.${name}`];
  if (known) return known;
  if (module === 'torch._utils' && name.startsWith('_rebuild_')) {
    const why = UNSUPPORTED_REBUILD[name] ?? `tensors rebuilt by torch._utils.${name} are not supported`;
    return (args) => new OpaqueObject(`${module}.${name}`, args, why);
  }
  return undefined;
};

/** Throws AHS_ERR_DTYPE when `value` is a tensor we recognised but cannot load. */
export function checkSupported(value: unknown, path: string, key: string): void {
  const why = value instanceof OpaqueObject ? value.unsupported : undefined;
  if (why !== undefined) throw new AhsError('AHS_ERR_DTYPE', `${path}: '${key}': ${why}`);
}
