// Deterministic memory: Node's GC does not see native tensor memory, so every Tensor made inside
// a scope is disposed when the scope ends unless it is returned (or kept). The External's
// finalizer in the addon frees forgotten tensors eventually, as a safety net only.
//
// Each async context has its own scope stack (AsyncLocalStorage): tidyAsync runs its function in a
// context whose stack is the caller's plus its own scope, so two requests awaiting at the same time
// never capture, or dispose, each other's tensors. Synchronous tidy pushes and pops on the stack of
// the context it runs in.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Tensor } from './tensor.js';

const rootStack: Set<Tensor>[] = [];
const contexts = new AsyncLocalStorage<Set<Tensor>[]>();
const kept = new WeakSet<Tensor>();
/** Scopes not closed yet (an async continuation may outlive the tidyAsync that started it). */
const open = new WeakSet<Set<Tensor>>();

const currentStack = (): Set<Tensor>[] => contexts.getStore() ?? rootStack;

/** Called by the Tensor constructor: the innermost open scope of this async context owns t. */
export function track(t: Tensor): void {
  const stack = currentStack();
  for (let i = stack.length - 1; i >= 0; i--) {
    const s = stack[i]!;
    if (open.has(s)) { s.add(t); return; }
  }
}

/** Marks a tensor to survive the scopes it was made in (parameters, caches). */
export function keep<T extends Tensor>(t: T): T {
  kept.add(t);
  for (const s of currentStack()) s.delete(t);
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

function close(stack: Set<Tensor>[], scope: Set<Tensor>, result: unknown): void {
  const i = stack.lastIndexOf(scope);
  if (i >= 0) stack.splice(i, 1);
  open.delete(scope);
  const returned = new Set<Tensor>();
  collect(result, returned);
  let parent: Set<Tensor> | undefined;
  for (let j = stack.length - 1; j >= 0 && !parent; j--) if (open.has(stack[j]!)) parent = stack[j];
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
  const stack = currentStack();
  const scope = new Set<Tensor>();
  stack.push(scope);
  open.add(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    close(stack, scope, undefined);
    throw e;
  }
  if (result instanceof Promise) {
    // Take the scope off the stack (its tensors may still be in use by the pending promise, so
    // they are not disposed); left there, it would capture every later unscoped tensor forever.
    stack.splice(stack.lastIndexOf(scope), 1);
    open.delete(scope);
    throw new TypeError('tidy: the function must be synchronous; use tidyAsync for async work');
  }
  close(stack, scope, result);
  return result;
}

/**
 * The async form of tidy. `fn` runs in its own async context: tensors made by concurrent code
 * while it awaits belong to that code's scopes, not to this one. Returned tensors move to the
 * caller's innermost open scope.
 */
export async function tidyAsync<T>(fn: () => Promise<T>): Promise<T> {
  const outer = currentStack();
  const scope = new Set<Tensor>();
  open.add(scope);
  const stack = [...outer, scope];
  let result: T;
  try {
    result = await contexts.run(stack, fn);
  } catch (e) {
    close(stack, scope, undefined);
    throw e;
  }
  close(stack, scope, result);
  return result;
}

/** Disposes every tensor found in a value (tensor, array, object, Map). */
export function dispose(value: unknown): void {
  const found = new Set<Tensor>();
  collect(value, found);
  for (const t of found) t.dispose();
}
