/**
 * Per-instruction argument parsing of one logical line (continuations already joined), after
 * BuildKit's splitCommand/extractBuilderFlags and line_parsers.go: which instructions take JSON
 * (exec) form, which split on whitespace, ENV/LABEL key/value forms, ARG words, HEALTHCHECK.
 * Errors carry an offset into the argument text so the parser can name LINE:COL.
 */
import { firstSpaceRun, isSpace, skipSpace, splitOnSpaceRuns, trimSpace, wellFormed } from './chars.ts';
import { goQuote } from './quote.ts';

/** A bad argument list; `offset` is relative to the argument text given to the line parser. */
export class ArgumentError {
  readonly message: string;
  readonly offset: number;
  constructor(message: string, offset: number) {
    this.message = message;
    this.offset = offset;
  }
}

export interface ParsedArgs {
  args: string[];
  json: boolean;
}

export interface SplitCommand {
  /** The keyword as written. */
  command: string;
  flags: string[];
  /** The argument text, trimmed. */
  rest: string;
  /** Offset of the keyword in the line. */
  commandOffset: number;
  /** Offset of `rest` in the line. */
  restOffset: number;
}

/**
 * Leading `--flag[=value]` words (quotes and `\` escapes processed, `--` ends them). Returns the
 * flags and the offset in `s` where the arguments begin.
 */
export function extractBuilderFlags(s: string): { flags: string[]; restIndex: number } {
  const flags: string[] = [];
  const n = s.length;
  let pos = 0;
  for (;;) {
    while (pos < n && isSpace(s.charCodeAt(pos))) pos++;
    if (pos >= n) return { flags, restIndex: n };
    if (s.charCodeAt(pos) !== 0x2d || pos + 1 === n || s.charCodeAt(pos + 1) !== 0x2d) return { flags, restIndex: pos };
    // A word starting with "--": copied in slices between quotes and escapes, which are removed.
    let word = '';
    let seg = pos;
    let quote = 0;
    let blankOK = false;
    for (;;) {
      if (pos >= n) {
        word += s.slice(seg, n);
        if (word !== '--' && (blankOK || word.length > 0)) flags.push(word);
        return { flags, restIndex: n };
      }
      const ch = s.charCodeAt(pos);
      if (quote === 0 && isSpace(ch)) {
        word += s.slice(seg, pos);
        if (word === '--') return { flags, restIndex: pos };
        if (blankOK || word.length > 0) flags.push(word);
        break;
      }
      if (quote === 0 ? ch === 0x27 || ch === 0x22 : ch === quote) {
        word += s.slice(seg, pos);
        quote = quote === 0 ? ch : 0;
        blankOK = true;
        seg = ++pos;
      } else if (ch === 0x5c) {
        word += s.slice(seg, pos);
        if (pos + 1 === n) {
          quote = 0;
          seg = ++pos;
        } else {
          seg = pos + 1;
          pos += 2;
        }
      } else {
        pos++;
      }
    }
  }
}

/** Keyword, flags and argument text of a logical line (BuildKit's splitCommand). */
export function splitCommand(line: string): SplitCommand {
  const start = skipSpace(line);
  const t = trimSpace(line);
  const run = firstSpaceRun(t);
  if (run === null) return { command: t, flags: [], rest: '', commandOffset: start, restOffset: start + t.length };
  const after = t.slice(run.end);
  const { flags, restIndex } = extractBuilderFlags(after);
  const raw = after.slice(restIndex);
  const lead = skipSpace(raw);
  return {
    command: t.slice(0, run.start),
    flags,
    rest: trimSpace(raw),
    commandOffset: start,
    restOffset: start + run.end + restIndex + lead,
  };
}

interface Word {
  text: string;
  start: number;
}

/**
 * Words of ENV/LABEL/ARG arguments: split on blanks outside quotes; quotes and escapes are kept
 * (removed later by word expansion). An escape at the very end is dropped.
 */
export function parseWords(rest: string, escape: string): Word[] {
  const esc = escape.charCodeAt(0);
  const words: Word[] = [];
  const n = rest.length;
  let pos = 0;
  while (pos < n) {
    while (pos < n && isSpace(rest.charCodeAt(pos))) pos++;
    if (pos >= n) break;
    const start = pos;
    let quote = 0;
    let blankOK = false;
    let end = n;
    while (pos < n) {
      const ch = rest.charCodeAt(pos);
      if (quote === 0) {
        if (isSpace(ch)) {
          end = pos;
          break;
        }
        if (ch === 0x27 || ch === 0x22) {
          quote = ch;
          blankOK = true;
        } else if (ch === esc) {
          if (pos + 1 === n) {
            end = n - 1;
            pos = n;
            break;
          }
          pos++;
        }
      } else if (ch === quote) {
        quote = 0;
      } else if (ch === esc && quote !== 0x27) {
        if (pos + 1 === n) {
          end = n - 1;
          pos = n;
          break;
        }
        pos++;
      }
      pos++;
    }
    const text = rest.slice(start, end);
    if (blankOK || text.length > 0) words.push({ text, start });
  }
  return words;
}

