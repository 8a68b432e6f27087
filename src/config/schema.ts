// Building blocks for the config schema (detectron2 `defaults.py` / yacs `CN()`), plus the
// type-level mapping that turns the schema literal into a typed config object. A key is declared
// once, with its type, default and a one-line doc; everything else (checks, docs, dumps) reads it.

/** Value types a config leaf can hold. yacs tuples and lists are both `…[]` here. */
export type LeafType = 'bool' | 'int' | 'float' | 'str' | 'int[]' | 'float[]' | 'str[]';

export interface LeafSpec<V = unknown> {
  readonly kind: 'leaf';
  readonly type: LeafType;
  readonly default: V;
  /** One line: what the key does and, for ported keys, where the value comes from. */
  readonly doc: string;
  /** Allowed values of a string key (checked on every merge and set). */
  readonly choices?: readonly string[];
  /** Exact item count of a list key (e.g. 2 for [H, W]). */
  readonly length?: number;
  /** Smallest and largest accepted value of a number key (of every item of a number list). */
  readonly min?: number;
  readonly max?: number;
}

/** Accepted range of a number key: a size, count or weight outside it is refused on merge, with
 * the key and the file named, before it reaches a module or libtorch. */
export interface Range {
  readonly min?: number;
  readonly max?: number;
}

export interface NodeSpec<C extends Record<string, Spec> = Record<string, Spec>> {
  readonly kind: 'node';
  readonly doc: string;
  readonly children: C;
}

export type Spec = LeafSpec | NodeSpec;

const leaf = <V>(type: LeafType, def: V, doc: string, extra: Partial<LeafSpec<V>> = {}): LeafSpec<V> => ({
  kind: 'leaf',
  type,
  default: def,
  doc,
  ...extra,
});

export const bool = (def: boolean, doc: string): LeafSpec<boolean> => leaf('bool', def, doc);
export const int = (def: number, doc: string, range: Range = {}): LeafSpec<number> => leaf('int', def, doc, range);
export const float = (def: number, doc: string, range: Range = {}): LeafSpec<number> => leaf('float', def, doc, range);
export const str = (def: string, doc: string): LeafSpec<string> => leaf('str', def, doc);

/** A string key restricted to `choices`; its TS type is the union of the choices. */
export function oneOf<const C extends readonly string[]>(choices: C, def: C[number], doc: string): LeafSpec<C[number]> {
  return leaf('str', def, doc, { choices });
}

export const ints = (def: readonly number[], doc: string, length?: number, range: Range = {}): LeafSpec<readonly number[]> =>
  leaf('int[]', Object.freeze([...def]), doc, length === undefined ? { ...range } : { length, ...range });
export const floats = (def: readonly number[], doc: string, length?: number, range: Range = {}): LeafSpec<readonly number[]> =>
  leaf('float[]', Object.freeze([...def]), doc, length === undefined ? { ...range } : { length, ...range });
export const strs = (def: readonly string[], doc: string, length?: number): LeafSpec<readonly string[]> =>
  leaf('str[]', Object.freeze([...def]), doc, length === undefined ? {} : { length });

export function section<const C extends Record<string, Spec>>(doc: string, children: C): NodeSpec<C> {
  return { kind: 'node', doc, children };
}

/** Plain nested values of a schema node (what `CfgNode.toObject()` returns). */
export type CfgValues<N extends NodeSpec> = {
  [K in keyof N['children']]: N['children'][K] extends NodeSpec
    ? CfgValues<N['children'][K]>
    : N['children'][K] extends LeafSpec<infer V>
      ? V
      : never;
};

/** The range of a leaf as text ("from 1 to 4096", ">= 0"), or '' when it has none. */
export function rangeText(spec: Pick<LeafSpec, 'min' | 'max'>): string {
  if (spec.min !== undefined && spec.max !== undefined) return `from ${spec.min} to ${spec.max}`;
  if (spec.min !== undefined) return `>= ${spec.min}`;
  if (spec.max !== undefined) return `<= ${spec.max}`;
  return '';
}

/** Human name of a leaf type, as used in error messages and docs. */
export function typeName(type: LeafType): string {
  switch (type) {
    case 'bool':
      return 'bool';
    case 'int':
      return 'int';
    case 'float':
      return 'float';
    case 'str':
      return 'string';
    case 'int[]':
      return 'list of int';
    case 'float[]':
      return 'list of float';
    case 'str[]':
      return 'list of string';
  }
}
