// `node --import tsx --import ./tests/helpers/resolve_ahs_seg.mjs program.mjs`: in the program,
// `import ... from 'ahs-seg'` resolves to this checkout's TypeScript sources (compiled by tsx), so
// that a test runs a README example exactly as written, without a build of dist/.
import { register } from 'node:module';

register(new URL('./resolve_ahs_seg_hooks.mjs', import.meta.url));
