// assert.rejects / assert.throws validator: an AhsError with this code and this exact message (a
// string) or a message matching it (a RegExp). Tests pin messages, since users read them.
import assert from 'node:assert/strict';
import { AhsError } from '../../src/errors.js';

export function isAhsError(code: string, message: string | RegExp): (e: unknown) => true {
  return (e: unknown) => {
    assert.ok(e instanceof AhsError, `expected an AhsError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  };
}
