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
  /** Lower-case keyword: from, run, copy, … (unknown keywords are kept for the validator to name). */
  keyword: string;
  /** The keyword as written. */
  keywordRaw: string;
  /** Flags as written, e.g. "--from=build", "--link". */
  flags: string[];
  /**
   * Arguments in BuildKit's notation: ENV/LABEL as key, value, "=" | "" triples; shell form
   * RUN/CMD/ENTRYPOINT/SHELL as one string; JSON form one per element; FROM, EXPOSE, ARG and
   * non-JSON COPY/ADD/VOLUME split on whitespace; the others one string.
   */
  args: string[];
  /** True when the arguments were written in JSON (exec) form. */
  json: boolean;
  /** Heredocs attached to this instruction (RUN, COPY, ADD), in order. */
  heredocs: Heredoc[];
  /** The ONBUILD trigger, when keyword is "onbuild". */
  trigger?: Instruction;
  /** Lines of the source this instruction spans. */
  range: LineRange;
  /** Column (1-based) of the keyword on its first line. */
  column: number;
  /** The instruction's text as written, continuations joined (for messages and history). */
  original: string;
}

export interface ParserDirectives {
  syntax?: string;
  escape?: string;
  check?: string;
}

export interface ParseWarning {
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
