import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PatternMatcher, parseIgnoreFile } from '../../../src/context/patterns.ts';
import { matchComponent } from '../../../src/context/scoped-path.ts';

// [patterns, path, ignored?] — moby/patternmatcher semantics (parent directories match too; last match wins).
const cases: [string[], string, boolean][] = [
  [['*.md'], 'README.md', true],
  [['*.md'], 'docs/README.md', false],
  [['**/*.md'], 'docs/README.md', true],
  [['**/*.md'], 'README.md', true],
  [['docs'], 'docs/a/b.txt', true],
  [['docs/'], 'docs/a/b.txt', true],
  [['/docs'], 'docs', true],
  [['./docs'], 'docs/x', true],
  [['node_modules'], 'src/node_modules/x', false],
  [['**/node_modules'], 'src/node_modules/x', true],
  [['*', '!keep.txt'], 'keep.txt', false],
  [['*', '!keep.txt'], 'drop.txt', true],
  [['*.txt', '!important*.txt', 'importantnot.txt'], 'importantnot.txt', true],
  [['*.txt', '!important*.txt'], 'important1.txt', false],
  [['a?c'], 'abc', true],
  [['a?c'], 'a/c', false],
  [['[a-c]x'], 'bx', true],
  [['[a-c]x'], 'dx', false],
  [['a\\*b'], 'a*b', true],
  [['a\\*b'], 'axb', false],
  [['dir/**'], 'dir/a/b/c', true],
  [['dir/**'], 'dir', false],
  [['dir/**/x'], 'dir/x', true],
  [['dir/**/x'], 'dir/a/b/x', true],
  [['a.b'], 'aXb', false],
  [['(x)'], '(x)', true],
  [['**'], 'anything/at/all', true],
  [['Dockerfile', '.dockerignore'], 'Dockerfile', true],
  [['my-*.txt'], 'my-file.txt', true],
  [['a-b/c'], 'a-b/c', true],
  [['x[a-c]-y'], 'xb-y', true],
];

for (const [patterns, path, expected] of cases) {
  test(`${JSON.stringify(patterns)} ${expected ? 'ignores' : 'keeps'} ${path}`, () => {
    assert.equal(new PatternMatcher(patterns).matches(path), expected);
  });
}

test('parseIgnoreFile trims, skips comments and blanks, cleans, keeps exceptions', () => {
  const text = '# comment\n\n  *.log  \n!  keep.log\n/abs/path/\n./rel\nsub/../top\n';
  assert.deepEqual(parseIgnoreFile(text), ['*.log', '!keep.log', 'abs/path', 'rel', 'top']);
});

test('canSkipDir only when no exception could re-include below the directory', () => {
  assert.equal(new PatternMatcher(['build']).canSkipDir('build'), true);
  assert.equal(new PatternMatcher(['build', '!build/keep']).canSkipDir('build'), false);
  assert.equal(new PatternMatcher(['build', '!other']).canSkipDir('build'), true);
  assert.equal(new PatternMatcher(['build', '!*.c']).canSkipDir('build'), false);
});

// COPY source wildcards (filepath.Match on one component): [pattern, name, matches?]
const components: [string, string, boolean][] = [
  ['my-*.txt', 'my-file.txt', true],
  ['my-*.txt', 'your-file.txt', false],
  ['*.c', 'main.c', true],
  ['?.c', 'ab.c', false],
  ['[a-c]-[!x]', 'b-y', true],
  ['[a-c]-[!x]', 'b-x', false],
  ['a\\*b', 'a*b', true],
  ['(x)+{y}$', '(x)+{y}$', true],
];
for (const [pattern, name, expected] of components) {
  test(`COPY wildcard ${pattern} ${expected ? 'matches' : 'does not match'} ${name}`, () => assert.equal(matchComponent(pattern, name), expected));
}
