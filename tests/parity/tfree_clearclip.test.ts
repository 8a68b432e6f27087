// ClearCLIP parity with mc-lan/ClearCLIP (golden tfree_clearclip.io.safetensors): the last block
// reduced to out_proj(softmax(q q^T) v), 448 crops with the interpolated positional embedding.
import { clearclip, clearclipDefaults } from '../../src/models/tfree/clearclip.js';
import { describeTrainingFreeParity } from '../helpers/tfree_parity.js';

describeTrainingFreeParity('tfree_clearclip.io.safetensors', (clip, text, settings) => clearclip(clip, text, settings), clearclipDefaults);
