// The one path from TypeScript to ATen: an operator is resolved by schema name once and then
// called through the dispatcher (native/src/dispatch.cc). Tensors become handles, dtype names
// become the addon's codes where the schema asks for a ScalarType, and returned handles become
// Tensors registered with the current scope.
import { AhsError } from '../errors.js';
import { DTYPE_CODE, type DType } from './dtype.js';
import { native, type Handle } from './native.js';
import { Tensor } from './tensor.js';

/** Sees every op call: schema name, arguments, result and wall time in ms (countFlops, profileOps). */
export type OpObserver = (op: string, args: unknown[], out: unknown, ms: number) => void;
let current: OpObserver | null = null;

/** libtorch's messages for a failed allocation (CPU allocator, caching allocator, CUDA). */
const OUT_OF_MEMORY = /bad_alloc|can't allocate memory|out of memory/i;

/** Runs fn with `observe` called after every op; observers nest (the enclosing one still sees each op). */
export function observeOps<T>(observe: OpObserver, fn: () => T): T {
  const prev = current;
  current = prev ? (op, args, out, ms) => { observe(op, args, out, ms); prev(op, args, out, ms); } : observe;
  try {
    return fn();
  } finally {
    current = prev;
  }
}

export class AtenOp {
  private id = -1;
  private types: string[] = [];
  private nReturns = 0;
  constructor(readonly name: string, readonly overload = '') {}

  get qualifiedName(): string {
    return this.overload ? `${this.name}.${this.overload}` : this.name;
  }

  private resolve(): void {
    const [id, , types, , nReturns] = native().resolveOp(this.name, this.overload);
    this.id = id;
    this.types = types;
    this.nReturns = nReturns;
  }

  /** Calls the operator; `undefined` arguments take the schema's defaults. */
  call(args: unknown[]): unknown {
    if (this.id < 0) this.resolve();
    const raw = new Array(args.length);
    for (let i = 0; i < args.length; i++) raw[i] = toNative(args[i], this.types[i]);
    const observer = current;
    const t0 = observer ? performance.now() : 0;
    let out: unknown;
    try {
      out = native().callOp(this.id, raw);
    } catch (e) {
      const msg = (e as Error).message;
      // An allocation that failed is this machine's limit, not a bug in the operator.
      if (OUT_OF_MEMORY.test(msg)) {
        throw new AhsError('AHS_ERR_OUT_OF_MEMORY', `${this.qualifiedName} ran out of memory (${msg}); the work needs more memory than is free: use fewer classes, smaller images or a smaller input size`, { cause: e });
      }
      throw new AhsError('AHS_ERR_NATIVE', `${this.qualifiedName}: ${msg}`, { cause: e });
    }
    const result = fromNative(out);
    if (observer) observer(this.name, args, result, performance.now() - t0);
    return result;
  }

  /** Calls an operator with one Tensor result. */
  t(args: unknown[]): Tensor {
    return this.call(args) as Tensor;
  }

  get returns(): number {
    if (this.id < 0) this.resolve();
    return this.nReturns;
  }
}

function toNative(v: unknown, type: string | undefined): unknown {
  if (v instanceof Tensor) return v.handle;
  if (typeof v === 'string' && type !== undefined && type.startsWith('ScalarType')) {
    const code = DTYPE_CODE[v as DType];
    if (code === undefined) throw new AhsError('AHS_ERR_DTYPE', `unknown dtype '${v}'`);
    return code;
  }
  if (Array.isArray(v) && v.length > 0 && (v[0] instanceof Tensor || v.some((x) => x instanceof Tensor))) {
    return v.map((x) => (x instanceof Tensor ? x.handle : x));
  }
  return v;
}

function fromNative(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(fromNative);
  return new Tensor(v as Handle);
}

const ops = new Map<string, AtenOp>();

/** A cached operator handle: `aten('aten::mm').t([a, b])`. */
export function aten(name: string, overload = ''): AtenOp {
  const key = `${name}.${overload}`;
  let op = ops.get(key);
  if (!op) ops.set(key, (op = new AtenOp(name, overload)));
  return op;
}
