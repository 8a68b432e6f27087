// Prompt templates (shipped from CAT-Seg's imagenet_templates.py) and class-name handling.
import { readFileSync } from 'node:fs';
import { AhsError } from '../../errors.js';

/** CAT-Seg's single template (PROMPT_ENSEMBLE_TYPE 'single'). */
export const CATSEG_TEMPLATE = 'A photo of a {} in the scene';

export type PromptEnsemble = 'single' | 'imagenet' | 'imagenet_select' | 'imagenet_select_clip';

let templates: Record<string, string[]> | undefined;

/** The templates of an ensemble; `{}` stands for the class name. */
export function promptTemplates(kind: PromptEnsemble): string[] {
  if (kind === 'single') return [CATSEG_TEMPLATE];
  templates ??= JSON.parse(readFileSync(new URL('../../../assets/clip/prompt_templates.json', import.meta.url), 'utf8')) as Record<string, string[]>;
  const key = { imagenet: 'IMAGENET_TEMPLATES', imagenet_select: 'IMAGENET_TEMPLATES_SELECT', imagenet_select_clip: 'IMAGENET_TEMPLATES_SELECT_CLIP' }[kind];
  const t = key ? templates[key] : undefined;
  if (!t) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `unknown prompt ensemble '${kind}' (single, imagenet, imagenet_select, imagenet_select_clip)`);
  return t;
}

/** CAT-Seg's get_text_embeds uses only the first synonym of "a, b, c" class names. */
export function firstSynonym(className: string): string {
  return className.split(', ')[0]!;
}

export function fillTemplate(template: string, className: string): string {
  return template.replace('{}', className);
}
