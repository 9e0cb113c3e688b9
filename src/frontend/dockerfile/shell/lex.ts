/**
 * Dockerfile word expansion with BuildKit's shell-lexer semantics (frontend/dockerfile/shell).
 *
 * One word of an instruction is scanned once: quotes are removed ('…' literal, "…" with $ and
 * escapes), the escape token (\ or `) escapes the next character, and parameters are expanded:
 * $V ${V} ${V:-w} ${V-w} ${V:+w} ${V+w} ${V:?msg} ${V?msg} ${V#p} ${V##p} ${V%p} ${V%%p}
 * ${V/p/r} ${V//p/r}. Positional ($1) and special ($@ $* $# $? $- $$ $! $0) parameters are never set.
 * Any other ${…} form is an error. Unquoted expansion results are split into fields on white space
 * (expandWords); quoted text and escaped characters never split.
 *
 * Pure functions, no I/O. Errors are ExpansionError with BuildKit's message
 * (`failed to process "WORD": …`).
 */
import { ExpansionError } from '../../../errors.ts';
import { goQuote } from './quote.ts';

export interface ExpandOptions {
  /** The Dockerfile's escape token (default backslash). */
  escapeToken?: '\\' | '`';
}

/** Internal knobs BuildKit uses for heredoc bodies (quotes are not special there). */
export interface ExpandOptionsInternal extends ExpandOptions {
  /** Quotes are ordinary characters (BuildKit's SkipProcessQuotes, used for heredoc bodies). */
  skipQuotes?: boolean;
}

/** The full result of expanding one word. */
export interface ExpansionResult {
  /** The word after expansion and quote removal (spaces kept). */
  value: string;
  /** The fields after splitting unquoted expansions on white space. */
  words: string[];
  /** Names of variables that were referenced and set, in first-use order. */
  used: string[];
  /** Names of variables that were referenced and not set, in first-use order. */
  unset: string[];
}

const EOF = '';
const WHITE = /^\p{White_Space}$/u;
const LETTER = /^\p{L}$/u;
const DIGIT = /^\p{Nd}$/u;
const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);

const isSpace = (c: string): boolean => c !== EOF && WHITE.test(c);
const isDigit = (c: string): boolean => c !== EOF && DIGIT.test(c);
const isNameChar = (c: string): boolean => c === '_' || (c !== EOF && (LETTER.test(c) || DIGIT.test(c)));

/** Field splitting state: BuildKit's wordsStruct. */
class Fields {
  words: string[] = [];
  private word = '';
  private inWord = false;

  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.word.length !== 0) {
        this.words.push(this.word);
        this.word = '';
        this.inWord = false;
      }
    } else {
      this.addRawChar(ch);
    }
  }
  addRawChar(ch: string): void {
    this.word += ch;
    this.inWord = true;
  }
  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }
  addRawString(s: string): void {
    this.word += s;
    this.inWord = true;
  }
  finish(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = '';
      this.inWord = false;
    }
    return this.words;
  }
}

class Lexer {
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes = false;
  readonly used = new Set<string>();
  readonly unset = new Set<string>();

  private readonly env: Record<string, string>;
  private readonly escape: string;
  private readonly skipQuotes: boolean;

  constructor(word: string, env: Record<string, string>, escape: string, skipQuotes: boolean) {
    this.chars = Array.from(word);
    this.env = env;
    this.escape = escape;
    this.skipQuotes = skipQuotes;
  }

  private peek(): string {
    return this.pos < this.chars.length ? this.chars[this.pos] : EOF;
  }
  private next(): string {
    return this.pos < this.chars.length ? this.chars[this.pos++] : EOF;
  }

  private lookup(name: string): string | undefined {
    if (Object.hasOwn(this.env, name)) {
      this.used.add(name);
      return this.env[name];
    }
    this.unset.add(name);
    return undefined;
  }

