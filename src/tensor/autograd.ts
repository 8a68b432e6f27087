// Grad-mode scopes. libtorch's grad mode is thread-local and the engine runs ops on the JS thread.
import { native } from './native.js';

function withGradMode<T>(on: boolean, fn: () => T): T {
  const prev = native().setGradEnabled(on);
  try {
    return fn();
  } finally {
    native().setGradEnabled(prev);
  }
}

/** Runs `fn` with autograd recording off (inference, optimizer steps, initialisation). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs `fn` with autograd recording on, even inside noGrad. */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

export function isGradEnabled(): boolean {
  return native().isGradEnabled();
}
