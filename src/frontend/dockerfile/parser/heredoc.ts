/**
 * Heredoc markers on an instruction line (`<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF`, `<< EOF`), found
 * the way BuildKit finds them: the line is split into shell words (quotes and escapes kept, `\` as
 * escape whatever the escape directive says, unset variables kept as written, blanks after `<<`
 * kept in the word), and each word matching `^(\d*)<<(-?)\s*([^<]*)$` names a heredoc. The
 * delimiter is lexed twice, with and without quote removal: when the quote counts differ some
 * part was quoted, and the body is not expanded.
 *
 * The small lexer here reproduces only what that needs (BuildKit's shell.Lex with an empty
 * environment and SkipUnsetEnv); full word expansion lives in ../shell/.
 */
import { goQuote } from './quote.ts';

/** A lexing failure: BuildKit then finds no heredocs on the line (or, for a delimiter, fails). */
class LexFailure {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

/** A heredoc marker found on a line; the body is read by the parser. */
export interface HeredocMarker {
  name: string;
  expand: boolean;
  chomp: boolean;
  fileDescriptor: number;
  /** Offset of the marker word in the line. */
  offset: number;
}

/** The delimiter could not be understood: the parser reports it at the marker (a DockerfileError). */
export class HeredocSyntaxError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

interface Word {
  text: string;
  start: number;
}

const EOF = -1;

function isSpaceChar(c: number): boolean {
  // Go's unicode.IsSpace (word splitting in shell.Lex).
  if (c <= 0xff) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0;
  return c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

const LETTER = /\p{L}/u;
const DIGIT = /\p{Nd}/u;

/** Collects words the way shell.Lex's wordsStruct does. */
class WordCollector {
  words: Word[] = [];
  private word = '';
  private inWord = false;
  private start = -1;

  private append(s: string, at: number): void {
    if (s.length === 0) return;
    if (this.word.length === 0) this.start = at;
    this.word += s;
  }

  addChar(ch: string, at: number): void {
    const space = isSpaceChar(ch.charCodeAt(0));
    if (space && this.inWord) {
      if (this.word.length !== 0) {
        this.words.push({ text: this.word, start: this.start });
        this.word = '';
        this.inWord = false;
      }
    } else if (!space) {
      this.addRaw(ch, at);
    }
  }

  addRaw(s: string, at: number): void {
    this.append(s, at);
    this.inWord = true;
  }

  addString(s: string, at: number): void {
    for (let k = 0; k < s.length; k++) this.addChar(s[k], at);
  }

  finish(): Word[] {
    if (this.word.length > 0) {
      this.words.push({ text: this.word, start: this.start });
      this.word = '';
      this.inWord = false;
    }
    return this.words;
  }
}

/** A shell.Lex over one string, escape token `\`, empty environment, unset variables kept. */
class MiniLex {
  private readonly s: string;
  private i = 0;
  private readonly rawQuotes: boolean;
  private rawEscapes: boolean;

  constructor(s: string, rawQuotes: boolean, rawEscapes: boolean) {
    this.s = s;
    // Go's text/scanner skips a byte order mark at the very start.
    if (s.charCodeAt(0) === 0xfeff) this.i = 1;
    this.rawQuotes = rawQuotes;
    this.rawEscapes = rawEscapes;
  }

  private peek(): number {
    return this.i < this.s.length ? this.s.charCodeAt(this.i) : EOF;
  }

  /** Splits the whole string into words; throws LexFailure. */
  words(): Word[] {
    return this.processStopOn(EOF, this.rawEscapes).words;
  }

  private processStopOn(stop: number, rawEscapes: boolean): { result: string; words: Word[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let result = '';
      const words = new WordCollector();
      while (this.i < this.s.length) {
        const c = this.s.charCodeAt(this.i);
        const at = this.i;
        if (stop !== EOF && c === stop) {
          this.i++;
          return { result, words: words.finish() };
        }
        if (c === 0x24 /* $ */) {
          const tmp = this.processDollar();
          result += tmp;
          words.addString(tmp, at);
          continue;
        }
        if (c === 0x27 /* ' */ || c === 0x22 /* " */ || c === 0x3c /* < */) {
          const tmp = c === 0x27 ? this.singleQuote() : c === 0x22 ? this.doubleQuote() : this.possibleHeredoc();
          result += tmp;
          words.addRaw(tmp, at);
          continue;
        }
        this.i++;
        let ch = this.s[at];
        if (c === 0x5c /* \ */) {
          if (this.rawEscapes) {
            words.addRaw(ch, at);
            result += ch;
          }
          if (this.i >= this.s.length) break;
          ch = this.s[this.i++];
          words.addRaw(ch, at);
        } else {
          words.addChar(ch, at);
        }
        result += ch;
      }
      if (stop !== EOF) {
        throw new LexFailure(`unexpected end of statement while looking for matching ${String.fromCharCode(stop)}`);
      }
      return { result, words: words.finish() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private singleQuote(): string {
    this.i++;
    let result = this.rawQuotes ? "'" : '';
    for (;;) {
      if (this.i >= this.s.length) throw new LexFailure('unexpected end of statement while looking for matching single-quote');
      const ch = this.s[this.i++];
      if (ch === "'") return this.rawQuotes ? `${result}'` : result;
      result += ch;
    }
  }

  private doubleQuote(): string {
    this.i++;
    let result = this.rawQuotes ? '"' : '';
    for (;;) {
      const c = this.peek();
      if (c === EOF) throw new LexFailure('unexpected end of statement while looking for matching double-quote');
      if (c === 0x22) {
        this.i++;
        return this.rawQuotes ? `${result}"` : result;
      }
      if (c === 0x24) {
        result += this.processDollar();
        continue;
      }
      let ch = this.s[this.i++];
      if (c === 0x5c) {
        if (this.rawEscapes) result += ch;
        const next = this.peek();
        if (next === EOF) continue;
        if (next === 0x22 || next === 0x24 || next === 0x5c) ch = this.s[this.i++];
      }
      result += ch;
    }
  }

  private possibleHeredoc(): string {
    this.i++;
    if (this.peek() !== 0x3c) return '<';
    this.i++;
    const start = this.i;
    for (;;) {
      const c = this.peek();
      if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) break;
      this.i++;
    }
    return `<<${this.s.slice(start, this.i)}`;
  }

  private readCodePoint(): string {
    const cp = this.s.codePointAt(this.i)!;
    const ch = String.fromCodePoint(cp);
    this.i += ch.length;
    return ch;
  }

  private processName(): string {
    let name = '';
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      const cp = this.s.codePointAt(this.i)!;
      const ch = String.fromCodePoint(cp);
      if (name.length === 0 && DIGIT.test(ch)) {
        while (this.i < this.s.length && DIGIT.test(String.fromCodePoint(this.s.codePointAt(this.i)!))) name += this.readCodePoint();
        return name;
      }
      if (name.length === 0 && '@*#?-$!0'.includes(ch) && c < 0x80) {
        this.i++;
        return ch;
      }
      if (!LETTER.test(ch) && !DIGIT.test(ch) && ch !== '_') break;
      name += this.readCodePoint();
    }
    return name;
  }

  /** `$…` with every variable unset: the text is kept as written (BuildKit's SkipUnsetEnv). */
  private processDollar(): string {
    this.i++;
    if (this.peek() !== 0x7b /* { */) {
      const name = this.processName();
      return name === '' ? '$' : `$${name}`;
    }
    this.i++;
    const first = this.peek();
    if (first === EOF) throw new LexFailure("syntax error: missing '}'");
    if (first === 0x7b || first === 0x7d || first === 0x3a) throw new LexFailure('syntax error: bad substitution');
    const name = this.processName();
    const c = this.peek();
    if (c !== EOF) this.i++;
    switch (c) {
      case 0x7d /* } */:
        return `\${${name}}`;
      case 0x3a /* : */:
      case 0x2b /* + */:
      case 0x2d /* - */:
      case 0x3f /* ? */:
      case 0x23 /* # */:
      case 0x25 /* % */: {
        let mod = String.fromCharCode(c);
        let op: number = c;
        if (c === 0x3a) {
          op = this.peek();
          if (op !== EOF) {
            this.i++;
            mod += String.fromCharCode(op);
          } else {
            mod += '\uFFFD';
          }
        }
        const word = this.nested(0x7d, op === 0x23 || op === 0x25, "syntax error: missing '}'");
        return `\${${name}${mod}${word}}`;
      }
      case 0x2f /* / */: {
        if (this.peek() === 0x2f) this.i++;
        const pattern = this.nested(0x2f, true, "syntax error: missing '/' in ${}");
        const replacement = this.nested(0x7d, true, "syntax error: missing '}'");
        return `\${${name}/${pattern}/${replacement}}`;
      }
      default:
        throw new LexFailure(`unsupported modifier (${c === EOF ? '\uFFFD' : String.fromCharCode(c)}) in substitution`);
    }
  }

  private nested(stop: number, rawEscapes: boolean, atEnd: string): string {
    try {
      return this.processStopOn(stop, rawEscapes).result;
    } catch (err) {
      if (err instanceof LexFailure && this.i >= this.s.length) throw new LexFailure(atEnd);
      throw err;
    }
  }
}

function countQuotes(s: string): number {
  let n = 0;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c === 0x27 || c === 0x22) n++;
  }
  return n;
}

/**
 * Parses one heredoc marker word (`<<EOF`, `<<-'EOF'`, `2<<EOF`), like BuildKit's ParseHeredoc:
 * null when the word is not a marker; throws HeredocSyntaxError (offset 0) when the delimiter
 * cannot be lexed.
 */
export function parseHeredocWord(word: string): Omit<HeredocMarker, 'offset'> | null {
  let i = 0;
  while (i < word.length && word.charCodeAt(i) >= 0x30 && word.charCodeAt(i) <= 0x39) i++;
  const digits = word.slice(0, i);
  if (word.charCodeAt(i) !== 0x3c || word.charCodeAt(i + 1) !== 0x3c) return null;
  i += 2;
  let chomp = false;
  if (word.charCodeAt(i) === 0x2d) {
    chomp = true;
    i++;
  }
  while (i < word.length) {
    const c = word.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0c && c !== 0x0d) break;
    i++;
  }
  const rest = word.slice(i);
  if (rest.includes('<') || rest.length === 0) return null;
  const fd = digits === '' ? 0 : Math.min(Number(digits), Number.MAX_SAFE_INTEGER);
  let words: Word[];
  let wordsRaw: Word[];
  try {
    words = new MiniLex(rest, false, false).words();
    if (words.length !== 1) return null;
    wordsRaw = new MiniLex(rest, true, false).words();
  } catch (err) {
    if (err instanceof LexFailure) throw new HeredocSyntaxError(`failed to process ${goQuote(rest)}: ${err.message}`, 0);
    throw err;
  }
  if (wordsRaw.length !== words.length) {
    throw new HeredocSyntaxError(`internal lexing of heredoc produced inconsistent results: ${rest}`, 0);
  }
  const name = words[0].text;
  return { name, expand: countQuotes(name) === countQuotes(wordsRaw[0].text), chomp, fileDescriptor: fd };
}

/**
 * The heredoc markers on an instruction line, in order. A line the shell lexer cannot split (an
 * unterminated quote, a bad `${…}`) has none, as in BuildKit.
 */
export function heredocsFromLine(line: string): HeredocMarker[] {
  let words: Word[];
  try {
    words = new MiniLex(line, true, true).words();
  } catch (err) {
    if (err instanceof LexFailure) return [];
    throw err;
  }
  const out: HeredocMarker[] = [];
  for (const w of words) {
    let marker: Omit<HeredocMarker, 'offset'> | null;
    try {
      marker = parseHeredocWord(w.text);
    } catch (err) {
      if (err instanceof HeredocSyntaxError) throw new HeredocSyntaxError(err.message, w.start);
      throw err;
    }
    if (marker !== null) out.push({ ...marker, offset: w.start });
  }
  return out;
}

/** Removes leading tabs from every line of a `<<-` heredoc body (BuildKit's ChompHeredocContent). */
export function chompHeredocContent(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    while (i < s.length && s.charCodeAt(i) === 0x09) i++;
    const nl = s.indexOf('\n', i);
    const end = nl < 0 ? s.length : nl + 1;
    out += s.slice(i, end);
    i = end;
  }
  return out;
}
