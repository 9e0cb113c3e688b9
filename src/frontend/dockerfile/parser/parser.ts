/**
 * Dockerfile text → syntax tree, with the semantics of BuildKit's `dockerfile:1` parser
 * (moby/buildkit frontend/dockerfile/parser): parser directives in the leading comment block,
 * line continuations with the escape character, comment and blank lines inside continuations,
 * per-instruction argument forms, ONBUILD triggers and heredoc bodies. Pure and linear in the
 * input size; every error is a DockerfileError naming FILE:LINE:COL.
 */
import { DockerfileError } from '../../../errors.ts';
import type { Dockerfile, Heredoc, Instruction, ParserDirectives, ParseWarning } from './ast.ts';
import { skipSpace, wellFormed } from './chars.ts';
import { DirectiveScanner } from './directives.ts';
import { HeredocSyntaxError, heredocsFromLine } from './heredoc.ts';
import { ArgumentError, parseArguments, splitCommand } from './line-parsers.ts';
import { goQuote } from './quote.ts';

export interface ParseOptions {
  /** Name used in messages and in the result (default "Dockerfile"). */
  file?: string;
}

/** Longest physical line BuildKit reads (bufio.Scanner's limit, newline excluded), in bytes. */
export const MAX_LINE_BYTES = 65535;

const HEREDOC_KEYWORDS = new Set(['run', 'copy', 'add']);
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * Where the pieces of a logical line came from: piece k starts at `offsets[k]` in the joined line
 * and at `lines[k]`:`columns[k]` in the file.
 */
class LineMap {
  /** offset, line, column of each piece, flattened. */
  private readonly pieces: number[] = [];

  reset(line: number, column: number): void {
    this.pieces.length = 0;
    this.pieces.push(0, line, column);
  }

  add(offset: number, line: number, column: number): void {
    this.pieces.push(offset, line, column);
  }

  at(offset: number): { line: number; column: number } {
    const p = this.pieces;
    let k = p.length - 3;
    while (k > 0 && p[k] > offset) k -= 3;
    return { line: p[k + 1], column: p[k + 2] + (offset - p[k]) };
  }
}

/** Removes the escape character (and blanks after it) ending a line, like BuildKit's regexp. */
function trimContinuation(s: string, escape: number): { text: string; continues: boolean } {
  let i = s.length;
  while (i > 0) {
    const c = s.charCodeAt(i - 1);
    if (c !== 0x20 && c !== 0x09) break;
    i--;
  }
  if (i === 0 || s.charCodeAt(i - 1) !== escape) return { text: s, continues: false };
  if (i === 1) return { text: '', continues: true };
  if (s.charCodeAt(i - 2) === escape) return { text: s, continues: false };
  return { text: s.slice(0, i - 1), continues: true };
}

function isCommentLine(s: string): boolean {
  return s.charCodeAt(skipSpace(s)) === 0x23;
}

function isBlank(s: string): boolean {
  return skipSpace(s) === s.length;
}

function stripLeadingTabs(s: string): string {
  let i = 0;
  while (s.charCodeAt(i) === 0x09) i++;
  return i === 0 ? s : s.slice(i);
}

class Parser {
  private readonly text: string;
  private readonly file: string;
  private escape = 0x5c;
  /** Start of the next physical line. */
  private next = 0;
  /** The current physical line: [start, contentEnd) without line ending, [start, end) with it. */
  private start = 0;
  private contentEnd = 0;
  private end = 0;
  /** 1-based number of the current physical line. */
  private lineNo = 0;
  /** Positions of the logical line being parsed (reused). */
  private readonly map = new LineMap();

  constructor(text: string, file: string) {
    this.text = text;
    this.file = file;
  }

  private error(line: number, column: number, detail: string): DockerfileError {
    return new DockerfileError({ file: this.file, line, column }, detail);
  }

  /** Advances to the next physical line; false at the end of the text. */
  private readLine(): boolean {
    const text = this.text;
    if (this.next >= text.length) return false;
    this.start = this.next;
    const nl = text.indexOf('\n', this.start);
    const stop = nl < 0 ? text.length : nl;
    this.end = nl < 0 ? text.length : nl + 1;
    this.next = this.end;
    this.lineNo++;
    // Three bytes per UTF-16 unit at most: only long lines need their UTF-8 size measured.
    if ((stop - this.start) * 3 > MAX_LINE_BYTES && Buffer.byteLength(text.slice(this.start, stop)) > MAX_LINE_BYTES) {
      throw this.error(this.lineNo, 1, `dockerfile line greater than max allowed size of ${MAX_LINE_BYTES}`);
    }
    let e = stop;
    while (e > this.start && text.charCodeAt(e - 1) === 0x0d) e--;
    this.contentEnd = e;
    return true;
  }

  private content(): string {
    return this.text.slice(this.start, this.contentEnd);
  }

