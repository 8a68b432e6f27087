// The tensor engine's public surface.
export { Tensor } from './tensor.js';
export * from './ops.gen.js';
export { tensor, fromBytes, scalar } from './creation.js';
export { interpolate, quickGelu, to, squeezeAll, type InterpolateMode } from './functional.js';
export { attention, multiHeadAttention, setFusedAttention } from './attention.js';
export { noGrad, enableGrad, isGradEnabled } from './autograd.js';
export { tidy, tidyAsync, keep, dispose } from './scope.js';
export { manualSeed, numThreads, setNumThreads, liveTensorCount, memoryStats, emptyCache, engineInfo, type EngineInfo } from './runtime.js';
export { DTYPES, ITEMSIZE, isFloating, type DType, type Device } from './dtype.js';
export { aten, AtenOp } from './ops.js';
export { defaultDType, setDefaultDType, type Reduction } from './op_support.js';
export { pickOpenBlasCoreType } from './native.js';
import './methods.js';
export { timeMs, matmulGflops } from './throughput.js';
export { countFlops } from './flops.js';
export { profileOps, formatOpProfile, type OpProfileRow } from './profile.js';
export { checkDevice } from './op_support.js';