/** ENV and LABEL: `k=v …` triples (key, value, "="), or the legacy `k value` (key, value, ""). */
export function parseNameVal(rest: string, keyword: string, escape: string): ParsedArgs {
  const words = parseWords(rest, escape);
  if (words.length === 0) return { args: [], json: false };
  if (!words[0].text.includes('=')) {
    const run = firstSpaceRun(rest);
    if (run === null) throw new ArgumentError(`${keyword} must have two arguments`, 0);
    return { args: [rest.slice(0, run.start), rest.slice(run.end), ''], json: false };
  }
  const args: string[] = [];
  for (const w of words) {
    const eq = w.text.indexOf('=');
    if (eq < 0) {
      throw new ArgumentError(`Syntax error - can't find = in ${goQuote(w.text)}. Must be of the form: name=value`, w.start);
    }
    args.push(w.text.slice(0, eq), w.text.slice(eq + 1), '=');
  }
  return { args, json: false };
}

const NOT_JSON = 0;
const NOT_STRINGS = 1;

/** Go's json.Unmarshal would fail on this value (a number out of float64 range, nesting over 10,000). */
function goRejects(top: unknown[]): boolean {
  const stack: { v: unknown; depth: number }[] = [{ v: top, depth: 1 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return true;
    } else if (v !== null && typeof v === 'object') {
      if (depth > 10000) return true;
      const children = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
      for (const c of children) stack.push({ v: c, depth: depth + 1 });
    }
  }
  return false;
}

/** A JSON array of strings, or why not (BuildKit's parseJSON). */
function parseJSON(rest: string): string[] | typeof NOT_JSON | typeof NOT_STRINGS {
  const r = rest.slice(skipSpace(rest));
  if (r.charCodeAt(0) !== 0x5b /* [ */) return NOT_JSON;
  let value: unknown;
  try {
    value = JSON.parse(r);
  } catch {
    return NOT_JSON;
  }
  if (!Array.isArray(value)) return NOT_JSON;
  const out: string[] = [];
  for (const v of value) {
    if (typeof v !== 'string') return goRejects(value) ? NOT_JSON : NOT_STRINGS;
    out.push(wellFormed(v));
  }
  return out;
}

const NOT_STRINGS_MESSAGE = 'when using JSON array syntax, arrays must be comprised of strings only';

/** RUN, CMD, ENTRYPOINT, SHELL: JSON array, else the whole text as one argument. */
export function parseMaybeJSON(rest: string): ParsedArgs {
  if (rest === '') return { args: [], json: false };
  const j = parseJSON(rest);
  if (j === NOT_STRINGS) throw new ArgumentError(NOT_STRINGS_MESSAGE, 0);
  if (j === NOT_JSON) return { args: [rest], json: false };
  return { args: j, json: true };
}

/** FROM, EXPOSE: split on blanks. */
export function parseWhitespaceDelimited(rest: string): ParsedArgs {
  return { args: rest === '' ? [] : splitOnSpaceRuns(rest), json: false };
}

/** ADD, COPY, VOLUME: JSON array, else split on blanks. */
export function parseMaybeJSONToList(rest: string): ParsedArgs {
  const j = parseJSON(rest);
  if (j === NOT_STRINGS) throw new ArgumentError(NOT_STRINGS_MESSAGE, 0);
  if (j === NOT_JSON) return parseWhitespaceDelimited(rest);
  return { args: j, json: true };
}

/** MAINTAINER, USER, WORKDIR, STOPSIGNAL: the text as one argument. */
export function parseString(rest: string): ParsedArgs {
  return { args: rest === '' ? [] : [rest], json: false };
}

/** ARG: words (`name`, `name=value`, quotes kept). */
export function parseNameOrNameVal(rest: string, escape: string): ParsedArgs {
  return { args: parseWords(rest, escape).map((w) => w.text), json: false };
}

/** HEALTHCHECK: the type word (CMD, NONE…), then the command like RUN. */
export function parseHealthConfig(rest: string): ParsedArgs {
  let sep = 0;
  while (sep < rest.length && !isSpace(rest.charCodeAt(sep))) sep++;
  if (sep === 0) return { args: [], json: false };
  const next = skipSpace(rest, sep);
  let cmd: ParsedArgs;
  try {
    cmd = parseMaybeJSON(rest.slice(next));
  } catch (err) {
    if (err instanceof ArgumentError) throw new ArgumentError(err.message, err.offset + next);
    throw err;
  }
  return { args: [rest.slice(0, sep), ...cmd.args], json: cmd.json };
}

/** Keywords whose arguments the parser understands; any other keyword is kept with no arguments. */
export const KNOWN_KEYWORDS = new Set([
  'add', 'arg', 'cmd', 'copy', 'entrypoint', 'env', 'expose', 'from', 'healthcheck', 'label',
  'maintainer', 'onbuild', 'run', 'shell', 'stopsignal', 'user', 'volume', 'workdir',
]);

/** Arguments of every keyword but ONBUILD (the parser recurses for that one). */
export function parseArguments(keyword: string, rest: string, escape: string): ParsedArgs {
  switch (keyword) {
    case 'add':
    case 'copy':
    case 'volume':
      return parseMaybeJSONToList(rest);
    case 'arg':
      return parseNameOrNameVal(rest, escape);
    case 'cmd':
    case 'entrypoint':
    case 'run':
    case 'shell':
      return parseMaybeJSON(rest);
    case 'env':
      return parseNameVal(rest, 'ENV', escape);
    case 'label':
      return parseNameVal(rest, 'LABEL', escape);
    case 'expose':
    case 'from':
      return parseWhitespaceDelimited(rest);
    case 'healthcheck':
      return parseHealthConfig(rest);
    case 'maintainer':
    case 'stopsignal':
    case 'user':
    case 'workdir':
      return parseString(rest);
    default:
      return { args: [], json: false };
  }
}
