// One error catalog for the whole project: every error a user can see has a stable code, a
// message that names the file, key, shape or value at fault, and (for the HTTP service) a status.
// docs/errors.md documents each code; tests/unit/errors.test.ts keeps the two in sync.

export const ERROR_CODES = {
  AHS_ERR_INVALID_ARGUMENT: { status: 400, title: 'Invalid argument' },
  AHS_ERR_SHAPE: { status: 400, title: 'Shape mismatch' },
  AHS_ERR_DTYPE: { status: 400, title: 'Unsupported or mismatched dtype' },
  AHS_ERR_DEVICE: { status: 400, title: 'Device unavailable' },
  AHS_ERR_FILE_NOT_FOUND: { status: 404, title: 'File not found' },
  AHS_ERR_FILE_FORMAT: { status: 400, title: 'Corrupt or unsupported file' },
  AHS_ERR_STATE_DICT: { status: 400, title: 'Weights do not match the model' },
  AHS_ERR_CONFIG_KEY: { status: 400, title: 'Unknown config key' },
  AHS_ERR_CONFIG_TYPE: { status: 400, title: 'Wrong config value type' },
  AHS_ERR_CONFIG_VALUE: { status: 400, title: 'Invalid config value' },
  AHS_ERR_TEXT_TOO_LONG: { status: 400, title: 'Text longer than the context' },
  AHS_ERR_DATASET: { status: 400, title: 'Dataset layout or label error' },
  AHS_ERR_DOWNLOAD: { status: 502, title: 'Download failed' },
  AHS_ERR_OFFLINE: { status: 503, title: 'Weights not available offline' },
  AHS_ERR_TRAINING: { status: 500, title: 'Training stopped' },
  AHS_ERR_WRITE: { status: 507, title: 'Output could not be written' },
  AHS_ERR_NATIVE: { status: 500, title: 'Native engine error' },
  AHS_ERR_DISPOSED: { status: 500, title: 'Tensor used after dispose' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AhsError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AhsError';
    this.code = code;
    this.statusCode = ERROR_CODES[code].status;
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