  /** Scans until stop (or the end when stop is EOF); returns the text and its fields. */
  processStopOn(stop: string, rawEscapes: boolean): { text: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let text = '';
      const fields = new Fields();
      while (this.peek() !== EOF) {
        let ch = this.peek();
        if (stop !== EOF && ch === stop) {
          this.next();
          return { text, words: fields.finish() };
        }
        if (ch === '$') {
          const v = this.processDollar();
          text += v;
          fields.addString(v);
        } else if (!this.skipQuotes && ch === "'") {
          const v = this.processSingleQuote();
          text += v;
          fields.addRawString(v);
        } else if (!this.skipQuotes && ch === '"') {
          const v = this.processDoubleQuote();
          text += v;
          fields.addRawString(v);
        } else {
          ch = this.next();
          if (ch === this.escape) {
            if (this.rawEscapes) {
              fields.addRawChar(ch);
              text += ch;
            }
            ch = this.next();
            if (ch === EOF) break; // an escape at the very end is dropped
            fields.addRawChar(ch);
          } else {
            fields.addChar(ch);
          }
          text += ch;
        }
      }
      if (stop !== EOF) {
        throw new ExpansionError(`unexpected end of statement while looking for matching ${stop}`);
      }
      return { text, words: fields.finish() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processSingleQuote(): string {
    this.next(); // the opening quote
    let out = '';
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw new ExpansionError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return out;
      out += ch;
    }
  }

  private processDoubleQuote(): string {
    this.next(); // the opening quote
    let out = '';
    for (;;) {
      const p = this.peek();
      if (p === EOF) throw new ExpansionError('unexpected end of statement while looking for matching double-quote');
      if (p === '"') {
        this.next();
        return out;
      }
      if (p === '$') {
        out += this.processDollar();
        continue;
      }
      let ch = this.next();
      if (ch === this.escape) {
        if (this.rawEscapes) out += ch;
        const after = this.peek();
        if (after === EOF) continue; // escape at the end of the word is ignored
        if (after === '"' || after === '$' || after === this.escape) ch = this.next();
      }
      out += ch;
    }
  }

  private processName(): string {
    let name = '';
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name.length === 0 && isDigit(ch)) {
        while (isDigit(this.peek())) name += this.next();
        return name;
      }
      if (name.length === 0 && SPECIAL_PARAMS.has(ch)) return this.next();
      if (!isNameChar(ch)) break;
      name += this.next();
    }
    return name;
  }

  private processDollar(): string {
    this.next(); // $
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      return this.lookup(name) ?? '';
    }
    this.next(); // {
    const first = this.peek();
    if (first === EOF) throw new ExpansionError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new ExpansionError('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next();
    if (ch === EOF) throw new ExpansionError("syntax error: missing '}'");
    let modifier = ch;
    if (ch === '}') return this.lookup(name) ?? '';
    if (ch === '/') return this.processReplace(name);
    let nullIsUnset = false;
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.next();
      modifier += ch;
    }
    if (ch !== '+' && ch !== '-' && ch !== '?' && ch !== '#' && ch !== '%') {
      if (ch === EOF) throw new ExpansionError("syntax error: missing '}'");
      // BuildKit reads the rest of the expansion before rejecting the modifier.
      this.processStopOnInBraces();
      throw new ExpansionError(`unsupported modifier (${modifier}) in substitution`);
    }
    const word = this.processStopOnInBraces(ch === '#' || ch === '%');
    const value = this.lookup(name);
    const set = value !== undefined;
    const empty = !set || (nullIsUnset && value === '');
    switch (ch) {
      case '-':
        return empty ? word : (value as string);
      case '+':
        return empty ? '' : word;
      case '?':
        if (!set) throw new ExpansionError(`${name}: ${word !== '' ? word : 'is not allowed to be unset'}`);
        if (nullIsUnset && value === '') throw new ExpansionError(`${name}: ${word !== '' ? word : 'is not allowed to be empty'}`);
        return value as string;
      default: {
        // # and %: shortest match; ## and %%: longest.
        let pattern = word;
        let greedy = false;
        if (pattern.startsWith(ch)) {
          greedy = true;
          pattern = pattern.slice(1);
        }
        return ch === '%' ? trimSuffix(pattern, value ?? '', greedy) : trimPrefix(pattern, value ?? '', greedy);
      }
    }
  }

  private processStopOnInBraces(rawEscapes = false): string {
    try {
      return this.processStopOn('}', rawEscapes).text;
    } catch (err) {
      if (this.peek() === EOF) throw new ExpansionError("syntax error: missing '}'");
      throw err;
    }
  }

  private processReplace(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    let pattern: string;
    try {
      pattern = this.processStopOn('/', true).text;
    } catch (err) {
      if (this.peek() === EOF) throw new ExpansionError("syntax error: missing '/' in ${}");
      throw err;
    }
    const replacement = this.processStopOnInBraces(true);
    const value = this.lookup(name) ?? '';
    const re = patternToRegExp(pattern, true, false, all);
    if (all) return value.replace(re, () => replacement);
    const m = re.exec(value);
    if (!m) return value;
    return value.slice(0, m.index) + replacement + value.slice(m.index + m[0].length);
  }
}

