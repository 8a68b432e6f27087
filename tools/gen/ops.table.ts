// The op surface, one row per operation. `npm run gen:ops` turns this table into
// src/tensor/ops.gen.ts (free functions + Tensor methods); a test checks that the committed
// output equals a fresh generation. Rows whose first parameter is `self` also become methods.
//
//   name    TypeScript name
//   params  TypeScript parameters after `self` (or all of them for `free` rows)
//   op      'aten::name.overload', or a map keyed by the runtime type of the first union
//           parameter ('Tensor' | 'number') for ops with Tensor and Scalar overloads
//   args    argument expressions in schema order (default: self, then every param by name);
//           `undefined` takes the schema default
//   returns 'Tensor' (default), 'Tensor[]', '[Tensor, Tensor]', 'number', 'boolean'
export interface OpRow {
  name: string;
  params?: string;
  op: string | { Tensor: string; number: string };
  args?: string;
  returns?: 'Tensor' | 'Tensor[]' | '[Tensor, Tensor]' | 'number' | 'boolean';
  free?: boolean; // no `self`: a free function only (creation ops, cat, ...)
  doc: string;
}

const binary = (name: string, aten: string, doc: string, alpha = false): OpRow => ({
  name,
  params: `other: Tensor | number${alpha ? ', alpha?: number' : ''}`,
  op: { Tensor: `aten::${aten}.Tensor`, number: `aten::${aten}.Scalar` },
  doc,
});
const unary = (name: string, aten: string, doc: string): OpRow => ({ name, op: `aten::${aten}`, doc });

