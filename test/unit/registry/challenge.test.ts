import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChallenges, type Challenge } from '../../../src/registry/challenge.ts';
import { mergeScopes } from '../../../src/registry/auth.ts';

const challengeCases: { header: string | string[] | undefined; want: Challenge[] }[] = [
  { header: undefined, want: [] },
  { header: '', want: [] },
  { header: 'Basic realm="Registry Realm"', want: [{ scheme: 'basic', params: { realm: 'Registry Realm' } }] },
  {
    header: 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
    want: [{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } }],
  },
  {
    header: 'Bearer realm="https://r/token", service="r", scope="repository:a:pull,push", error="insufficient_scope"',
    want: [{ scheme: 'bearer', params: { realm: 'https://r/token', service: 'r', scope: 'repository:a:pull,push', error: 'insufficient_scope' } }],
  },
  { header: 'BEARER Realm=unquoted,Service=x', want: [{ scheme: 'bearer', params: { realm: 'unquoted', service: 'x' } }] },
  { header: 'Bearer realm="a \\"quoted\\" realm"', want: [{ scheme: 'bearer', params: { realm: 'a "quoted" realm' } }] },
  { header: 'Bearer realm="x, with comma",service="s"', want: [{ scheme: 'bearer', params: { realm: 'x, with comma', service: 's' } }] },
  {
    header: 'Basic realm="b", Bearer realm="t",service="s"',
    want: [
      { scheme: 'basic', params: { realm: 'b' } },
      { scheme: 'bearer', params: { realm: 't', service: 's' } },
    ],
  },
  {
    header: ['Basic realm="b"', 'Bearer realm="t"'],
    want: [
      { scheme: 'basic', params: { realm: 'b' } },
      { scheme: 'bearer', params: { realm: 't' } },
    ],
  },
  { header: 'Negotiate', want: [{ scheme: 'negotiate', params: {} }] },
];

for (const c of challengeCases) {
  test(`WWW-Authenticate ${JSON.stringify(c.header)}`, () => {
    assert.deepEqual(parseChallenges(c.header), c.want);
  });
}

const scopeCases: { in: string[]; want: string[] }[] = [
  { in: [], want: [] },
  { in: ['repository:a:pull'], want: ['repository:a:pull'] },
  { in: ['repository:a:push', 'repository:a:pull'], want: ['repository:a:pull,push'] },
  { in: ['repository:b:pull', 'repository:a:pull,push'], want: ['repository:a:pull,push', 'repository:b:pull'] },
  { in: ['repository:a:pull repository:b:pull'], want: ['repository:a:pull', 'repository:b:pull'] },
  { in: ['repository:host:5000/x:pull', 'repository:host:5000/x:push'], want: ['repository:host:5000/x:pull,push'] },
  { in: ['registry:catalog:*'], want: ['registry:catalog:*'] },
];

for (const c of scopeCases) {
  test(`mergeScopes ${JSON.stringify(c.in)}`, () => {
    assert.deepEqual(mergeScopes(c.in), c.want);
  });
}
