// The module-resolution hook behind resolve_ahs_seg.mjs: the package name -> src/index.ts, handed
// on to the next resolver (tsx's, which marks it as TypeScript for its loader).
const SOURCE = new URL('../../src/index.ts', import.meta.url).href;

export async function resolve(specifier, context, next) {
  return next(specifier === 'ahs-seg' ? SOURCE : specifier, context);
}
