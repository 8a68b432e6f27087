// A pickle virtual machine (protocols 0..5) that builds plain data and NEVER executes anything:
// a global is only a name. Calling one (REDUCE, NEWOBJ, INST, OBJ) runs a handler we wrote when
// the name is known (OrderedDict, set, torch's tensor rebuilders, numpy scalars...) and otherwise
// yields an OpaqueObject recording the class name, arguments and state. So a checkpoint that
// pickles `os.system` or an unknown training class still loads, and only what we understand is
// interpreted. Python values map to: dict -> Map (insertion order kept), list/tuple -> Array,
// set/frozenset -> Set, bytes/bytearray -> Buffer, int -> number (bigint beyond 2^53), float ->
// number, str -> string, None -> null, bool -> boolean.

import { AhsError, check } from '../errors.js';

/** An instance of a class we do not interpret: `{ __class__: 'module.Name', args, state }`. */
export class OpaqueObject {
  state: unknown = undefined;
  /** Filled by SETITEM(S) / APPEND(S) when the class is a dict or list subclass. */
  items?: Map<unknown, unknown>;
  listItems?: unknown[];
  constructor(
    readonly __class__: string,
    readonly args: unknown[],
    /** Set when the object is a tensor we recognise but cannot load (quantized, sparse, complex...). */
    readonly unsupported?: string,
  ) {}
}

/** A `module.name` reference pushed by GLOBAL / STACK_GLOBAL; resolved only when called. */
export class PickleGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get fullName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** Objects built by handlers may take BUILD's state this way (Python's __setstate__). */
export const SET_STATE: unique symbol = Symbol('pickle.setState');
export interface HasSetState {
  [SET_STATE](state: unknown): void;
}

export interface CallContext {
  /** File (and archive member) being unpickled, for error messages. */
  readonly source: string;
  /** Calls another pickled callable the way REDUCE would (for wrappers like _rebuild_from_type_v2). */
  call(fn: unknown, args: unknown[]): unknown;
}
export type PyCallable = (args: unknown[], ctx: CallContext) => unknown;
/** Maps a global to a handler, or undefined for "unknown: make an OpaqueObject". */
export type GlobalResolver = (module: string, name: string) => PyCallable | undefined;

export interface UnpickleOptions {
  /** File name (plus archive member) used in every error message. */
  source: string;
  /** Turns a persistent id (torch's storage tuples) into a value; without it PERSID is an error. */
  persistentLoad?: (pid: unknown) => unknown;
  /** Tried in order before the Python builtins below. */
  resolvers?: GlobalResolver[];
}

/** Python 2 module names as written by pickles made under Python 2 (and protocol < 3). */
const PY2_MODULES: Record<string, string> = { __builtin__: 'builtins', copy_reg: 'copyreg' };

const fromPairs = (pairs: unknown): Map<unknown, unknown> =>
  new Map(Array.isArray(pairs) ? (pairs as unknown[][]).map((p) => [p[0], p[1]] as const) : []);

const BUILTINS: Record<string, PyCallable> = {
  'collections.OrderedDict': (args) => fromPairs(args[0]),
  'builtins.dict': (args) => (args[0] instanceof Map ? new Map(args[0]) : fromPairs(args[0])),
  'builtins.set': (args) => new Set(args[0] as Iterable<unknown> | undefined),
  'builtins.frozenset': (args) => new Set(args[0] as Iterable<unknown> | undefined),
  'builtins.list': (args) => [...((args[0] as Iterable<unknown> | undefined) ?? [])],
  'builtins.tuple': (args) => [...((args[0] as Iterable<unknown> | undefined) ?? [])],
  'builtins.bytearray': (args) => toBytes(args[0], args[1]),
  'builtins.bytes': (args) => toBytes(args[0], args[1]),
  // How protocols < 3 carry Python 3 bytes: _codecs.encode(latin1_text, 'latin1').
  '_codecs.encode': (args) => toBytes(args[0], args[1]),
  // object.__reduce_ex__(<2): the instance is made empty, BUILD then fills its state.
  'copyreg._reconstructor': (args) => new OpaqueObject(args[0] instanceof PickleGlobal ? args[0].fullName : String(args[0]), []),
};

function toBytes(value: unknown, encoding: unknown): Buffer {
  if (value === undefined) return Buffer.alloc(0);
  if (Buffer.isBuffer(value)) return Buffer.from(value);
  if (typeof value === 'string') return Buffer.from(value, encoding === 'utf-8' || encoding === 'utf8' ? 'utf8' : 'latin1');
  if (Array.isArray(value)) return Buffer.from(value as number[]);
  return Buffer.alloc(0);
}

const builtinResolver: GlobalResolver = (module, name) => BUILTINS[`${PY2_MODULES[module] ?? module}.${name}`];

