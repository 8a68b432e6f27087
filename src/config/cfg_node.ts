// CfgNode: the yacs/detectron2 config tree. Every key exists because the schema declares it, so a
// typo is an error (with a suggestion), never a silently ignored setting; every write is type
// checked against the schema; `freeze()` makes the tree read-only once setup is done.
// Keys are properties (`cfg.SOLVER.MAX_ITER`), typed from the schema via `TypedCfg`.

import YAML from 'yaml';
import { AhsError, check } from '../errors.js';
import { parseLiteral } from './literal.js';
import type { LeafSpec, NodeSpec, Spec } from './schema.js';
import { rangeText, typeName } from './schema.js';
import { nearestKey } from './suggest.js';

/** A CfgNode whose keys are typed from the schema node `N`. */
export type TypedCfg<N extends NodeSpec> = CfgNode & {
  -readonly [K in keyof N['children']]: N['children'][K] extends NodeSpec
    ? TypedCfg<N['children'][K]>
    : N['children'][K] extends LeafSpec<infer V>
      ? V
      : never;
};

/** YAML 1.1 is what PyYAML (and so detectron2) reads: `yes`/`on` are booleans, `1e-4` is a string. */
export const YAML_VERSION = '1.1';

const KEY_PATTERN = /^[A-Z][A-Z0-9_]*$/;
const join = (path: string, key: string): string => (path ? `${path}.${key}` : key);
const where = (source: string | undefined): string => (source ? ` in ${source}` : '');

export class CfgNode {
  readonly #spec: NodeSpec;
  readonly #path: string;
  readonly #values = new Map<string, unknown>();
  #frozen = false;

  /** A config holding the schema's defaults. */
  static fromSchema<N extends NodeSpec>(spec: N): TypedCfg<N> {
    return new CfgNode(spec, '') as TypedCfg<N>;
  }

  private constructor(spec: NodeSpec, path: string) {
    this.#spec = spec;
    this.#path = path;
    for (const [key, child] of Object.entries(spec.children)) {
      // Upper-case keys (the yacs convention) also cannot shadow the camelCase methods below.
      check(KEY_PATTERN.test(key), 'AHS_ERR_CONFIG_KEY', () => `Schema key '${join(path, key)}' must be UPPER_SNAKE_CASE`);
      this.#values.set(key, child.kind === 'node' ? new CfgNode(child, join(path, key)) : child.default);
      Object.defineProperty(this, key, {
        enumerable: true,
        get: () => this.#values.get(key),
        set: (value: unknown) => this.set(key, value),
      });
    }
  }

  /** Dotted path of this node from the root ('' for the root). */
  get path(): string {
    return this.#path;
  }

  isFrozen(): boolean {
    return this.#frozen;
  }

