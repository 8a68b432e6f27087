// One error catalog for the whole project: every error a user can see has a stable code, a
// message that names the file, key, shape or value at fault, and (for the HTTP service) a status.
// `fault` says who can fix it: 'user' (the input is wrong: 4xx), 'environment' (network, disk,
// memory of this machine: 5xx other than 500) or 'internal' (a bug or a libtorch failure: 500).
// docs/errors.md documents each code; tests/unit/errors/catalog.test.ts keeps the two in sync.

export type ErrorFault = 'user' | 'environment' | 'internal';

export const ERROR_CODES = {
  AHS_ERR_INVALID_ARGUMENT: { status: 400, fault: 'user', title: 'Invalid argument' },
  AHS_ERR_SHAPE: { status: 400, fault: 'user', title: 'Shape mismatch' },
  AHS_ERR_DTYPE: { status: 400, fault: 'user', title: 'Unsupported or mismatched dtype' },
  AHS_ERR_DEVICE: { status: 400, fault: 'user', title: 'Device unavailable' },
  AHS_ERR_FILE_NOT_FOUND: { status: 404, fault: 'user', title: 'File not found' },
  AHS_ERR_FILE_FORMAT: { status: 400, fault: 'user', title: 'Corrupt or unsupported file' },
  AHS_ERR_PATH: { status: 400, fault: 'user', title: 'Path cannot be used' },
  AHS_ERR_STATE_DICT: { status: 400, fault: 'user', title: 'Weights do not match the model' },
  AHS_ERR_CONFIG_KEY: { status: 400, fault: 'user', title: 'Unknown config key' },
  AHS_ERR_CONFIG_TYPE: { status: 400, fault: 'user', title: 'Wrong config value type' },
  AHS_ERR_CONFIG_VALUE: { status: 400, fault: 'user', title: 'Invalid config value' },
  AHS_ERR_TEXT_TOO_LONG: { status: 400, fault: 'user', title: 'Text longer than the context' },
  AHS_ERR_DATASET: { status: 400, fault: 'user', title: 'Dataset layout or label error' },
  AHS_ERR_TOO_LARGE: { status: 413, fault: 'user', title: 'Work too large for this machine' },
  AHS_ERR_NOT_FOUND: { status: 404, fault: 'user', title: 'No such resource' },
  AHS_ERR_UNSUPPORTED_MEDIA: { status: 415, fault: 'user', title: 'Unsupported content type' },
  AHS_ERR_DOWNLOAD: { status: 502, fault: 'environment', title: 'Download failed' },
  AHS_ERR_OFFLINE: { status: 503, fault: 'environment', title: 'Weights not available offline' },
  AHS_ERR_BUSY: { status: 503, fault: 'environment', title: 'Server busy' },
  AHS_ERR_NOT_READY: { status: 503, fault: 'environment', title: 'Model not loaded yet' },
  AHS_ERR_TIMEOUT: { status: 503, fault: 'environment', title: 'Request took too long' },
  AHS_ERR_WRITE: { status: 507, fault: 'environment', title: 'Output could not be written' },
  AHS_ERR_OUT_OF_MEMORY: { status: 507, fault: 'environment', title: 'Out of memory' },
  AHS_ERR_DIST: { status: 503, fault: 'environment', title: 'Process group failed' },
  AHS_ERR_TRAINING: { status: 500, fault: 'internal', title: 'Training stopped' },
  AHS_ERR_NATIVE: { status: 500, fault: 'internal', title: 'Native engine error' },
  AHS_ERR_DISPOSED: { status: 500, fault: 'internal', title: 'Tensor used after dispose' },
  AHS_ERR_INTERNAL: { status: 500, fault: 'internal', title: 'Unexpected internal error' },
} as const satisfies Record<string, { status: number; fault: ErrorFault; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AhsError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  /** Who can fix it: the user (bad input), the environment (network, disk, memory) or us. */
  readonly fault: ErrorFault;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AhsError';
    this.code = code;
    this.statusCode = ERROR_CODES[code].status;
    this.fault = ERROR_CODES[code].fault;
  }
}

/** Throws an AhsError when `cond` is false; the message is built lazily. */
export function check(cond: unknown, code: ErrorCode, message: () => string): asserts cond {
  if (!cond) throw new AhsError(code, message());
}

/** Formats a shape as `[2,3,4]` for error messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** A user-given string made safe to echo on a terminal: control characters (ESC, CR, BEL, ...)
 * are written as escapes, so a label or path cannot move the cursor or recolour the screen. */
export function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    return named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}
