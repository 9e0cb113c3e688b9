/**
 * Parser directives (`# syntax=…`, `# escape=…`, `# check=…`): recognised only in the leading
 * block of comment lines, like BuildKit's DirectiveParser. The first line that is not a directive
 * (a blank line, another comment, an unknown key, an instruction) ends the block for good.
 */
import { isAsciiDigit, isAsciiLetter, isRegexpSpace } from './chars.ts';

export const DIRECTIVE_NAMES = ['syntax', 'escape', 'check'] as const;
export type DirectiveName = (typeof DIRECTIVE_NAMES)[number];

export interface DirectiveLine {
  /** Lower-cased key. */
  key: string;
  value: string;
  /** Offset of the value in the line (for error columns). */
  valueOffset: number;
}

/**
 * Matches BuildKit's `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` (Go's \s is [\t\n\f\r ]) without
 * a backtracking regular expression. The key is returned lower-cased.
 */
export function matchDirective(line: string): DirectiveLine | null {
  if (line.charCodeAt(0) !== 0x23 /* # */) return null;
  let i = 1;
  while (i < line.length && isRegexpSpace(line.charCodeAt(i))) i++;
  const keyStart = i;
  if (i >= line.length || !isAsciiLetter(line.charCodeAt(i))) return null;
  i++;
  while (i < line.length && (isAsciiLetter(line.charCodeAt(i)) || isAsciiDigit(line.charCodeAt(i)))) i++;
  const key = line.slice(keyStart, i).toLowerCase();
  while (i < line.length && isRegexpSpace(line.charCodeAt(i))) i++;
  if (line.charCodeAt(i) !== 0x3d /* = */) return null;
  i++;
  if (i >= line.length) return null;
  let end = line.length;
  while (end > i && isRegexpSpace(line.charCodeAt(end - 1))) end--;
  if (end === i) {
    // Only blanks after "=": the lazy (.+?) still has to take one character, the last one.
    return { key, value: line.slice(line.length - 1), valueOffset: line.length - 1 };
  }
  let start = i;
  while (isRegexpSpace(line.charCodeAt(start))) start++;
  return { key, value: line.slice(start, end), valueOffset: start };
}

/** Outcome of offering one line to the directive scanner. */
export type DirectiveResult =
  | { kind: 'none' }
  | { kind: 'directive'; directive: DirectiveLine }
  | { kind: 'error'; message: string; offset: number };

/** Stateful scanner over the leading lines of a file (BuildKit's directives struct). */
export class DirectiveScanner {
  done = false;
  private readonly seen = new Set<string>();

  /** Offers a line (newline removed, leading blanks already trimmed by the caller). */
  offer(line: string): DirectiveResult {
    if (this.done) return { kind: 'none' };
    const d = matchDirective(line);
    if (d === null || !(DIRECTIVE_NAMES as readonly string[]).includes(d.key)) {
      this.done = true;
      return { kind: 'none' };
    }
    if (this.seen.has(d.key)) {
      return { kind: 'error', message: `only one ${d.key} parser directive can be used`, offset: 0 };
    }
    this.seen.add(d.key);
    if (d.key === 'escape' && d.value !== '\\' && d.value !== '`') {
      return {
        kind: 'error',
        message: `invalid escape token '${d.value}' does not match \` or \\`,
        offset: d.valueOffset,
      };
    }
    return { kind: 'directive', directive: d };
  }
}
