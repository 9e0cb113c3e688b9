import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGitUrl } from '../../../src/context/source.ts';

// [context argument, expected git source or undefined for a local path]
const cases: [string, ReturnType<typeof parseGitUrl>][] = [
  ['.', undefined],
  ['./app', undefined],
  ['/srv/app', undefined],
  ['https://example.com/app', undefined],
  ['https://example.com/app.git', { url: 'https://example.com/app.git' }],
  ['https://example.com/app.git#v1.2', { url: 'https://example.com/app.git', ref: 'v1.2' }],
  ['https://example.com/app.git#main:docker/build', { url: 'https://example.com/app.git', ref: 'main', subdir: 'docker/build' }],
  ['https://example.com/app.git#:sub', { url: 'https://example.com/app.git', subdir: 'sub' }],
  ['git@github.com:org/repo.git#dev', { url: 'git@github.com:org/repo.git', ref: 'dev' }],
  ['git://host/repo', { url: 'git://host/repo' }],
  ['ssh://git@host/repo.git', { url: 'ssh://git@host/repo.git' }],
  ['github.com/org/repo', { url: 'https://github.com/org/repo' }],
  ['file:///srv/repos/app.git#feature:ctx', { url: 'file:///srv/repos/app.git', ref: 'feature', subdir: 'ctx' }],
];

for (const [spec, expected] of cases) {
  test(`context ${spec}`, () => assert.deepEqual(parseGitUrl(spec), expected));
}
