// A user's class list is checked where it comes in: strings, none blank, none twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkClassNames } from '../../../src/data/class_names.js';
import { checkPromptLengths } from '../../../src/models/clip/prompt_length.js';
import { isAhsError } from '../../helpers/ahs_error.js';

// Wrong here: a blank or non-string entry becomes a class ('' or 'null' in every prompt).
test('blank and non-string entries are refused, naming the 1-based entry', () => {
  assert.deepEqual(checkClassNames([' sky ', 'espresso cup'], '--labels'), ['sky', 'espresso cup']);
  assert.throws(() => checkClassNames(['sky', ' \t'], '--classes c.json'), isAhsError('AHS_ERR_INVALID_ARGUMENT', '--classes c.json: entry 2 is blank; every class needs a name'));
  assert.throws(() => checkClassNames(['sky', 3], '--classes c.json'), isAhsError('AHS_ERR_INVALID_ARGUMENT', '--classes c.json: entry 2 is number, not a class-name string'));
  assert.throws(() => checkClassNames([], '--labels'), isAhsError('AHS_ERR_INVALID_ARGUMENT', '--labels names no class'));
});

// Wrong here: a repeat is accepted; it gets the same scores as the first and never wins a pixel.
test('a name given twice is an error, compared as CLIP compares (case, spaces)', () => {
  assert.throws(() => checkClassNames(['Sky', 'cup', 'sky '], '--labels'), isAhsError('AHS_ERR_INVALID_ARGUMENT', /^--labels: 'sky' \(entry 3\) repeats 'Sky' \(entry 1\); give each class once/));
  assert.throws(() => checkClassNames(['coffee  cup', 'Coffee cup'], '--labels'), isAhsError('AHS_ERR_INVALID_ARGUMENT', /entry 2\) repeats 'coffee  cup' \(entry 1\)/));
  assert.deepEqual(checkClassNames(['cup', 'cups'], '--labels'), ['cup', 'cups']);
});

// Wrong here: a too-long name fails mid-encoding with advice (truncate: true) the CLI lacks.
test('checkPromptLengths names the class and the tokens it needs in the longest template', () => {
  const templates = ['a photo of a {}.', 'a bad photo of the {} in a large and crowded scene.'];
  checkPromptLengths(['cat', 'tabby cat, kitty'], templates, '--labels');
  const long = Array.from({ length: 70 }, (_, i) => `w${i}`).join(' ');
  assert.throws(() => checkPromptLengths(['cat', long], templates, '--labels'),
    isAhsError('AHS_ERR_TEXT_TOO_LONG', /^--labels: class 2 'w0 w1 .*' needs \d+ tokens in the prompt 'a bad photo of the w0 .*', but CLIP reads at most 77 \(start and end tokens included\); shorten the class name$/));
  // Each synonym is its own prompt: a long list of short synonyms fits.
  checkPromptLengths([Array.from({ length: 40 }, (_, i) => `name${i}`).join(', ')], templates, '--labels');
});