  parse(): Dockerfile {
    const directives: ParserDirectives = {};
    const scanner = new DirectiveScanner();
    const instructions: Instruction[] = [];
    const warnings: ParseWarning[] = [];

    while (this.readLine()) {
      const content = this.content();
      const lead = skipSpace(content);
      const trimmed = lead === 0 ? content : content.slice(lead);
      if (!scanner.done) {
        const r = scanner.offer(trimmed);
        if (r.kind === 'error') throw this.error(this.lineNo, lead + r.offset + 1, r.message);
        if (r.kind === 'directive') {
          const { key, value } = r.directive;
          if (key === 'escape') this.escape = value.charCodeAt(0);
          directives[key as keyof ParserDirectives] = value;
        }
      }
      const startLine = this.lineNo;
      const first = trimContinuation(trimmed.charCodeAt(0) === 0x23 ? '' : trimmed, this.escape);
      if (!first.continues && first.text === '') continue;

      const map = this.map;
      map.reset(startLine, lead + 1);
      let line = first.text;
      let continues = first.continues;
      let sawEmpty = false;
      while (continues && this.readLine()) {
        const c = this.content();
        if (isCommentLine(c)) continue;
        if (isBlank(c)) {
          sawEmpty = true;
          continue;
        }
        const piece = trimContinuation(c, this.escape);
        map.add(line.length, this.lineNo, 1);
        line += piece.text;
        continues = piece.continues;
      }
      if (sawEmpty) warnings.push({ line: this.lineNo, message: `Empty continuation line found in: ${line}` });

      const inst = this.instruction(line, 0, line, map);
      this.readHeredocs(inst, line, map);
      inst.range = { start: startLine, end: this.lineNo };
      if (inst.trigger) inst.trigger.range = { start: startLine, end: this.lineNo };
      instructions.push(inst);
    }

    if (instructions.length === 0) throw this.error(1, 1, 'file with no instructions');
    this.shebangDirectives(directives);
    return {
      file: this.file,
      directives,
      escapeToken: this.escape === 0x60 ? '`' : '\\',
      instructions,
      warnings,
    };
  }

  /**
   * With a `#!` first line, BuildKit's parser stops looking for directives at once (so `escape`
   * after it is ignored), but its syntax and check detection skip that line and read the comment
   * lines after it (blanks not trimmed, a repeated key ends the search).
   */
  private shebangDirectives(directives: ParserDirectives): void {
    if (!this.text.startsWith('#!')) return;
    const scanner = new DirectiveScanner();
    let pos = this.text.indexOf('\n') + 1;
    while (pos > 0 && pos < this.text.length && !scanner.done) {
      const nl = this.text.indexOf('\n', pos);
      let line = this.text.slice(pos, nl < 0 ? this.text.length : nl);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      pos = nl < 0 ? this.text.length : nl + 1;
      const r = scanner.offer(line);
      if (r.kind === 'error') break;
      if (r.kind === 'directive' && (r.directive.key === 'syntax' || r.directive.key === 'check')) {
        directives[r.directive.key] = r.directive.value;
      }
    }
  }

  /** One instruction from a logical line; `base` is the offset of `line` in the mapped line. */
  private instruction(line: string, base: number, original: string, map: LineMap): Instruction {
    const split = splitCommand(line);
    const keyword = split.command.toLowerCase();
    const at = map.at(base + split.commandOffset);
    const inst: Instruction = {
      keyword,
      keywordRaw: split.command,
      flags: split.flags,
      args: [],
      json: false,
      heredocs: [],
      range: { start: at.line, end: at.line },
      column: at.column,
      original,
    };
    if (keyword === 'onbuild') {
      if (split.rest !== '') {
        inst.trigger = this.instruction(split.rest, base + split.restOffset, split.rest, map);
      }
      return inst;
    }
    try {
      const parsed = parseArguments(keyword, split.rest, this.escape === 0x60 ? '`' : '\\');
      inst.args = parsed.args;
      inst.json = parsed.json;
    } catch (err) {
      if (err instanceof ArgumentError) {
        const p = map.at(base + split.restOffset + err.offset);
        throw this.error(p.line, p.column, err.message);
      }
      throw err;
    }
    return inst;
  }

  /** Reads the bodies of the heredocs named on the line, if the instruction can have any. */
  private readHeredocs(inst: Instruction, line: string, map: LineMap): void {
    const target = inst.keyword === 'onbuild' && inst.trigger ? inst.trigger : inst;
    if (!HEREDOC_KEYWORDS.has(target.keyword) || target.json || !line.includes('<<')) return;
    let markers;
    try {
      markers = heredocsFromLine(line);
    } catch (err) {
      if (err instanceof HeredocSyntaxError) {
        const p = map.at(err.offset);
        throw this.error(p.line, p.column, err.message);
      }
      throw err;
    }
    if (markers.length === 0) return;
    const heredocs: Heredoc[] = [];
    for (const m of markers) {
      let content = '';
      let terminated = false;
      while (this.readLine()) {
        const candidate = this.content();
        if ((m.chomp ? stripLeadingTabs(candidate) : candidate) === m.name) {
          terminated = true;
          break;
        }
        content += this.text.slice(this.start, this.end);
      }
      if (!terminated) {
        const p = map.at(m.offset);
        throw this.error(p.line, p.column, `unterminated heredoc: expected a line ${goQuote(m.name)} (the delimiter) before the end of the file`);
      }
      heredocs.push({ name: m.name, content, expand: m.expand, chomp: m.chomp, fileDescriptor: m.fileDescriptor });
    }
    inst.heredocs = heredocs;
    if (target !== inst) target.heredocs = heredocs.map((h) => ({ ...h }));
  }
}

/**
 * Parses a Dockerfile. Bytes are decoded as UTF-8 (invalid sequences become U+FFFD); a byte
 * order mark is skipped. Throws DockerfileError.
 */
export function parseDockerfile(text: string | Uint8Array, opts: ParseOptions = {}): Dockerfile {
  let s = wellFormed(typeof text === 'string' ? text : decoder.decode(text));
  if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
  return new Parser(s, opts.file ?? 'Dockerfile').parse();
}
