// Deterministic memory: Node's GC does not see native tensor memory, so every Tensor made inside
// a scope is disposed when the scope ends unless it is returned (or kept). The External's
// finalizer in the addon frees forgotten tensors eventually, as a safety net only.
import type { Tensor } from './tensor.js';

const stack: Set<Tensor>[] = [];
const kept = new WeakSet<Tensor>();

/** Called by the Tensor constructor. */
export function track(t: Tensor): void {
  const top = stack[stack.length - 1];
  if (top) top.add(t);
}

/** Marks a tensor to survive the scopes it was made in (parameters, caches). */
export function keep<T extends Tensor>(t: T): T {
  kept.add(t);
  for (const s of stack) s.delete(t);
  return t;
}

function collect(value: unknown, out: Set<Tensor>, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if ((value as { __isTensor?: boolean }).__isTensor) { out.add(value as Tensor); return; }
  if (Array.isArray(value)) for (const v of value) collect(v, out, seen);
  else if (value instanceof Map) for (const v of value.values()) collect(v, out, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, out, seen);
}

function close(scope: Set<Tensor>, result: unknown): void {
  stack.pop();
  const returned = new Set<Tensor>();
  collect(result, returned);
  const parent = stack[stack.length - 1];
  for (const t of scope) {
    if (returned.has(t)) { if (parent) parent.add(t); }
    else if (!kept.has(t)) t.dispose();
  }
}

/**
 * Runs `fn` and disposes every tensor it created except those in its result (a tensor, or
 * arrays / plain objects / Maps holding tensors), which move to the enclosing scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  stack.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    close(scope, undefined);
    throw e;
  }
  if (result instanceof Promise) {
    // Take the scope off the stack (its tensors may still be in use by the pending promise, so
    // they are not disposed); left there, it would capture every later unscoped tensor forever.
    removeScope(scope);
    throw new TypeError('tidy: the function must be synchronous; use tidyAsync for async work');
  }
  close(scope, result);
  return result;
}

/** The async form of tidy. Tensors made by concurrent code while it awaits land in it too. */
export async function tidyAsync<T>(fn: () => Promise<T>): Promise<T> {
  const scope = new Set<Tensor>();
  const parent = stack[stack.length - 1];
  stack.push(scope);
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    removeScope(scope);
    for (const t of scope) if (!kept.has(t)) t.dispose();
    throw e;
  }
  removeScope(scope);
  const returned = new Set<Tensor>();
  collect(result, returned);
  // As in tidy: returned tensors move to the enclosing scope (if it is still open), so that a
  // nested tidyAsync does not hand its result out of every scope.
  const parentOpen = parent !== undefined && stack.includes(parent);
  for (const t of scope) {
    if (returned.has(t)) { if (parentOpen) parent.add(t); }
    else if (!kept.has(t)) t.dispose();
  }
  return result;
}

function removeScope(scope: Set<Tensor>): void {
  const i = stack.lastIndexOf(scope);
  if (i >= 0) stack.splice(i, 1);
}

/** Disposes every tensor found in a value (tensor, array, object, Map). */
export function dispose(value: unknown): void {
  const found = new Set<Tensor>();
  collect(value, found);
  for (const t of found) t.dispose();
}
