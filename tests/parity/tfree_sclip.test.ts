// SCLIP parity with wangf3014/SCLIP (golden tfree_sclip.io.safetensors): correlative
// self-attention in the last block (residual and MLP kept), sliding window, softmax.
import { sclip, sclipDefaults } from '../../src/models/tfree/sclip.js';
import { describeTrainingFreeParity } from '../helpers/tfree_parity.js';

describeTrainingFreeParity('tfree_sclip.io.safetensors', (clip, text, settings) => sclip(clip, text, settings), sclipDefaults);
