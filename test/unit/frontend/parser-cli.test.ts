/** `jettison parse`: real files in a temporary directory, standard input, both formats, errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'jettison-parse-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const DOCKERFILE = 'FROM alpine AS build\nRUN --mount=type=cache,target=/c echo \\\n\n  hi\nCOPY <<EOF /x\nbody\nEOF\n';

test('parse prints the tree notation by default, relative to the working directory', async () => {
  writeFileSync(join(dir, 'Dockerfile'), DOCKERFILE);
  const r = await runCli(['parse', 'Dockerfile'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '(from "alpine" "AS" "build")\n(run ["--mount=type=cache,target=/c"] "echo   hi")\n(copy "<<EOF" "/x")\n');
  assert.equal(r.stderr, 'warning: Dockerfile:4: Empty continuation line found in: RUN --mount=type=cache,target=/c echo   hi\n');
});

test('parse --format json prints the syntax tree as JSON', async () => {
  writeFileSync(join(dir, 'json.Dockerfile'), DOCKERFILE);
  const r = await runCli(['parse', '--format', 'json', join(dir, 'json.Dockerfile')]);
  assert.equal(r.code, 0, r.stderr);
  const df = JSON.parse(r.stdout);
  assert.equal(df.file, join(dir, 'json.Dockerfile'));
  assert.deepEqual(
    df.instructions.map((i: { keyword: string; range: { start: number; end: number } }) => [i.keyword, i.range.start, i.range.end]),
    [
      ['from', 1, 1],
      ['run', 2, 4],
      ['copy', 5, 7],
    ],
  );
  assert.deepEqual(df.instructions[2].heredocs, [{ name: 'EOF', content: 'body\n', expand: true, chomp: false, fileDescriptor: 0 }]);
});

test('parse - reads standard input', async () => {
  const r = await runCli(['parse', '-'], { stdin: 'FROM a\nCMD ["x"]\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '(from "a")\n(cmd "x")\n');
});

test('a bad Dockerfile exits 1 with FILE:LINE:COL and prints no tree', async () => {
  writeFileSync(join(dir, 'bad'), 'FROM a\nRUN ["x", 1]\n');
  const r = await runCli(['parse', 'bad'], { cwd: dir });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'error: bad:2:5: when using JSON array syntax, arrays must be comprised of strings only\n');
});

test('a missing file and an unknown format are errors', async () => {
  const missing = await runCli(['parse', 'nope'], { cwd: dir });
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'error: cannot read nope: no such file\n');
  const format = await runCli(['parse', '--format', 'yaml', 'Dockerfile'], { cwd: dir });
  assert.equal(format.code, 2);
  assert.match(format.stderr, /Allowed choices are tree, json/);
});
