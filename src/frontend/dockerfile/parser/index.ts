/**
 * The Dockerfile parser: text → syntax tree (see ast.ts), with BuildKit's `dockerfile:1` parser
 * semantics, and the tree's printable forms.
 */
export type * from './ast.ts';
export { parseDockerfile, MAX_LINE_BYTES, type ParseOptions } from './parser.ts';
export { chompHeredocContent } from './heredoc.ts';
export { formatTree, formatInstruction, dockerfileToJSON } from './format.ts';
export { goQuote } from './quote.ts';
