/**
 * Tables for the parser's building blocks (Go %q quoting, heredoc markers, chomping) and the
 * properties golden files cannot show: line-length limits in bytes, bytes vs string input,
 * error positions, the JSON form.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DockerfileError } from '../../../src/errors.ts';
import {
  chompHeredocContent,
  dockerfileToJSON,
  formatTree,
  goQuote,
  MAX_LINE_BYTES,
  parseDockerfile,
} from '../../../src/frontend/dockerfile/parser/index.ts';
import { parseHeredocWord } from '../../../src/frontend/dockerfile/parser/heredoc.ts';

test('goQuote is Go strconv.Quote', () => {
  const table: [string, string][] = [
    ['', '""'],
    ['plain text', '"plain text"'],
    ['"q" \\', '"\\"q\\" \\\\"'],
    ['\x07\b\f\n\r\t\v', '"\\a\\b\\f\\n\\r\\t\\v"'],
    ['\x00\x01\x1b\x7f', '"\\x00\\x01\\x1b\\x7f"'],
    ['é☃😀한', '"é☃😀한"'],
    ['\u00a0\u00ad\u200b\u2028\ufeff', '"\\u00a0\\u00ad\\u200b\\u2028\\ufeff"'],
    ['\u0085', '"\\u0085"'],
    ['\u{E0001}', '"\\U000e0001"'],
    ['\u{10FFFF}', '"\\U0010ffff"'],
    ['a\ud800b', '"a\uFFFDb"'],
  ];
  for (const [input, want] of table) assert.equal(goQuote(input), want, JSON.stringify(input));
});

test('chompHeredocContent strips leading tabs of every line, nothing else', () => {
  const table: [string, string][] = [
    ['', ''],
    ['\thello\n\tworld\n', 'hello\nworld\n'],
    ['\t\t a\n \tb\n', ' a\n \tb\n'],
    ['a\tb\n\t\n\t\t', 'a\tb\n\n'],
    ['\r\n\tx', '\r\nx'],
  ];
  for (const [input, want] of table) assert.equal(chompHeredocContent(input), want, JSON.stringify(input));
});

test('parseHeredocWord: markers, non-markers and delimiter quoting (BuildKit TestParseHeredocHelpers and more)', () => {
  type M = { name: string; expand: boolean; chomp: boolean; fileDescriptor: number } | null;
  const table: [string, M][] = [
    ['<<EOF', { name: 'EOF', expand: true, chomp: false, fileDescriptor: 0 }],
    ["<<'EOF'", { name: 'EOF', expand: false, chomp: false, fileDescriptor: 0 }],
    ['<<"EOF"', { name: 'EOF', expand: false, chomp: false, fileDescriptor: 0 }],
    ['<<-EOF', { name: 'EOF', expand: true, chomp: true, fileDescriptor: 0 }],
    ["<<-'EOF'", { name: 'EOF', expand: false, chomp: true, fileDescriptor: 0 }],
    ['<<-"EOF"', { name: 'EOF', expand: false, chomp: true, fileDescriptor: 0 }],
    ['12<<EOF', { name: 'EOF', expand: true, chomp: false, fileDescriptor: 12 }],
    ['<<  EOF', { name: 'EOF', expand: true, chomp: false, fileDescriptor: 0 }],
    ["<<eo'f'", { name: 'eof', expand: false, chomp: false, fileDescriptor: 0 }],
    ["<<eo\\'f", { name: "eo'f", expand: true, chomp: false, fileDescriptor: 0 }],
    ["<<'e'o\\'f", { name: "eo'f", expand: false, chomp: false, fileDescriptor: 0 }],
    ["<<'one two'", { name: 'one two', expand: false, chomp: false, fileDescriptor: 0 }],
    ['<<--EOF', { name: '-EOF', expand: true, chomp: true, fileDescriptor: 0 }],
    ['<<$EOF', { name: '$EOF', expand: true, chomp: false, fileDescriptor: 0 }],
    ['<<\ufeffEOF', { name: 'EOF', expand: true, chomp: false, fileDescriptor: 0 }],
    ['', null],
    ['EOF', null],
    ['<<', null],
    ['<<-', null],
    ['<EOF', null],
    ['<<<EOF', null],
    ['<<one two', null],
    ["<<''", null],
    ['x<<EOF', null],
  ];
  for (const [word, want] of table) assert.deepEqual(parseHeredocWord(word), want, word);
  for (const bad of ["<<'EOF", '<<"EOF', "<<EOF'", '<<EOF"']) {
    assert.throws(() => parseHeredocWord(bad), /failed to process .*unexpected end of statement/, bad);
  }
});

function parseError(text: string | Uint8Array, file?: string): DockerfileError {
  try {
    parseDockerfile(text, file === undefined ? {} : { file });
  } catch (err) {
    assert.ok(err instanceof DockerfileError, String(err));
    return err;
  }
  assert.fail('expected a DockerfileError');
}

test('lines longer than 65,535 bytes are refused where they are, counted in UTF-8 bytes', () => {
  assert.equal(MAX_LINE_BYTES, 65535);
  const ok = `FROM a\nRUN ${'x'.repeat(MAX_LINE_BYTES - 4)}\n`;
  assert.equal(parseDockerfile(ok).instructions[1].args[0].length, MAX_LINE_BYTES - 4);
  const e = parseError(`FROM a\nRUN ${'x'.repeat(MAX_LINE_BYTES - 3)}\n`, 'big/Dockerfile');
  assert.equal(e.message, 'big/Dockerfile:2:1: dockerfile line greater than max allowed size of 65535');
  assert.deepEqual(e.position, { file: 'big/Dockerfile', line: 2, column: 1 });
  // é is two bytes: 32,767 of them fit (65,534 bytes + "#"), 32,768 do not.
  assert.doesNotThrow(() => parseDockerfile(`FROM a\n#${'é'.repeat(32767)}\n`));
  assert.match(parseError(`FROM a\n#${'é'.repeat(32768)}`).message, /^Dockerfile:2:1: dockerfile line greater/);
  // A carriage return before the newline counts; the newline does not.
  assert.doesNotThrow(() => parseDockerfile(`FROM a\r\n#${'x'.repeat(MAX_LINE_BYTES - 2)}\r\n`));
  assert.throws(() => parseDockerfile(`FROM a\r\n#${'x'.repeat(MAX_LINE_BYTES - 1)}\r\n`), DockerfileError);
  // Heredoc bodies are lines too.
  assert.match(parseError(`FROM a\nRUN <<EOF\n${'y'.repeat(MAX_LINE_BYTES + 1)}\nEOF\n`).message, /^Dockerfile:3:1: dockerfile line greater/);
});

test('bytes and strings parse the same; invalid UTF-8 becomes U+FFFD; a BOM is skipped', () => {
  const text = '\ufeff# escape=`\nFROM alpine\nRUN echo `\n  héllo\n';
  const fromString = parseDockerfile(text);
  const fromBytes = parseDockerfile(new TextEncoder().encode(text));
  assert.deepEqual(fromBytes, fromString);
  assert.equal(fromString.escapeToken, '`');
  const df = parseDockerfile(Uint8Array.from([...Buffer.from('FROM a\nRUN x'), 0xff, 0xc3]));
  assert.equal(df.instructions[1].args[0], 'x\uFFFD\uFFFD');
});

test('the default file name is Dockerfile and every error names FILE:LINE:COL', () => {
  const e = parseError('FROM a\n  ENV x\n');
  assert.equal(e.message, 'Dockerfile:2:7: ENV must have two arguments');
  assert.equal(e.detail, 'ENV must have two arguments');
  assert.equal(e.code, 'DOCKERFILE');
  assert.deepEqual(parseError('', 'x/Containerfile').position, { file: 'x/Containerfile', line: 1, column: 1 });
});

test('instructions keep the keyword as written, the original text and the column', () => {
  const df = parseDockerfile('FROM a\n\t Run  echo \\\n   hi # x\n  ONBUILD   CoPy . /\n');
  const [, run, onbuild] = df.instructions;
  assert.equal(run.keyword, 'run');
  assert.equal(run.keywordRaw, 'Run');
  assert.equal(run.original, 'Run  echo    hi # x');
  assert.deepEqual([run.range, run.column], [{ start: 2, end: 3 }, 3]);
  assert.equal(onbuild.trigger?.keywordRaw, 'CoPy');
  assert.equal(onbuild.trigger?.original, 'CoPy . /');
  assert.deepEqual([onbuild.trigger?.range, onbuild.trigger?.column], [{ start: 4, end: 4 }, 13]);
  assert.deepEqual(onbuild.trigger?.args, ['.', '/']);
});

test('the JSON form is the syntax tree itself', () => {
  const df = parseDockerfile('# syntax=x\nFROM a\nRUN <<EOF\nhi\nEOF\nONBUILD RUN y\n');
  const json = dockerfileToJSON(df);
  assert.ok(json.endsWith('}\n'));
  assert.deepEqual(JSON.parse(json), df);
});

test('parsing is pure: the same input gives equal, independent trees', () => {
  const text = 'FROM a\nCOPY <<A <<B /d/\na\nA\nb\nB\n';
  const a = parseDockerfile(text);
  const b = parseDockerfile(text);
  assert.deepEqual(a, b);
  a.instructions[1].heredocs[0].content = 'changed';
  assert.equal(b.instructions[1].heredocs[0].content, 'a\n');
  assert.equal(formatTree(b), '(from "a")\n(copy "<<A" "<<B" "/d/")\n');
});