export const OPS: OpRow[] = [
  // ---- elementwise arithmetic (broadcasting) ----
  binary('add', 'add', 'self + alpha * other', true),
  binary('sub', 'sub', 'self - alpha * other', true),
  binary('mul', 'mul', 'self * other'),
  binary('div', 'div', 'self / other (true division)'),
  binary('remainder', 'remainder', 'Python-style modulus'),
  { name: 'pow', params: 'exponent: Tensor | number', op: { Tensor: 'aten::pow.Tensor_Tensor', number: 'aten::pow.Tensor_Scalar' }, doc: 'self ** exponent' },
  { name: 'rsub', params: 'other: number', op: 'aten::rsub.Scalar', doc: 'other - self' },
  { name: 'maximum', params: 'other: Tensor', op: 'aten::maximum', doc: 'elementwise max' },
  { name: 'minimum', params: 'other: Tensor', op: 'aten::minimum', doc: 'elementwise min' },
  binary('eq', 'eq', 'self == other (bool)'),
  binary('ne', 'ne', 'self != other (bool)'),
  binary('lt', 'lt', 'self < other (bool)'),
  binary('le', 'le', 'self <= other (bool)'),
  binary('gt', 'gt', 'self > other (bool)'),
  binary('ge', 'ge', 'self >= other (bool)'),
  { name: 'logicalAnd', params: 'other: Tensor', op: 'aten::logical_and', doc: 'elementwise and' },
  { name: 'logicalOr', params: 'other: Tensor', op: 'aten::logical_or', doc: 'elementwise or' },
  { name: 'maskedFill', params: 'mask: Tensor, value: Tensor | number', op: { Tensor: 'aten::masked_fill.Tensor', number: 'aten::masked_fill.Scalar' }, doc: 'value where mask' },
  { name: 'where', params: 'condition: Tensor, self: Tensor, other: Tensor', op: 'aten::where.self', args: 'condition, self, other', free: true, doc: 'self where condition else other' },
  { name: 'clamp', params: 'min?: number | null, max?: number | null', op: 'aten::clamp', doc: 'clamp to [min, max]' },
  { name: 'lerp', params: 'end: Tensor, weight: number', op: 'aten::lerp.Scalar', doc: 'self + weight * (end - self)' },

  // ---- unary ----
  unary('neg', 'neg', '-self'),
  unary('abs', 'abs', '|self|'),
  unary('exp', 'exp', 'e ** self'),
  unary('log', 'log', 'natural log'),
  unary('sqrt', 'sqrt', 'square root'),
  unary('rsqrt', 'rsqrt', '1 / sqrt(self)'),
  unary('reciprocal', 'reciprocal', '1 / self'),
  unary('sigmoid', 'sigmoid', 'logistic sigmoid'),
  unary('tanh', 'tanh', 'hyperbolic tangent'),
  unary('sin', 'sin', 'sine'),
  unary('cos', 'cos', 'cosine'),
  unary('erf', 'erf', 'error function'),
  unary('floor', 'floor', 'round down'),
  unary('ceil', 'ceil', 'round up'),
  unary('round', 'round', 'round half to even'),
  unary('sign', 'sign', 'sign'),
  unary('logicalNot', 'logical_not', 'elementwise not'),
  unary('isnan', 'isnan', 'NaN test'),
  unary('isfinite', 'isfinite', 'finite test'),
  unary('relu', 'relu', 'max(0, x)'),
  unary('silu', 'silu', 'x * sigmoid(x)'),
  { name: 'gelu', params: "approximate?: 'none' | 'tanh'", op: 'aten::gelu', doc: "GELU; exact (erf) unless approximate = 'tanh'" },
  { name: 'elu', params: 'alpha?: number', op: 'aten::elu', doc: 'ELU' },
  { name: 'leakyRelu', params: 'negativeSlope?: number', op: 'aten::leaky_relu', doc: 'leaky ReLU' },
  { name: 'softmax', params: 'dim: number', op: 'aten::softmax.int', doc: 'softmax along dim' },
  { name: 'logSoftmax', params: 'dim: number', op: 'aten::log_softmax.int', doc: 'log-softmax along dim' },

  // ---- reductions ----
  { name: 'sum', params: 'dim?: number | number[] | null, keepdim?: boolean', op: 'aten::sum.dim_IntList', args: 'self, dim ?? null, keepdim', doc: 'sum over dims (all when dim is omitted)' },
  { name: 'mean', params: 'dim?: number | number[] | null, keepdim?: boolean', op: 'aten::mean.dim', args: 'self, dim ?? null, keepdim', doc: 'mean over dims (all when dim is omitted)' },
  { name: 'amax', params: 'dim?: number | number[], keepdim?: boolean', op: 'aten::amax', args: 'self, dim ?? [], keepdim', doc: 'max over dims (all when omitted)' },
  { name: 'amin', params: 'dim?: number | number[], keepdim?: boolean', op: 'aten::amin', args: 'self, dim ?? [], keepdim', doc: 'min over dims (all when omitted)' },
  { name: 'maxDim', params: 'dim: number, keepdim?: boolean', op: 'aten::max.dim', returns: '[Tensor, Tensor]', doc: '[values, indices] of the max along dim' },
  { name: 'minDim', params: 'dim: number, keepdim?: boolean', op: 'aten::min.dim', returns: '[Tensor, Tensor]', doc: '[values, indices] of the min along dim' },
  { name: 'argmax', params: 'dim?: number | null, keepdim?: boolean', op: 'aten::argmax', args: 'self, dim ?? null, keepdim', doc: 'index of the max' },
  { name: 'argmin', params: 'dim?: number | null, keepdim?: boolean', op: 'aten::argmin', args: 'self, dim ?? null, keepdim', doc: 'index of the min' },
  { name: 'std', params: 'dim?: number | number[] | null, correction?: number, keepdim?: boolean', op: 'aten::std.correction', args: 'self, dim ?? null, correction ?? 1, keepdim', doc: 'standard deviation (Bessel-corrected by default)' },
  { name: 'variance', params: 'dim?: number | number[] | null, correction?: number, keepdim?: boolean', op: 'aten::var.correction', args: 'self, dim ?? null, correction ?? 1, keepdim', doc: 'variance (Bessel-corrected by default)' },
  { name: 'norm', params: 'ord?: number, dim?: number | number[] | null, keepdim?: boolean', op: 'aten::linalg_vector_norm', args: 'self, ord, dim ?? null, keepdim', doc: 'vector p-norm (2 by default)' },
  { name: 'logsumexp', params: 'dim: number | number[], keepdim?: boolean', op: 'aten::logsumexp', doc: 'log(sum(exp(self)))' },
  { name: 'cumsum', params: 'dim: number', op: 'aten::cumsum', doc: 'cumulative sum' },
  { name: 'all', op: 'aten::all', doc: 'true if every element is' },
  { name: 'any', op: 'aten::any', doc: 'true if any element is' },
  { name: 'equal', params: 'other: Tensor', op: 'aten::equal', returns: 'boolean', doc: 'same shape and values' },
  { name: 'allclose', params: 'other: Tensor, rtol?: number, atol?: number', op: 'aten::allclose', returns: 'boolean', doc: 'closeness test' },

  // ---- linear algebra ----
  { name: 'matmul', params: 'other: Tensor', op: 'aten::matmul', doc: 'matrix product with broadcasting' },
  { name: 'mm', params: 'other: Tensor', op: 'aten::mm', doc: '2-D matrix product' },
  { name: 'bmm', params: 'other: Tensor', op: 'aten::bmm', doc: 'batched matrix product' },
  { name: 'einsum', params: 'equation: string, ...tensors: Tensor[]', op: 'aten::einsum', args: 'equation, tensors', free: true, doc: 'Einstein summation' },
  { name: 'linalgSolve', params: 'A: Tensor, B: Tensor', op: 'aten::linalg_solve', args: 'A, B', free: true, doc: 'X with A X = B (batched)' },
  { name: 'linalgInv', params: 'A: Tensor', op: 'aten::linalg_inv', args: 'A', free: true, doc: 'inverse (batched)' },

  // ---- shape and indexing ----
  { name: 'reshape', params: 'shape: number[]', op: 'aten::reshape', doc: 'reshape (a view when possible)' },
  { name: 'view', params: 'shape: number[]', op: 'aten::view', doc: 'view with a new shape' },
  { name: 'permute', params: 'dims: number[]', op: 'aten::permute', doc: 'reorder dims' },
  { name: 'transpose', params: 'dim0: number, dim1: number', op: 'aten::transpose.int', doc: 'swap two dims' },
  { name: 'unsqueeze', params: 'dim: number', op: 'aten::unsqueeze', doc: 'insert a size-1 dim' },
  { name: 'squeeze', params: 'dim: number', op: 'aten::squeeze.dim', doc: 'drop a size-1 dim' },
  { name: 'flatten', params: 'startDim?: number, endDim?: number', op: 'aten::flatten.using_ints', doc: 'flatten a dim range' },
  { name: 'expand', params: 'shape: number[]', op: 'aten::expand', doc: 'broadcast view (-1 keeps a dim)' },
  { name: 'repeat', params: 'repeats: number[]', op: 'aten::repeat', doc: 'tile' },
  { name: 'contiguous', op: 'aten::contiguous', doc: 'C-contiguous copy if needed' },
  { name: 'clone', op: 'aten::clone', doc: 'copy' },
  { name: 'detach', op: 'aten::detach', doc: 'same memory, no autograd history' },
  { name: 'narrow', params: 'dim: number, start: number, length: number', op: 'aten::narrow', doc: 'view of length elements from start' },
  { name: 'select', params: 'dim: number, index: number', op: 'aten::select.int', doc: 'view at index, dim removed' },
  { name: 'slice', params: 'dim: number, start?: number | null, end?: number | null, step?: number', op: 'aten::slice.Tensor', doc: 'view of [start, end) with step' },
  { name: 'chunk', params: 'chunks: number, dim?: number', op: 'aten::chunk', returns: 'Tensor[]', doc: 'split into chunks' },
  { name: 'split', params: 'splitSize: number, dim?: number', op: 'aten::split.Tensor', returns: 'Tensor[]', doc: 'split into pieces of splitSize' },
  { name: 'unbind', params: 'dim?: number', op: 'aten::unbind.int', returns: 'Tensor[]', doc: 'views along dim' },
  { name: 'flip', params: 'dims: number[]', op: 'aten::flip', doc: 'reverse along dims' },
  { name: 'roll', params: 'shifts: number | number[], dims?: number | number[]', op: 'aten::roll', doc: 'cyclic shift' },
  { name: 'tril', params: 'diagonal?: number', op: 'aten::tril', doc: 'lower triangle' },
  { name: 'triu', params: 'diagonal?: number', op: 'aten::triu', doc: 'upper triangle' },
  { name: 'diagonal', params: 'offset?: number, dim1?: number, dim2?: number', op: 'aten::diagonal', doc: 'diagonal view' },
  { name: 'unfold', params: 'dim: number, size: number, step: number', op: 'aten::unfold', doc: 'sliding windows along dim' },
  { name: 'indexSelect', params: 'dim: number, index: Tensor', op: 'aten::index_select', doc: 'rows at index along dim' },
  { name: 'gather', params: 'dim: number, index: Tensor', op: 'aten::gather', doc: 'values at index along dim' },
  { name: 'scatter', params: 'dim: number, index: Tensor, src: Tensor | number', op: { Tensor: 'aten::scatter.src', number: 'aten::scatter.value' }, doc: 'copy of self with src written at index' },
  { name: 'scatterAdd', params: 'dim: number, index: Tensor, src: Tensor', op: 'aten::scatter_add', doc: 'copy of self with src added at index' },
  { name: 'index', params: 'indices: (Tensor | null)[]', op: 'aten::index.Tensor', doc: 'advanced indexing (null = full dim)' },
  { name: 'topk', params: 'k: number, dim?: number, largest?: boolean, sorted?: boolean', op: 'aten::topk', returns: '[Tensor, Tensor]', doc: '[values, indices] of the k largest' },
  { name: 'sort', params: 'dim?: number, descending?: boolean', op: 'aten::sort', returns: '[Tensor, Tensor]', doc: '[values, indices] sorted' },
  { name: 'argsort', params: 'dim?: number, descending?: boolean', op: 'aten::argsort', doc: 'indices that sort' },
  { name: 'cat', params: 'tensors: Tensor[], dim?: number', op: 'aten::cat', args: 'tensors, dim', free: true, doc: 'concatenate along dim' },
  { name: 'stack', params: 'tensors: Tensor[], dim?: number', op: 'aten::stack', args: 'tensors, dim', free: true, doc: 'stack along a new dim' },

  // ---- dtype ----
  { name: 'toDType', params: 'dtype: DType', op: 'aten::to.dtype', doc: 'convert dtype (no copy if already that dtype)' },

  // ---- neural-network functions ----
  { name: 'conv2d', params: 'input: Tensor, weight: Tensor, bias?: Tensor | null, stride?: number | number[], padding?: number | number[], dilation?: number | number[], groups?: number', op: 'aten::conv2d', args: 'input, weight, bias, stride, padding, dilation, groups', free: true, doc: '2-D convolution' },
  { name: 'convTranspose2d', params: 'input: Tensor, weight: Tensor, bias?: Tensor | null, stride?: number | number[], padding?: number | number[], outputPadding?: number | number[], groups?: number, dilation?: number | number[]', op: 'aten::conv_transpose2d.input', args: 'input, weight, bias, stride, padding, outputPadding, groups, dilation', free: true, doc: '2-D transposed convolution' },
  { name: 'layerNorm', params: 'input: Tensor, normalizedShape: number[], weight?: Tensor | null, bias?: Tensor | null, eps?: number', op: 'aten::layer_norm', args: 'input, normalizedShape, weight, bias, eps', free: true, doc: 'layer normalisation (eps 1e-5)' },
  { name: 'groupNorm', params: 'input: Tensor, numGroups: number, weight?: Tensor | null, bias?: Tensor | null, eps?: number', op: 'aten::group_norm', args: 'input, numGroups, weight, bias, eps', free: true, doc: 'group normalisation (eps 1e-5)' },
  { name: 'avgPool2d', params: 'input: Tensor, kernelSize: number | number[], stride?: number | number[], padding?: number | number[], ceilMode?: boolean, countIncludePad?: boolean', op: 'aten::avg_pool2d', args: 'input, kernelSize, stride ?? kernelSize, padding, ceilMode, countIncludePad', free: true, doc: '2-D average pooling (stride defaults to the kernel)' },
  { name: 'maxPool2d', params: 'input: Tensor, kernelSize: number | number[], stride?: number | number[], padding?: number | number[]', op: 'aten::max_pool2d', args: 'input, kernelSize, stride ?? kernelSize, padding', free: true, doc: '2-D max pooling (stride defaults to the kernel)' },
  { name: 'pad', params: "input: Tensor, pad: number[], mode?: 'constant' | 'reflect' | 'replicate' | 'circular', value?: number", op: 'aten::pad', args: 'input, pad, mode, value', free: true, doc: 'pad the last dims (pairs from the last dim)' },
  { name: 'im2col', params: 'input: Tensor, kernelSize: number | number[], dilation: number | number[], padding: number | number[], stride: number | number[]', op: 'aten::im2col', args: 'input, kernelSize, dilation, padding, stride', free: true, doc: 'F.unfold: patches to columns' },
  { name: 'col2im', params: 'input: Tensor, outputSize: number[], kernelSize: number | number[], dilation: number | number[], padding: number | number[], stride: number | number[]', op: 'aten::col2im', args: 'input, outputSize, kernelSize, dilation, padding, stride', free: true, doc: 'F.fold: columns back to an image (overlaps summed)' },
  { name: 'dropout', params: 'input: Tensor, p: number, train: boolean', op: 'aten::dropout', args: 'input, p, train', free: true, doc: 'dropout (identity unless train)' },
  { name: 'embedding', params: 'weight: Tensor, indices: Tensor', op: 'aten::embedding', args: 'weight, indices', free: true, doc: 'rows of weight at indices' },
  { name: 'binaryCrossEntropyWithLogits', params: "input: Tensor, target: Tensor, weight?: Tensor | null, posWeight?: Tensor | null, reduction?: Reduction", op: 'aten::binary_cross_entropy_with_logits', args: 'input, target, weight, posWeight, reductionCode(reduction)', free: true, doc: 'BCE on logits (mean by default)' },
  { name: 'crossEntropy', params: "input: Tensor, target: Tensor, weight?: Tensor | null, reduction?: Reduction, ignoreIndex?: number, labelSmoothing?: number", op: 'aten::cross_entropy_loss', args: 'input, target, weight, reductionCode(reduction), ignoreIndex, labelSmoothing', free: true, doc: 'cross entropy over class dim 1 (mean by default, ignore -100)' },

  // ---- creation ----
  { name: 'zeros', params: 'shape: number[], dtype?: DType, device?: Device', op: 'aten::zeros', args: 'shape, dtype ?? defaultDType(), undefined, checkDevice(device)', free: true, doc: 'zeros' },
  { name: 'ones', params: 'shape: number[], dtype?: DType, device?: Device', op: 'aten::ones', args: 'shape, dtype ?? defaultDType(), undefined, checkDevice(device)', free: true, doc: 'ones' },
  { name: 'empty', params: 'shape: number[], dtype?: DType, device?: Device', op: 'aten::empty.memory_format', args: 'shape, dtype ?? defaultDType(), undefined, checkDevice(device)', free: true, doc: 'uninitialised' },
  { name: 'full', params: 'shape: number[], value: number, dtype?: DType, device?: Device', op: 'aten::full', args: 'shape, value, dtype ?? defaultDType(), undefined, checkDevice(device)', free: true, doc: 'filled with value' },
  { name: 'arange', params: 'start: number, end: number, step?: number, dtype?: DType, device?: Device', op: 'aten::arange.start_step', args: 'start, end, step, dtype, undefined, checkDevice(device)', free: true, doc: '[start, end) by step (int64 for integer arguments)' },
  { name: 'eye', params: 'n: number, dtype?: DType, device?: Device', op: 'aten::eye', args: 'n, dtype ?? defaultDType(), undefined, checkDevice(device)', free: true, doc: 'identity matrix' },
  { name: 'randn', params: 'shape: number[], dtype?: DType, device?: Device', op: 'aten::randn', args: 'shape, dtype ?? defaultDType(), undefined, checkDevice(device)', free: true, doc: 'standard normal samples' },
  { name: 'rand', params: 'shape: number[], dtype?: DType, device?: Device', op: 'aten::rand', args: 'shape, dtype ?? defaultDType(), undefined, checkDevice(device)', free: true, doc: 'uniform [0, 1) samples' },
  { name: 'randint', params: 'low: number, high: number, shape: number[], dtype?: DType, device?: Device', op: 'aten::randint.low', args: 'low, high, shape, dtype ?? "int64", undefined, checkDevice(device)', free: true, doc: 'integers in [low, high)' },
  { name: 'zerosLike', op: 'aten::zeros_like', doc: 'zeros of the same shape, dtype and device' },
  { name: 'onesLike', op: 'aten::ones_like', doc: 'ones of the same shape, dtype and device' },
  { name: 'fullLike', params: 'value: number', op: 'aten::full_like', doc: 'filled, same shape, dtype and device' },
  { name: 'randnLike', op: 'aten::randn_like', doc: 'normal samples of the same shape' },

  // ---- in place (for optimizers and initialisation, under noGrad) ----
  { name: 'add_', params: 'other: Tensor | number, alpha?: number', op: { Tensor: 'aten::add_.Tensor', number: 'aten::add_.Scalar' }, doc: 'self += alpha * other' },
  { name: 'sub_', params: 'other: Tensor | number, alpha?: number', op: { Tensor: 'aten::sub_.Tensor', number: 'aten::sub_.Scalar' }, doc: 'self -= alpha * other' },
  { name: 'mul_', params: 'other: Tensor | number', op: { Tensor: 'aten::mul_.Tensor', number: 'aten::mul_.Scalar' }, doc: 'self *= other' },
  { name: 'div_', params: 'other: Tensor | number', op: { Tensor: 'aten::div_.Tensor', number: 'aten::div_.Scalar' }, doc: 'self /= other' },
  { name: 'addcdiv_', params: 'tensor1: Tensor, tensor2: Tensor, value?: number', op: 'aten::addcdiv_', doc: 'self += value * tensor1 / tensor2' },
  { name: 'addcmul_', params: 'tensor1: Tensor, tensor2: Tensor, value?: number', op: 'aten::addcmul_', doc: 'self += value * tensor1 * tensor2' },
  { name: 'lerp_', params: 'end: Tensor, weight: number', op: 'aten::lerp_.Scalar', doc: 'self += weight * (end - self)' },
  { name: 'copy_', params: 'src: Tensor', op: 'aten::copy_', doc: 'copy values from src (broadcast)' },
  { name: 'fill_', params: 'value: number', op: 'aten::fill_.Scalar', doc: 'fill with value' },
  { name: 'zero_', op: 'aten::zero_', doc: 'fill with zeros' },
  { name: 'clamp_', params: 'min?: number | null, max?: number | null', op: 'aten::clamp_', doc: 'clamp in place' },
  { name: 'relu_', op: 'aten::relu_', doc: 'max(0, x) in place' },
  { name: 'normal_', params: 'mean?: number, std?: number', op: 'aten::normal_', doc: 'fill with normal samples' },
  { name: 'uniform_', params: 'from?: number, to?: number', op: 'aten::uniform_', doc: 'fill with uniform samples' },
];
