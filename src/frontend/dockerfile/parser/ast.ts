/**
 * The Dockerfile syntax tree: what the parser produces and every later phase reads.
 * It is the same shape as BuildKit's parser.Node, flattened into one node per instruction.
 * No variable expansion has happened yet.
 */

/** 1-based, inclusive line range of one instruction in the source (continuations included). */
export interface LineRange {
  start: number;
  end: number;
}

export interface Heredoc {
  /** The delimiter word, unquoted (EOF in <<"EOF"). */
  name: string;
  /** The body as written, lines joined with \n and ending in \n when not empty; chomp not applied. */
  content: string;
  /** False when the delimiter was quoted: no expansion of the body. */
  expand: boolean;
  /** True for <<-: leading tabs are stripped (see chompHeredocContent). */
  chomp: boolean;
  /** N in N<<EOF, 0 when not given. */
  fileDescriptor: number;
}

export interface Instruction {
  /**
   * Lower-case keyword: from, run, copy, … (unknown keywords are kept for the validator to name).
   * Empty for a logical line that held only a line continuation (`\` alone before the end of the
   * file): BuildKit keeps that too, and its validator rejects it as an unknown instruction.
   */
  keyword: string;
  /** The keyword as written. */
  keywordRaw: string;
  /** Flags as written, e.g. "--from=build", "--link". */
  flags: string[];
  /**
   * Arguments in BuildKit's notation: ENV/LABEL as key, value, "=" | "" triples; shell form
   * RUN/CMD/ENTRYPOINT/SHELL as one string; JSON form one per element; FROM, EXPOSE, ARG and
   * non-JSON COPY/ADD/VOLUME split on whitespace; the others one string. Empty for unknown
   * keywords (BuildKit drops their arguments; the tree notation prints one empty string).
   */
  args: string[];
  /** True when the arguments were written in JSON (exec) form. */
  json: boolean;
  /**
   * Heredocs attached to this instruction (RUN, COPY, ADD), in order. For `ONBUILD RUN <<EOF` they
   * are on the ONBUILD instruction (as in BuildKit) and, as a copy, on its trigger.
   */
  heredocs: Heredoc[];
  /** The ONBUILD trigger, when keyword is "onbuild". */
  trigger?: Instruction;
  /** Lines of the source this instruction spans. */
  range: LineRange;
  /**
   * Column (1-based, in UTF-16 code units) of the keyword. It is on line range.start except when
   * that line held only a continuation, or for an ONBUILD trigger written on a later line.
   */
  column: number;
  /** The instruction's text as written, continuations joined (for messages and history). */
  original: string;
}

/**
 * Directives from the leading comment block. After a `#!` first line, `escape` is no longer
 * recognised but `syntax` and `check` still are (BuildKit's parser and its syntax/check detection
 * differ there).
 */
export interface ParserDirectives {
  syntax?: string;
  escape?: string;
  check?: string;
}

export interface ParseWarning {
  /** For "Empty continuation line found in: …" (NoEmptyContinuation), the last line of the instruction, as BuildKit reports it. */
  line: number;
  message: string;
}

export interface Dockerfile {
  /** The name used in messages (the path given, or "Dockerfile"). */
  file: string;
  directives: ParserDirectives;
  /** The escape character in force: "\\" or "`". */
  escapeToken: '\\' | '`';
  instructions: Instruction[];
  warnings: ParseWarning[];
}