/**
 * A shell pattern (* any string, ? one character, \ escapes * ? \; no bracket expressions) as a
 * regular expression, like BuildKit's convertShellPatternToRegex.
 */
function patternToRegExp(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = Array.from(pattern);
  let src = anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '*') {
      src += greedy ? '[^\\n]*' : '[^\\n]*?';
    } else if (c === '?') {
      src += '[^\\n]';
    } else if (c === '\\') {
      const n = chars[i + 1];
      if (n === '}' || n === '/') continue; // the escape protected the ${} syntax, not the pattern
      if (n !== '*' && n !== '?' && n !== '\\') {
        throw new ExpansionError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${n ?? ''}'`);
      }
      src += '\\' + n;
      i++;
    } else if ('[]{}.+()|^$'.includes(c)) {
      src += '\\' + c;
    } else {
      src += c;
    }
  }
  return new RegExp(src, global ? 'gu' : 'u');
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = patternToRegExp(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

/** Reverses a pattern keeping each escape before the character it escapes (a\*c → c\*a). */
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const units: string[] = [];
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === '\\' && i !== chars.length - 1) {
      units.push(chars[i] + chars[i + 1]);
      i++;
    } else {
      units.push(chars[i]);
    }
  }
  return units.reverse().join('');
}

const reverseString = (s: string): string => Array.from(s).reverse().join('');

function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  // The shortest rightmost match is the shortest leftmost match of the reversed strings.
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}

function run(word: string, env: Record<string, string>, opts: ExpandOptionsInternal = {}): ExpansionResult {
  const lexer = new Lexer(word, env, opts.escapeToken ?? '\\', opts.skipQuotes ?? false);
  try {
    const { text, words } = lexer.processStopOn(EOF, false);
    return { value: text, words, used: [...lexer.used], unset: [...lexer.unset] };
  } catch (err) {
    if (err instanceof ExpansionError) throw new ExpansionError(`failed to process ${goQuote(word)}: ${err.message}`);
    throw err;
  }
}

/** Expands one word (quotes removed, white space kept). Throws ExpansionError. */
export function expandWord(word: string, env: Record<string, string>, opts?: ExpandOptions): string {
  return run(word, env, opts).value;
}

/** Expands a word and splits it into fields (for instructions that take several words). */
export function expandWords(word: string, env: Record<string, string>, opts?: ExpandOptions): string[] {
  return run(word, env, opts).words;
}

/** Expands a word and also reports which variables it used and which were unset. */
export function expandWithUsage(word: string, env: Record<string, string>, opts?: ExpandOptionsInternal): ExpansionResult {
  return run(word, env, opts);
}
