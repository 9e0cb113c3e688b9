/**
 * Instruction flags (--name=value), parsed the way BuildKit's BFlags does: every flag must be
 * declared by the instruction, booleans take no value or true/false, strings need "=", and only
 * repeatable (strings) flags may appear twice.
 */
import { InstructionFault } from './fault.ts';
import { withSuggestion } from './suggest.ts';

export type FlagKind = 'bool' | 'string' | 'strings';

export interface ParsedFlags {
  bool(name: string): boolean;
  string(name: string): string | null;
  strings(name: string): string[];
  used: Set<string>;
}

export function parseFlags(args: string[], spec: Record<string, FlagKind>): ParsedFlags {
  const bools = new Map<string, boolean>();
  const strs = new Map<string, string>();
  const lists = new Map<string, string[]>();
  const used = new Set<string>();
  for (const raw of args) {
    if (!raw.startsWith('--')) throw new InstructionFault(`arg should start with -- : ${raw}`);
    if (raw === '--') break;
    let name = raw.slice(2);
    let value = '';
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const kind = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (!kind) throw new InstructionFault(withSuggestion(`unknown flag: ${name}`, name, Object.keys(spec)));
    if (used.has(name) && kind !== 'strings') throw new InstructionFault(`duplicate flag specified: ${name}`);
    used.add(name);
    if (kind === 'bool') {
      if (eq >= 0 && value === '') throw new InstructionFault(`missing a value on flag: ${name}`);
      const lower = value.toLowerCase();
      if (lower === '' || lower === 'true') bools.set(name, true);
      else if (lower === 'false') bools.set(name, false);
      else throw new InstructionFault(`expecting boolean value for flag ${name}, not: ${value}`);
    } else {
      if (eq < 0) throw new InstructionFault(`missing a value on flag: ${name}`);
      if (kind === 'string') strs.set(name, value);
      else lists.set(name, [...(lists.get(name) ?? []), value]);
    }
  }
  return {
    bool: (n) => bools.get(n) ?? false,
    string: (n) => strs.get(n) ?? null,
    strings: (n) => lists.get(n) ?? [],
    used,
  };
}
