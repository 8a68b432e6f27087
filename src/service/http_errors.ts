// Every error the service answers with, as `{statusCode, code, error, message}` from the one
// error catalog (src/errors.ts): user mistakes are 4xx, a busy or loading server 503 with
// Retry-After, and only real internal failures 500. fastify's own errors (body too large, bad
// JSON, wrong content type, multipart limits) are mapped onto the same codes.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AhsError, ERROR_CODES } from '../errors.js';
import { toAhsError } from '../cli/error_report.js';

export interface HttpErrorBody { statusCode: number; code: string; error: string; message: string }

/** fastify / plugin error codes -> the catalog's. */
const FASTIFY_CODES: Record<string, AhsError['code']> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'AHS_ERR_TOO_LARGE',
  FST_REQ_FILE_TOO_LARGE: 'AHS_ERR_TOO_LARGE',
  FST_FILES_LIMIT: 'AHS_ERR_INVALID_ARGUMENT',
  FST_FIELDS_LIMIT: 'AHS_ERR_INVALID_ARGUMENT',
  FST_PARTS_LIMIT: 'AHS_ERR_INVALID_ARGUMENT',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'AHS_ERR_UNSUPPORTED_MEDIA',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'AHS_ERR_UNSUPPORTED_MEDIA',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'AHS_ERR_INVALID_ARGUMENT',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'AHS_ERR_INVALID_ARGUMENT',
  FST_ERR_VALIDATION: 'AHS_ERR_INVALID_ARGUMENT',
};

export function toServiceError(e: unknown): AhsError {
  if (e instanceof AhsError) return e;
  const f = e as Partial<FastifyError>;
  const mapped = f.code ? FASTIFY_CODES[f.code] : undefined;
  if (mapped === 'AHS_ERR_UNSUPPORTED_MEDIA') {
    return new AhsError(mapped, `${f.message ?? 'unsupported media type'}; POST /v1/segment takes multipart/form-data (fields image, labels) or application/json ({"image": base64, "labels": [...]})`, { cause: e });
  }
  if (mapped) return new AhsError(mapped, f.message ?? String(e), { cause: e });
  // A JSON body that does not parse (fastify answers 400 with a SyntaxError).
  if (e instanceof SyntaxError && f.statusCode === 400) return new AhsError('AHS_ERR_INVALID_ARGUMENT', `the JSON body does not parse: ${e.message}`, { cause: e });
  if (typeof f.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) {
    return new AhsError('AHS_ERR_INVALID_ARGUMENT', f.message ?? String(e), { cause: e });
  }
  return toAhsError(e);
}

export function errorBody(err: AhsError): HttpErrorBody {
  return { statusCode: err.statusCode, code: err.code, error: ERROR_CODES[err.code].title, message: err.message };
}

/** fastify's error handler: the body above, Retry-After on 503s, internal errors logged. */
export function handleError(e: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const err = toServiceError(e);
  if (err.statusCode === 503) reply.header('Retry-After', String((err as AhsError & { retryAfter?: number }).retryAfter ?? 5));
  if (err.fault === 'internal') req.log.error({ err: e }, 'internal error');
  return reply.code(err.statusCode).type('application/json').send(errorBody(err));
}