  /** Makes this node and everything below it read-only. */
  freeze(): this {
    this.#frozen = true;
    for (const v of this.#values.values()) if (v instanceof CfgNode) v.freeze();
    return this;
  }

  /** A deep, mutable copy. (yacs keeps the frozen flag; a copy here exists to be changed.) */
  clone(): this {
    const copy = new CfgNode(this.#spec, this.#path);
    copy.#copyFrom(this);
    return copy as this;
  }

  /** Value (or sub-node) at a dotted key relative to this node, e.g. `get('SOLVER.MAX_ITER')`. */
  get(key: string): unknown {
    const { node, leafKey } = this.#walk(key, undefined);
    check(Object.hasOwn(node.#spec.children, leafKey), 'AHS_ERR_CONFIG_KEY', () => this.#unknownKey(join(this.#path, key), undefined));
    return node.#values.get(leafKey);
  }

  /** Type-checked write of one leaf; `source` names where the value came from in error messages. */
  set(key: string, value: unknown, source?: string): void {
    this.#assign(key, value, source, false);
  }

  /**
   * Merges a nested plain object (a parsed YAML file) into this node, yacs `merge_from_other_cfg`:
   * string values are decoded as Python literals, then type checked against the schema.
   */
  merge(obj: Readonly<Record<string, unknown>>, source?: string): void {
    this.#mergeObject(obj, source, this);
  }

  /** Applies `KEY VALUE` pairs (yacs `merge_from_list`), e.g. `['SOLVER.MAX_ITER', '1000']`. */
  mergeFromList(tokens: readonly string[], source = 'command-line overrides'): void {
    check(
      tokens.length % 2 === 0,
      'AHS_ERR_INVALID_ARGUMENT',
      () => `Config overrides must be KEY VALUE pairs, got ${tokens.length} token(s); '${tokens.at(-1)}' has no value`,
    );
    for (let i = 0; i < tokens.length; i += 2) this.#assign(tokens[i]!, tokens[i + 1]!, source, true);
  }

  /** Plain nested copy of the values. */
  toObject(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of this.#values) out[k] = v instanceof CfgNode ? v.toObject() : Array.isArray(v) ? [...v] : v;
    return out;
  }

  /** YAML text that `loadConfig` reads back to an equal config (lists in flow style: `[384, 384]`). */
  toYAML(): string {
    const doc = new YAML.Document(this.toObject(), { version: YAML_VERSION });
    YAML.visit(doc, {
      Seq: (_, seq) => {
        seq.flow = true;
      },
      // Float keys keep a decimal point (`WARMUP_FACTOR: 1.0`) as in detectron2 dumps; list items
      // are left alone, since there an integral value (CROP.SIZE 384) was written as an int.
      Scalar: (_, scalar, path) => {
        if (typeof scalar.value !== 'number') return;
        const keys = path.filter(YAML.isPair).map((pair) => String(YAML.isScalar(pair.key) ? pair.key.value : pair.key));
        const spec = this.#leafAt(keys);
        if (spec?.type === 'float') scalar.minFractionDigits = 1;
      },
    });
    return doc.toString();
  }

  /** Full dotted keys of every section and leaf under this node (suggestion candidates). */
  allKeys(): string[] {
    const out: string[] = [];
    for (const [k, v] of this.#values) {
      out.push(join(this.#path, k));
      if (v instanceof CfgNode) out.push(...v.allKeys());
    }
    return out;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): Record<string, unknown> {
    return this.toObject();
  }

  #leafAt(keys: readonly string[]): LeafSpec | undefined {
    let spec: Spec | undefined = this.#spec;
    for (const k of keys) spec = spec?.kind === 'node' && Object.hasOwn(spec.children, k) ? spec.children[k] : undefined;
    return spec?.kind === 'leaf' ? spec : undefined;
  }

  #copyFrom(src: CfgNode): void {
    for (const [k, v] of src.#values) {
      if (v instanceof CfgNode) (this.#values.get(k) as CfgNode).#copyFrom(v);
      else this.#values.set(k, v); // lists are frozen, so sharing them is safe
    }
  }

  /** Message for an unknown full key, suggesting the nearest key under this node. */
  #unknownKey(full: string, source: string | undefined): string {
    const hint = nearestKey(full, this.allKeys());
    return `Unknown config key '${full}'${where(source)}${hint ? `; did you mean '${hint}'?` : ''}`;
  }

  /** Finds the node owning the last segment of `key`; intermediate segments must be sections. */
  #walk(key: string, source: string | undefined): { node: CfgNode; leafKey: string } {
    const parts = key.split('.');
    let node: CfgNode = this;
    for (const part of parts.slice(0, -1)) {
      const child = Object.hasOwn(node.#spec.children, part) ? node.#values.get(part) : undefined;
      if (!(child instanceof CfgNode)) throw new AhsError('AHS_ERR_CONFIG_KEY', this.#unknownKey(join(this.#path, key), source));
      node = child;
    }
    return { node, leafKey: parts.at(-1)! };
  }

  #assign(key: string, raw: unknown, source: string | undefined, decode: boolean): void {
    const { node, leafKey } = this.#walk(key, source);
    const spec: Spec | undefined = Object.hasOwn(node.#spec.children, leafKey) ? node.#spec.children[leafKey] : undefined;
    if (spec === undefined) throw new AhsError('AHS_ERR_CONFIG_KEY', this.#unknownKey(join(this.#path, key), source));
    const full = join(node.#path, leafKey);
    check(
      spec.kind === 'leaf',
      'AHS_ERR_CONFIG_TYPE',
      () => `Config key '${full}'${where(source)} is a section; set its keys one by one, got ${show(raw)}`,
    );
    node.#setLeaf(leafKey, spec, raw, full, source, decode);
  }

  #mergeObject(obj: Readonly<Record<string, unknown>>, source: string | undefined, root: CfgNode): void {
    for (const [key, raw] of Object.entries(obj)) {
      const full = join(this.#path, key);
      const spec = Object.hasOwn(this.#spec.children, key) ? this.#spec.children[key] : undefined;
      // Suggestions come from every key under the node merge() was called on, not just this section.
      if (spec === undefined) throw new AhsError('AHS_ERR_CONFIG_KEY', root.#unknownKey(full, source));
      if (spec.kind === 'node') {
        check(
          isPlainObject(raw),
          'AHS_ERR_CONFIG_TYPE',
          () => `Config key '${full}'${where(source)} is a section and expects a mapping, got ${show(raw)}`,
        );
        (this.#values.get(key) as CfgNode).#mergeObject(raw, source, root);
      } else {
        this.#setLeaf(key, spec, raw, full, source, true);
      }
    }
  }

  #setLeaf(key: string, spec: LeafSpec, raw: unknown, full: string, source: string | undefined, decode: boolean): void {
    check(!this.#frozen, 'AHS_ERR_CONFIG_VALUE', () => `Cannot set '${full}': the config is frozen (clone() it to change a copy)`);
    this.#values.set(key, coerce(spec, decode ? decodeValue(spec, raw) : raw, full, source));
  }
}

/** yacs `_decode_cfg_value`, schema-aware: a string key keeps its text unless it is a quoted literal. */
function decodeValue(spec: LeafSpec, raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  const lit = parseLiteral(raw);
  if (spec.type === 'str') return typeof lit === 'string' ? lit : raw;
  return lit === undefined ? raw : lit;
}

function scalarMatches(type: 'bool' | 'int' | 'float' | 'str', v: unknown): boolean {
  switch (type) {
    case 'bool':
      return typeof v === 'boolean';
    case 'int':
      return Number.isInteger(v);
    case 'float': // an int is a valid float (detectron2 allows int -> float)
      return typeof v === 'number';
    case 'str':
      return typeof v === 'string';
  }
}

function typeMatches(spec: LeafSpec, v: unknown): boolean {
  switch (spec.type) {
    case 'int[]':
    case 'float[]':
    case 'str[]': {
      const item = spec.type.slice(0, -2) as 'int' | 'float' | 'str';
      return Array.isArray(v) && v.every((x) => scalarMatches(item, x)); // tuple or list alike
    }
    default:
      return scalarMatches(spec.type, v);
  }
}

/** Checks a decoded value against its leaf spec; returns it with lists frozen. */
function coerce(spec: LeafSpec, v: unknown, full: string, source: string | undefined): unknown {
  check(typeMatches(spec, v), 'AHS_ERR_CONFIG_TYPE', () => `Config key '${full}'${where(source)} expects ${typeName(spec.type)}, got ${show(v)}`);
  if (Array.isArray(v)) {
    check(
      spec.length === undefined || v.length === spec.length,
      'AHS_ERR_CONFIG_VALUE',
      () => `Config key '${full}'${where(source)} expects ${spec.length} items, got ${v.length}: ${show(v)}`,
    );
    const i = v.findIndex((x) => !inRange(spec, x));
    check(i < 0, 'AHS_ERR_CONFIG_VALUE', () => `Config key '${full}'${where(source)} takes items ${rangeText(spec)}; item ${i} is ${show(v[i])}`);
    return Object.freeze([...v]);
  }
  check(inRange(spec, v), 'AHS_ERR_CONFIG_VALUE', () => `Config key '${full}'${where(source)} must be ${rangeText(spec)}, got ${show(v)}`);
  check(
    spec.choices === undefined || spec.choices.includes(v as string),
    'AHS_ERR_CONFIG_VALUE',
    () => `Config key '${full}'${where(source)} must be one of ${spec.choices!.map((c) => `"${c}"`).join(', ')}; got ${show(v)}`,
  );
  return v;
}

/** A number inside the leaf's range (NaN and infinities never are, when a range is set). */
function inRange(spec: LeafSpec, v: unknown): boolean {
  if (typeof v !== 'number' || (spec.min === undefined && spec.max === undefined)) return true;
  return Number.isFinite(v) && (spec.min === undefined || v >= spec.min) && (spec.max === undefined || v <= spec.max);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** A value as shown in error messages: JSON plus its kind, shortened. */
function show(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  const kind = Array.isArray(v) ? 'list' : v instanceof Date ? 'date' : typeof v;
  let text = typeof v === 'number' && !Number.isFinite(v) ? String(v) : (JSON.stringify(v) ?? String(v)); // JSON has no Infinity
  if (text.length > 80) text = `${text.slice(0, 77)}...`;
  return `${text} (${kind})`;
}