/** Decodes one pickle. Throws AHS_ERR_FILE_FORMAT naming `opts.source` on any malformed input. */
export function unpickle(data: Uint8Array, opts: UnpickleOptions): unknown {
  return new Unpickler(Buffer.from(data.buffer, data.byteOffset, data.byteLength), opts).load();
}

class Unpickler implements CallContext {
  private pos = 0;
  private stack: unknown[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, unknown>();
  private readonly resolvers: GlobalResolver[];
  readonly source: string;

  constructor(private readonly buf: Buffer, private readonly opts: UnpickleOptions) {
    this.source = opts.source;
    this.resolvers = [...(opts.resolvers ?? []), builtinResolver];
  }

  private fail(msg: string): never {
    throw new AhsError('AHS_ERR_FILE_FORMAT', `${this.source}: corrupt pickle: ${msg} (at byte ${this.pos})`);
  }

  load(): unknown {
    try {
      return this.run();
    } catch (err) {
      if (err instanceof AhsError) throw err;
      // A type confusion in a malformed stream must still come out as a file-format error.
      throw new AhsError('AHS_ERR_FILE_FORMAT', `${this.source}: corrupt pickle: ${(err as Error).message} (at byte ${this.pos})`, { cause: err });
    }
  }

  // ----------------------------------------------------------------- byte readers
  private take(n: number): Buffer {
    if (!Number.isSafeInteger(n) || n < 0 || this.pos + n > this.buf.length) {
      this.fail(`needs ${n} more bytes but only ${this.buf.length - this.pos} remain (truncated?)`);
    }
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  private u8 = () => this.take(1)[0]!;
  private u16 = () => this.take(2).readUInt16LE(0);
  private u32 = () => this.take(4).readUInt32LE(0);
  private u64(): number {
    const v = this.take(8).readBigUInt64LE(0);
    if (v > BigInt(this.buf.length)) this.fail(`length ${v} exceeds the pickle size`);
    return Number(v);
  }
  private line(): string {
    const end = this.buf.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('unterminated text line');
    const s = this.buf.toString('latin1', this.pos, end);
    this.pos = end + 1;
    return s;
  }

  // ----------------------------------------------------------------- stack helpers
  private push = (v: unknown) => void this.stack.push(v);
  private pop(): unknown {
    if (this.stack.length === 0 || (this.marks.length > 0 && this.stack.length <= this.marks.at(-1)!)) this.fail('stack underflow');
    return this.stack.pop();
  }
  private top(): unknown {
    if (this.stack.length === 0) this.fail('stack underflow');
    return this.stack[this.stack.length - 1];
  }
  private popMark(): unknown[] {
    const m = this.marks.pop();
    if (m === undefined) this.fail('MARK expected');
    const items = this.stack.slice(m);
    this.stack.length = m;
    return items;
  }
  private memoGet(i: number): unknown {
    if (!this.memo.has(i)) this.fail(`memo key ${i} missing`);
    return this.memo.get(i);
  }

  // ----------------------------------------------------------------- calling globals
  call(fn: unknown, args: unknown[]): unknown {
    if (!(fn instanceof PickleGlobal)) return new OpaqueObject('<call of a non-global>', args);
    if (!Array.isArray(args)) this.fail(`arguments of ${fn.fullName} are not a tuple`);
    for (const resolve of this.resolvers) {
      const handler = resolve(fn.module, fn.name);
      if (handler) return handler(args, this);
    }
    return new OpaqueObject(fn.fullName, args);
  }

  private build(obj: unknown, state: unknown): void {
    if (obj !== null && typeof obj === 'object' && SET_STATE in obj) {
      (obj as HasSetState)[SET_STATE](state);
    } else if (obj instanceof OpaqueObject) {
      obj.state = state;
    } else if (obj instanceof Map && state instanceof Map) {
      for (const [k, v] of state) obj.set(k, v);
    }
    // BUILD on anything else (a tensor, a list) carries Python-only attributes we do not need.
  }

  private setItems(target: unknown, kv: unknown[]): void {
    if (kv.length % 2 !== 0) this.fail('SETITEMS with an odd number of items');
    const map = target instanceof Map ? target : target instanceof OpaqueObject ? (target.items ??= new Map()) : undefined;
    if (!map) this.fail(`SETITEM on a ${describe(target)}`);
    for (let i = 0; i < kv.length; i += 2) map.set(kv[i], kv[i + 1]);
  }

  private appendItems(target: unknown, items: unknown[]): void {
    const list = Array.isArray(target) ? target : target instanceof OpaqueObject ? (target.listItems ??= []) : undefined;
    if (!list) this.fail(`APPEND on a ${describe(target)}`);
    for (const v of items) list.push(v);
  }

  private intOf(s: string): number | bigint {
    const t = s.endsWith('L') ? s.slice(0, -1) : s;
    if (!/^[+-]?\d+$/.test(t)) this.fail(`bad integer literal '${s}'`);
    return normInt(BigInt(t));
  }

  private long(bytes: Buffer): number | bigint {
    if (bytes.length === 0) return 0;
    let v = 0n;
    for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
    if (bytes[bytes.length - 1]! & 0x80) v -= 1n << BigInt(8 * bytes.length);
    return normInt(v);
  }

  // ----------------------------------------------------------------- the opcode loop
  private run(): unknown {
    for (;;) {
      const at = this.pos;
      const op = this.u8();
      switch (op) {
        case 0x80: { // PROTO
          const proto = this.u8();
          if (proto > 5) this.fail(`unsupported pickle protocol ${proto}`);
          break;
        }
        case 0x95: this.take(8); break; // FRAME: framing only, the data follows inline
        case 0x2e: { // STOP
          const v = this.pop();
          return v;
        }
        case 0x28: this.marks.push(this.stack.length); break; // MARK
        case 0x30: this.pop(); break; // POP
        case 0x31: this.popMark(); break; // POP_MARK
        case 0x32: this.push(this.top()); break; // DUP
        // constants and numbers
        case 0x4e: this.push(null); break; // NONE
        case 0x88: this.push(true); break; // NEWTRUE
        case 0x89: this.push(false); break; // NEWFALSE
        case 0x4a: this.push(this.take(4).readInt32LE(0)); break; // BININT
        case 0x4b: this.push(this.u8()); break; // BININT1
        case 0x4d: this.push(this.u16()); break; // BININT2
        case 0x8a: this.push(this.long(this.take(this.u8()))); break; // LONG1
        case 0x8b: { // LONG4
          const n = this.take(4).readInt32LE(0);
          if (n < 0) this.fail('negative LONG4 length');
          this.push(this.long(this.take(n)));
          break;
        }
        case 0x49: { // INT (protocol 0; "01"/"00" are True/False)
          const s = this.line();
          this.push(s === '01' ? true : s === '00' ? false : this.intOf(s));
          break;
        }
        case 0x4c: this.push(this.intOf(this.line())); break; // LONG (protocol 0)
        case 0x47: this.push(this.take(8).readDoubleBE(0)); break; // BINFLOAT
        case 0x46: { // FLOAT (protocol 0)
          const s = this.line();
          const v = Number(s.trim());
          if (Number.isNaN(v) && !/nan/i.test(s)) this.fail(`bad float literal '${s}'`);
          this.push(v);
          break;
        }
        // text and bytes
        case 0x58: this.push(this.take(this.u32()).toString('utf8')); break; // BINUNICODE
        case 0x8c: this.push(this.take(this.u8()).toString('utf8')); break; // SHORT_BINUNICODE
        case 0x8d: this.push(this.take(this.u64()).toString('utf8')); break; // BINUNICODE8
        case 0x56: this.push(decodeRawUnicodeEscape(this.line())); break; // UNICODE (protocol 0)
        // Python 2 str: kept as latin1 text, which is how numpy/torch read it (encoding='latin1').
        case 0x54: this.push(this.take(this.take(4).readInt32LE(0)).toString('latin1')); break; // BINSTRING
        case 0x55: this.push(this.take(this.u8()).toString('latin1')); break; // SHORT_BINSTRING
        case 0x53: this.push(decodeStringLiteral(this.line(), (m) => this.fail(m))); break; // STRING
        case 0x42: this.push(Buffer.from(this.take(this.u32()))); break; // BINBYTES
        case 0x43: this.push(Buffer.from(this.take(this.u8()))); break; // SHORT_BINBYTES
        case 0x8e: this.push(Buffer.from(this.take(this.u64()))); break; // BINBYTES8
        case 0x96: this.push(Buffer.from(this.take(this.u64()))); break; // BYTEARRAY8
        // containers
        case 0x7d: this.push(new Map()); break; // EMPTY_DICT
        case 0x5d: this.push([]); break; // EMPTY_LIST
        case 0x29: this.push([]); break; // EMPTY_TUPLE
        case 0x8f: this.push(new Set()); break; // EMPTY_SET
        case 0x85: this.push([this.pop()]); break; // TUPLE1
        case 0x86: { const b = this.pop(); const a = this.pop(); this.push([a, b]); break; } // TUPLE2
        case 0x87: { const c = this.pop(); const b = this.pop(); const a = this.pop(); this.push([a, b, c]); break; } // TUPLE3
        case 0x74: this.push(this.popMark()); break; // TUPLE
        case 0x6c: this.push(this.popMark()); break; // LIST
        case 0x64: { // DICT
          const m = new Map();
          this.setItems(m, this.popMark());
          this.push(m);
          break;
        }
        case 0x91: this.push(new Set(this.popMark())); break; // FROZENSET
        case 0x61: { const v = this.pop(); this.appendItems(this.top(), [v]); break; } // APPEND
        case 0x65: { const items = this.popMark(); this.appendItems(this.top(), items); break; } // APPENDS
        case 0x73: { const v = this.pop(); const k = this.pop(); this.setItems(this.top(), [k, v]); break; } // SETITEM
        case 0x75: { const kv = this.popMark(); this.setItems(this.top(), kv); break; } // SETITEMS
        case 0x90: { // ADDITEMS
          const items = this.popMark();
          const set = this.top();
          if (!(set instanceof Set)) this.fail(`ADDITEMS on a ${describe(set)}`);
          for (const v of items) set.add(v);
          break;
        }
        // memo
        case 0x71: this.memo.set(this.u8(), this.top()); break; // BINPUT
        case 0x72: this.memo.set(this.u32(), this.top()); break; // LONG_BINPUT
        case 0x94: this.memo.set(this.memo.size, this.top()); break; // MEMOIZE
        case 0x70: this.memo.set(Number(this.intOf(this.line())), this.top()); break; // PUT
        case 0x68: this.push(this.memoGet(this.u8())); break; // BINGET
        case 0x6a: this.push(this.memoGet(this.u32())); break; // LONG_BINGET
        case 0x67: this.push(this.memoGet(Number(this.intOf(this.line())))); break; // GET
        // globals and object construction
        case 0x63: { // GLOBAL
          const module = this.line();
          this.push(new PickleGlobal(module, this.line()));
          break;
        }
        case 0x93: { // STACK_GLOBAL
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string') this.fail('STACK_GLOBAL needs two strings');
          this.push(new PickleGlobal(module, name));
          break;
        }
        case 0x52: { // REDUCE
          const args = this.pop();
          const fn = this.pop();
          this.push(this.call(fn, args as unknown[]));
          break;
        }
        case 0x81: { // NEWOBJ: cls.__new__(cls, *args)
          const args = this.pop();
          const cls = this.pop();
          this.push(this.call(cls, args as unknown[]));
          break;
        }
        case 0x92: { // NEWOBJ_EX: keyword arguments are dropped
          this.pop();
          const args = this.pop();
          const cls = this.pop();
          this.push(this.call(cls, args as unknown[]));
          break;
        }
        case 0x69: { // INST (protocol 0)
          const module = this.line();
          const name = this.line();
          this.push(this.call(new PickleGlobal(module, name), this.popMark()));
          break;
        }
        case 0x6f: { // OBJ (protocol 1)
          const [cls, ...args] = this.popMark();
          this.push(this.call(cls, args));
          break;
        }
        case 0x62: { // BUILD
          const state = this.pop();
          this.build(this.top(), state);
          break;
        }
        case 0x51: this.push(this.persistent(this.pop())); break; // BINPERSID
        case 0x50: this.push(this.persistent(this.line())); break; // PERSID
        default:
          this.pos = at;
          this.fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')}${op >= 0x20 && op < 0x7f ? ` ('${String.fromCharCode(op)}')` : ''}`);
      }
    }
  }

  private persistent(pid: unknown): unknown {
    if (!this.opts.persistentLoad) this.fail('persistent id found, but this file type has no external storage');
    return this.opts.persistentLoad(pid);
  }
}

function normInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v instanceof OpaqueObject) return v.__class__;
  if (Array.isArray(v)) return 'list/tuple';
  return v instanceof Map ? 'dict' : typeof v;
}

/** Protocol 0 UNICODE: latin1 text with \uXXXX and \UXXXXXXXX escapes (raw-unicode-escape). */
function decodeRawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, u4: string | undefined, u8: string | undefined) =>
    String.fromCodePoint(parseInt((u4 ?? u8)!, 16)));
}

/** Protocol 0 STRING: a quoted Python 2 str literal such as 'a\\x00\\n'. */
function decodeStringLiteral(s: string, fail: (m: string) => never): string {
  const q = s[0];
  if (s.length < 2 || (q !== "'" && q !== '"') || s[s.length - 1] !== q) fail(`bad STRING literal ${s.slice(0, 40)}`);
  const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v' };
  return s.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8) & 0xff);
    return simple[e] ?? `\\${e}`;
  });
}

/** Requires a value from the pickle to be a non-negative safe integer (shapes, offsets). */
export function expectIndex(v: unknown, source: string, what: string): number {
  check(typeof v === 'number' && Number.isSafeInteger(v) && v >= 0, 'AHS_ERR_FILE_FORMAT',
    () => `${source}: ${what} must be a non-negative integer, got ${String(v)}`);
  return v;
}
