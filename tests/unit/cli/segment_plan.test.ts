// What `ahs-seg segment` states before long text encoding, and the checks it runs first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkModeOptions, checkResizedSize, promptTexts, textWorkNotice } from '../../../src/cli/segment_plan.js';
import { isAhsError } from '../../helpers/ahs_error.js';

// Wrong here: 400,000 prompts run for 15 minutes without a word, or short jobs get chatty.
test('the text-work notice: silent when short, stated with the count, --prompts single for huge vocabularies', () => {
  assert.equal(textWorkNotice(20, 80, 1600, true), null);
  assert.equal(textWorkNotice(5000, 80, 0, true), null, 'everything cached: nothing to announce');
  const huge = textWorkNotice(5000, 80, 400_000, true)!;
  assert.match(huge, /^text: 5,000 classes x 80 templates = 400,000 prompts; 400,000 not in the text cache go through CLIP's text tower first/);
  assert.match(huge, /--prompts single would encode 5,000/);
  assert.doesNotMatch(textWorkNotice(5000, 80, 400_000, false)!, /--prompts/, 'a checkpoint has no --prompts to choose');
  assert.doesNotMatch(textWorkNotice(30, 80, 2400, true)!, /--prompts/);
  assert.deepEqual(promptTexts(['cat, kitty', 'sofa'], ['a {}.', 'the {}']), ['a cat.', 'the cat', 'a sofa.', 'the sofa']);
});

// Wrong here: an option of the other mode is silently ignored.
test('options of the other mode are refused', () => {
  checkModeOptions({ weights: 'w.pth', protocol: 'whole', configFile: 'c.yaml' });
  checkModeOptions({ prompts: 'single', shortSide: 336 });
  assert.throws(() => checkModeOptions({ protocol: 'whole' }), isAhsError('AHS_ERR_INVALID_ARGUMENT', /^--protocol applies to a --weights checkpoint/));
  assert.throws(() => checkModeOptions({ weights: 'w.pth', prompts: 'single', shortSide: 300 }), isAhsError('AHS_ERR_INVALID_ARGUMENT', /^--prompts and --short-side apply without --weights/));
});

// Wrong here: a strip image fails inside the model with a crop shape instead of its name.
test('an image the keep-ratio resize would shrink under one patch is named', () => {
  const strip = { path: 'strip.png', stem: 'strip', width: 1000, height: 1 };
  assert.throws(() => checkResizedSize(strip, 'naclip', [2048, 336]), isAhsError('AHS_ERR_SHAPE', /^image 'strip\.png' is 1000x1; naclip resizes it to 2048x2/));
  checkResizedSize({ path: 'p.jpg', stem: 'p', width: 4000, height: 100 }, 'naclip', [2048, 336]); // 2048 x 51: fine
});
