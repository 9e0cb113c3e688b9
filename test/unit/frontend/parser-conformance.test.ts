/**
 * BuildKit's own parser test vectors (../shared/conformance/buildkit, when present): every
 * testfiles case must print its `result` exactly, every testfiles-negative case must be refused
 * with a DockerfileError, testfile-line must give BuildKit's line ranges, and heredoc-extract
 * must give BuildKit's heredocs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DockerfileError } from '../../../src/errors.ts';
import { formatTree, parseDockerfile } from '../../../src/frontend/dockerfile/parser/index.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ROOT = resolve(REPO, '..', 'shared', 'conformance', 'buildkit');
const present = existsSync(ROOT);
const skip = present ? false : `no conformance data at ${ROOT}`;

function cases(dir: string): string[] {
  const p = join(ROOT, dir);
  return existsSync(p) ? readdirSync(p).sort() : [];
}

test('conformance: parser testfiles print their result', { skip }, () => {
  const names = cases('parser/testfiles');
  assert.ok(names.length > 20, `only ${names.length} cases`);
  for (const name of names) {
    const dir = join(ROOT, 'parser/testfiles', name);
    const df = parseDockerfile(readFileSync(join(dir, 'Dockerfile')), { file: `${name}/Dockerfile` });
    assert.equal(formatTree(df), readFileSync(join(dir, 'result'), 'utf8'), `case ${name}`);
  }
});

test('conformance: parser testfiles-negative are refused with a DockerfileError', { skip }, () => {
  const names = cases('parser/testfiles-negative');
  assert.ok(names.length > 0);
  for (const name of names) {
    const input = readFileSync(join(ROOT, 'parser/testfiles-negative', name, 'Dockerfile'));
    assert.throws(
      () => parseDockerfile(input, { file: `${name}/Dockerfile` }),
      (err: unknown) => err instanceof DockerfileError && new RegExp(`^${name}/Dockerfile:\\d+:\\d+: \\S`).test(err.message),
      `case ${name}`,
    );
  }
});

test('conformance: testfile-line line ranges', { skip }, () => {
  const df = parseDockerfile(readFileSync(join(ROOT, 'parser/testfile-line/Dockerfile')));
  assert.deepEqual(
    df.instructions.map((i) => [i.range.start, i.range.end]),
    [
      [5, 5],
      [11, 12],
      [17, 31],
    ],
  );
});

test('conformance: heredoc-extract', { skip }, () => {
  const dir = join(ROOT, 'heredoc-extract');
  const df = parseDockerfile(readFileSync(join(dir, 'Dockerfile')));
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')).expected as {
    comment: string;
    heredocs: { Name: string; Content: string; Expand: boolean; Chomp: boolean; FileDescriptor: number }[] | null;
  }[];
  assert.equal(df.instructions[0].keyword, 'from');
  assert.equal(df.instructions.length, expected.length + 1);
  expected.forEach((e, i) => {
    const got = df.instructions[i + 1].heredocs.map((h) => ({
      Name: h.name,
      Content: h.content,
      Expand: h.expand,
      Chomp: h.chomp,
      FileDescriptor: h.fileDescriptor,
    }));
    assert.deepEqual(got, e.heredocs ?? [], `instruction ${i + 1} (${e.comment})`);
  });
});
