// State dicts from TorchScript archives (torch.jit.save), the format of OpenAI's CLIP `.pt`
// files. data.pkl holds the module tree as `__torch__.<Class>` objects whose BUILD state is a
// dict of attributes: parameters, buffers, submodules, `training` and other plain attributes.
// Walking it with '.'-joined attribute names gives the names `module.state_dict()` would
// (`visual.conv1.weight`, `visual.transformer.resblocks.0.attn.in_proj_weight`, `logit_scale`).
//
// The archive's code/ folder declares each class's `__parameters__` and `__buffers__`; when it
// does, only those tensors are state (a scripted module's plain tensor attributes, such as a
// cached attention mask, are not). Without code/, every tensor attribute counts.

import { check } from '../errors.js';
import { OpaqueObject } from './pickle.js';
import { StateDict } from './raw_tensor.js';
import { openTorchArchive, unpickleArchiveMember, type TorchArchive } from './torch_checkpoint.js';
import { TorchTensorRef, checkSupported } from './torch_tensor.js';

interface ClassMembers {
  params: string[];
  buffers: string[];
}

/** Reads `__parameters__` / `__buffers__` of `__torch__.a.b.Name` from `code/__torch__/a/b.py`. */
function classMembersReader(archive: TorchArchive): (className: string) => ClassMembers | undefined {
  const files = new Map<string, string | undefined>();
  const cache = new Map<string, ClassMembers | undefined>();
  return (className) => {
    if (cache.has(className)) return cache.get(className);
    const dot = className.lastIndexOf('.');
    const file = `${archive.root}code/${className.slice(0, dot).split('.').join('/')}.py`;
    if (!files.has(file)) files.set(file, archive.zip.has(file) ? archive.zip.readEntry(file).toString('utf8') : undefined);
    const text = files.get(file);
    let members: ClassMembers | undefined;
    const name = className.slice(dot + 1).replace(/[^\w]/g, '');
    const start = text === undefined ? null : new RegExp(`^class ${name}\\(.*\\n`, 'm').exec(text);
    if (text !== undefined && start) {
      const rest = text.slice(start.index + start[0].length);
      const next = rest.search(/^\S/m);
      const body = next < 0 ? rest : rest.slice(0, next);
      const list = (attr: string) => {
        const m = new RegExp(`^\\s+${attr} = \\[([^\\]]*)\\]`, 'm').exec(body);
        return m ? [...m[1]!.matchAll(/"([^"]*)"/g)].map((x) => x[1]!) : undefined;
      };
      const params = list('__parameters__');
      const buffers = list('__buffers__');
      if (params !== undefined && buffers !== undefined) members = { params, buffers };
    }
    cache.set(className, members);
    return members;
  };
}

const isModule = (v: unknown): v is OpaqueObject => v instanceof OpaqueObject && v.__class__.startsWith('__torch__.');

/** The parameters and buffers of a TorchScript archive under their state-dict names, in module order. */
export function readTorchScriptStateDict(path: string): StateDict {
  const archive = openTorchArchive(path);
  const top = unpickleArchiveMember(archive, 'data.pkl', 'data');
  check(isModule(top), 'AHS_ERR_FILE_FORMAT', () => `${path}: TorchScript data.pkl does not hold a __torch__ module`);
  const out = new StateDict(path, 'torchscript');
  const membersOf = classMembersReader(archive);
  // Like state_dict(), a submodule shared by two parents is listed under both names; only a
  // cycle (possible in a malformed file, never in torch) is cut.
  const ancestors = new Set<OpaqueObject>();

  const walk = (module: OpaqueObject, prefix: string): void => {
    check(!ancestors.has(module), 'AHS_ERR_FILE_FORMAT', () => `${path}: module ${prefix || '<root>'} contains itself`);
    const attrs = module.state;
    if (!(attrs instanceof Map)) {
      out.notes.push(`skipped ${prefix || '<root>'}: ${module.__class__} has no attribute dict`);
      return;
    }
    const members = membersOf(module.__class__);
    const state = members && new Set([...members.params, ...members.buffers]);
    const children: [string, OpaqueObject][] = [];
    for (const [name, value] of attrs) {
      if (typeof name !== 'string') continue;
      checkSupported(value, path, prefix + name);
      if (value instanceof TorchTensorRef) {
        if (!state || state.has(name)) out.set(prefix + name, value);
        else out.notes.push(`skipped '${prefix + name}': a tensor attribute, not a parameter or buffer`);
      } else if (isModule(value)) {
        children.push([name, value]);
      }
      // `training`, hyper-parameters and None (an absent bias) are not state.
    }
    ancestors.add(module);
    for (const [name, child] of children) walk(child, `${prefix + name}.`);
    ancestors.delete(module);
  };
  walk(top, '');
  return out;
}
