// Class names checked against CLIP's 77-token context before any text is encoded: each name (and
// each of its comma-separated synonyms) filled into the longest template must fit, else the error
// names the class and says how many tokens it needs, instead of failing mid-encoding.
import { AhsError } from '../../errors.js';
import { showName } from '../../data/class_names.js';
import { fillTemplate } from './prompts.js';
import { ClipTokenizer } from './tokenizer.js';

export function checkPromptLengths(classNames: readonly string[], templates: readonly string[], source: string,
  opts: { tokenizer?: ClipTokenizer; contextLength?: number } = {}): void {
  if (templates.length === 0) return;
  const tok = opts.tokenizer ?? ClipTokenizer.default();
  const ctx = opts.contextLength ?? 77;
  // The template with the most tokens around its `{}` bounds every other one.
  let longest = templates[0]!;
  let around = -1;
  for (const t of templates) {
    const n = tok.encode(fillTemplate(t, '')).length;
    if (n > around) [longest, around] = [t, n];
  }
  classNames.forEach((name, i) => {
    for (const piece of name.split(',').map((s) => s.trim()).filter(Boolean)) {
      const text = fillTemplate(longest, piece);
      const n = tok.encode(text).length + 2; // <|startoftext|> and <|endoftext|>
      if (n > ctx) {
        throw new AhsError('AHS_ERR_TEXT_TOO_LONG',
          `${source}: class ${i + 1} ${showName(piece)} needs ${n} tokens in the prompt ${showName(text)}, ` +
          `but CLIP reads at most ${ctx} (start and end tokens included); shorten the class name`);
      }
    }
  });
}
