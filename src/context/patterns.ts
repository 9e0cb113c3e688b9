/**
 * .dockerignore and --exclude patterns, with the semantics of moby/patternmatcher (what BuildKit uses):
 * lines are trimmed, `#` lines and blank lines skipped, `!` marks an exception, patterns are cleaned like
 * filepath.Clean and lose a leading `/`; `*` and `?` do not cross `/`, `**` crosses any number of
 * directories, `[…]` classes and `\` escapes work. The last pattern that matches a path (or one of its
 * parent directories) decides. Pure: no I/O.
 */
import { posix } from 'node:path';

interface CompiledPattern {
  source: string;
  exclusion: boolean;
  regex: RegExp;
}

/** The patterns of a .dockerignore file, in order (exceptions keep their leading `!`). */
export function parseIgnoreFile(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    let invert = false;
    if (line.startsWith('!')) {
      invert = true;
      line = line.slice(1).trim();
    }
    if (line === '') continue;
    line = cleanPattern(line);
    out.push(invert ? `!${line}` : line);
  }
  return out;
}

function cleanPattern(p: string): string {
  let cleaned = posix.normalize(p);
  if (cleaned.length > 1 && cleaned.endsWith('/')) cleaned = cleaned.slice(0, -1);
  if (cleaned.length > 1 && cleaned.startsWith('/')) cleaned = cleaned.slice(1);
  if (cleaned.startsWith('./')) cleaned = cleaned.slice(2);
  return cleaned;
}

const REGEX_SPECIAL = new Set(['.', '+', '(', ')', '|', '{', '}', '$', '^']);

function compile(pattern: string): RegExp {
  let re = '^';
  const chars = Array.from(pattern);
  let inClass = false;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (inClass && ch !== ']' && ch !== '\\') {
      re += ch === '^' || ch === '!' ? (chars[i - 1] === '[' ? '^' : `\\${ch}`) : ch;
      continue;
    }
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        i++;
        if (chars[i + 1] === '/') i++;
        re += i + 1 >= chars.length ? '.*' : '(.*/)?';
      } else {
        re += '[^/]*';
      }
    } else if (ch === '?') {
      re += '[^/]';
    } else if (ch === '\\') {
      if (i + 1 < chars.length) {
        i++;
        re += escapeRegex(chars[i]);
      } else {
        re += '\\\\';
      }
    } else if (ch === '[' || ch === ']') {
      inClass = ch === '[';
      re += ch;
    } else if (REGEX_SPECIAL.has(ch)) {
      re += `\\${ch}`;
    } else {
      re += escapeRegex(ch);
    }
  }
  re += '$';
  try {
    return new RegExp(re, 'u');
  } catch {
    throw new SyntaxError(`invalid pattern "${pattern}": syntax error in pattern`);
  }
}

function escapeRegex(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? `\\${ch}` : ch;
}

/** Matches slash-separated paths relative to a root (no leading `/`, no `.` components). */
export class PatternMatcher {
  private readonly patterns: CompiledPattern[];
  readonly hasExclusions: boolean;

  constructor(patterns: string[]) {
    this.patterns = patterns.map((p) => {
      const exclusion = p.startsWith('!');
      const source = cleanPattern(exclusion ? p.slice(1) : p);
      return { source, exclusion, regex: compile(source) };
    });
    this.hasExclusions = this.patterns.some((p) => p.exclusion);
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /** True when the path (or a parent directory of it) is matched by the patterns: ignored / excluded. */
  matches(path: string): boolean {
    const parents = path.split('/');
    parents.pop();
    let matched = false;
    for (const p of this.patterns) {
      if (p.exclusion !== matched) continue;
      let hit = p.regex.test(path);
      if (!hit && parents.length > 0) {
        let prefix = '';
        for (const dir of parents) {
          prefix = prefix === '' ? dir : `${prefix}/${dir}`;
          if (p.regex.test(prefix)) {
            hit = true;
            break;
          }
        }
      }
      if (hit) matched = !p.exclusion;
    }
    return matched;
  }

  /**
   * For an ignored directory: may a walk skip it whole? Only when no exception pattern could
   * re-include something below it.
   */
  canSkipDir(dir: string): boolean {
    if (!this.hasExclusions) return true;
    for (const p of this.patterns) {
      if (!p.exclusion) continue;
      const src = p.source;
      if (src.startsWith(`${dir}/`) || src.includes('*') || src.includes('?') || src.includes('[')) return false;
    }
    return true;
  }
}
