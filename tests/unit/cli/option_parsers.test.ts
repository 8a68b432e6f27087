// Option values are parsed strictly, with the option and the accepted range in the error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choiceArg, intArg, OPTION_RANGES } from '../../../src/cli/option_parsers.js';
import { isAhsError } from '../../helpers/ahs_error.js';

// Wrong here: Number('') = 0, Number('1e3') = 1000 and Number(' 7 ') = 7 would slip through the
// way `(v) => Number(v)` let NaN and -5 through before.
test('intArg takes plain decimal integers in range only', () => {
  const p = intArg('--limit', { min: 1, max: 10 });
  assert.equal(p('3'), 3);
  assert.equal(p(' 7 '), 7);
  assert.equal(p('+10'), 10);
  for (const bad of ['', 'abc', '1.5', '1e1', '0x5', 'Infinity', 'NaN', '0', '11', '-1']) {
    assert.throws(() => p(bad), isAhsError('AHS_ERR_INVALID_ARGUMENT', `--limit must be an integer from 1 to 10, got '${bad}'`), bad);
  }
  assert.throws(() => intArg('--limit', OPTION_RANGES.limit)('0'), isAhsError('AHS_ERR_INVALID_ARGUMENT', "--limit must be an integer >= 1 (images per benchmark), got '0'"));
});

// Wrong here: an unknown protocol reaches the predictor and fails in libtorch's select().
test('choiceArg lists the choices', () => {
  const p = choiceArg('--protocol', ['sliding', 'whole']);
  assert.equal(p('whole'), 'whole');
  assert.throws(() => p('foo'), isAhsError('AHS_ERR_INVALID_ARGUMENT', "--protocol must be one of sliding, whole, got 'foo'"));
  assert.throws(() => p('\x1b[31m'), isAhsError('AHS_ERR_INVALID_ARGUMENT', "--protocol must be one of sliding, whole, got '\\x1b[31m'"));
});
