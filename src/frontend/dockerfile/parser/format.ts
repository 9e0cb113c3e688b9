/**
 * Printable forms of the syntax tree: the conformance notation BuildKit's parser tests use
 * (`(keyword ["--flag"] "arg"…)`, one line per instruction, Go %q quoting), and JSON.
 */
import type { Dockerfile, Instruction } from './ast.ts';
import { trimSpace } from './chars.ts';
import { KNOWN_KEYWORDS } from './line-parsers.ts';
import { goQuote } from './quote.ts';

/** One instruction in the tree notation, without the enclosing parentheses. */
export function formatInstruction(inst: Instruction): string {
  let s = inst.keyword;
  if (inst.flags.length > 0) s += ` [${inst.flags.map(goQuote).join(' ')}]`;
  if (inst.keyword === 'onbuild') {
    if (inst.trigger) s += ` (${formatInstruction(inst.trigger)})`;
  } else if (!KNOWN_KEYWORDS.has(inst.keyword)) {
    // BuildKit keeps an unknown instruction with one empty argument node.
    s += ' ""';
  } else {
    for (const a of inst.args) s += ` ${goQuote(a)}`;
  }
  return trimSpace(s);
}

/** The whole file in the tree notation: one `(…)` line per instruction, ending with a newline. */
export function formatTree(df: Dockerfile): string {
  let out = '';
  for (const inst of df.instructions) out += `(${formatInstruction(inst)})\n`;
  return out;
}

/** The syntax tree as pretty-printed JSON (the shape of the Dockerfile type), ending with a newline. */
export function dockerfileToJSON(df: Dockerfile): string {
  return `${JSON.stringify(df, null, 2)}\n`;
}
