/**
 * Word expansion: BuildKit's own shell vectors (when /work/shared/conformance is present) and a
 * table of our own cases for the forms the vectors do not cover (pattern trimming, replacement,
 * the backtick escape token, usage reporting).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ExpansionError } from '../../../src/errors.ts';
import { expandWithUsage, expandWord, expandWords } from '../../../src/frontend/dockerfile/shell/lex.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const conformance = join(root, '..', 'shared', 'conformance', 'buildkit', 'shell');

describe('BuildKit envVarTest', { skip: !existsSync(join(conformance, 'envVarTest')) && 'conformance data absent' }, () => {
  const env = { PWD: '/home', SHELL: 'bash', KOREAN: '한국어', NULL: '' };
  const lines = existsSync(join(conformance, 'envVarTest')) ? readFileSync(join(conformance, 'envVarTest'), 'utf8').split('\n') : [];
  for (const [i, line] of lines.entries()) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const parts = line.split('|');
    const platform = parts[0].trim();
    if (platform === 'W') continue;
    const input = parts[1].trim();
    const expected = parts[2].trim();
    it(`line ${i + 1}: ${input}`, () => {
      if (expected === 'error') {
        assert.throws(() => expandWord(input, env), ExpansionError);
      } else {
        assert.equal(expandWord(input, env), expected);
      }
    });
  }
});

describe('BuildKit wordsTest', { skip: !existsSync(join(conformance, 'wordsTest')) && 'conformance data absent' }, () => {
  const lines = existsSync(join(conformance, 'wordsTest')) ? readFileSync(join(conformance, 'wordsTest'), 'utf8').split('\n') : [];
  const env: Record<string, string> = {};
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    if (line.startsWith('ENV ')) {
      const kv = line.slice(4);
      const eq = kv.indexOf('=');
      env[kv.slice(0, eq)] = kv.slice(eq + 1);
      continue;
    }
    const snapshot = { ...env };
    const bar = line.indexOf('|');
    const input = line.slice(0, bar).trim();
    const expected = line.slice(bar + 1).replace(/^ +/, '');
    it(`line ${i + 1}: ${input}`, () => {
      if (expected === 'error') {
        assert.throws(() => expandWords(input, snapshot), ExpansionError);
      } else {
        assert.deepEqual(expandWords(input, snapshot), expected.split(','));
      }
    });
  }
});

// [input, expected value or Error message fragment, env?]
const ENV = { A: 'hello/world/file.tar.gz', E: '', N: 'x y', P: '/usr/local/bin:/usr/bin' };
const valueCases: [string, string | RegExp][] = [
  ['${A#*/}', 'world/file.tar.gz'],
  ['${A##*/}', 'file.tar.gz'],
  ['${A%.*}', 'hello/world/file.tar'],
  ['${A%%.*}', 'hello/world/file'],
  ['${A#nomatch}', 'hello/world/file.tar.gz'],
  ['${A%/*}', 'hello/world'],
  ['${A%%/*}', 'hello'],
  ['${A#h?llo}', '/world/file.tar.gz'],
  ['${A/o/0}', 'hell0/world/file.tar.gz'],
  ['${A//o/0}', 'hell0/w0rld/file.tar.gz'],
  ['${A//\\//-}', 'hello-world-file.tar.gz'],
  ['${A/*\\//}', 'file.tar.gz'],
  ['${P//:/ }', '/usr/local/bin /usr/bin'],
  ['${UNSET/x/y}', ''],
  ['${A/$/x}', 'hello/world/file.tar.gz'],
  ['${A/./x}', 'hello/world/filextar.gz'],
  ['${A#*\\*}', 'hello/world/file.tar.gz'],
  ['${E-default}', ''],
  ['${E:-default}', 'default'],
  ['${E+set}', 'set'],
  ['${E:+set}', ''],
  ['${UNSET?custom message}', /UNSET: custom message/],
  ['${E:?}', /E: is not allowed to be empty/],
  ['${A:=x}', /unsupported modifier \(:=\) in substitution/],
  ['${A^^}', /unsupported modifier \(\^\) in substitution/],
  ['${A', /syntax error: missing '}'/],
  ['${A/x', /syntax error: missing '\/' in \$\{\}/],
  ['${A/x/y', /syntax error: missing '}'/],
  ['${}', /bad substitution/],
  ['${A#\\x}', /invalid escape/],
  ['"unterminated', /failed to process "\\"unterminated": unexpected end of statement while looking for matching double-quote/],
  ['$1$@$#$?$$$!$0$-$*', ''],
  ['a\\ b', 'a b'],
  ['$N', 'x y'],
];

describe('expansion table', () => {
  for (const [input, expected] of valueCases) {
    it(input, () => {
      if (typeof expected === 'string') assert.equal(expandWord(input, ENV), expected);
      else assert.throws(() => expandWord(input, ENV), (e: unknown) => e instanceof ExpansionError && expected.test(e.message));
    });
  }
});

describe('backtick escape token', () => {
  const cases: [string, string][] = [
    ['C:\\Users\\x', 'C:\\Users\\x'],
    ['a`$A', 'a$A'],
    ['"a`"b"', 'a"b'],
    ['`', ''],
    ['a``b', 'a`b'],
  ];
  for (const [input, expected] of cases) {
    it(input, () => assert.equal(expandWord(input, ENV, { escapeToken: '`' }), expected));
  }
});

describe('field splitting', () => {
  const cases: [string, string[]][] = [
    ['$N z', ['x', 'y', 'z']],
    ['"$N" z', ['x y', 'z']],
    ['a\\ b c', ['a b', 'c']],
    ['', []],
    ["'' x", ['x']],
  ];
  for (const [input, expected] of cases) {
    it(input, () => assert.deepEqual(expandWords(input, ENV), expected));
  }
});

describe('usage reporting', () => {
  it('reports used and unset variables in first-use order', () => {
    const r = expandWithUsage('$A ${B:-$E} ${C+x} $A', ENV);
    assert.deepEqual(r.used, ['A', 'E']);
    assert.deepEqual(r.unset, ['B', 'C']);
  });
  it('treats quotes as text when asked (heredoc bodies)', () => {
    assert.equal(expandWithUsage(`'$N' "$N"`, ENV, { skipQuotes: true }).value, `'x y' "x y"`);
  });
  it('is case-sensitive', () => {
    assert.equal(expandWord('$n', ENV), '');
  });
});
