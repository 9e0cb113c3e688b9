/** CEKit's overrides merge rules, one case per rule: base descriptor, overrides (in order), result. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyOverrides } from '../../../../src/frontend/cekit/overrides.ts';
import { parseYaml, type YMap, type YNode } from '../../../../src/frontend/cekit/yaml.ts';

function plain(n: YNode): unknown {
  if (n.kind === 'scalar') return n.text;
  if (n.kind === 'seq') return n.items.map(plain);
  return Object.fromEntries([...n.entries].map(([k, v]) => [k, plain(v)]));
}
const y = (text: string, file = 'x.yaml'): YMap => parseYaml(text, file, '/') as YMap;

const cases: { name: string; base: string; overrides: string[]; expected: unknown }[] = [
  { name: 'scalars replace', base: 'from: a\nname: n', overrides: ['from: b'], expected: { from: 'b', name: 'n' } },
  { name: 'the last override wins', base: 'from: a', overrides: ['from: b', 'from: c'], expected: { from: 'c' } },
  { name: 'plain lists replace', base: 'run: {cmd: [echo, foo]}', overrides: ['run: {cmd: [bar]}'], expected: { run: { cmd: ['bar'] } } },
  {
    name: 'mappings merge key by key',
    base: 'run: {user: 1, workdir: /w}',
    overrides: ['run: {user: 2}'],
    expected: { run: { user: '2', workdir: '/w' } },
  },
  {
    name: 'envs merge by name, new ones appended',
    base: 'envs: [{name: A, value: a}, {name: B, value: b}]',
    overrides: ['envs: [{name: B, value: B2}, {name: C, value: c}]'],
    expected: { envs: [{ name: 'A', value: 'a' }, { name: 'B', value: 'B2' }, { name: 'C', value: 'c' }] },
  },
  {
    name: 'null removes a key inside a list item',
    base: 'envs: [{name: A, value: a, description: d}]',
    overrides: ['envs: [{name: A, value: ~}]'],
    expected: { envs: [{ name: 'A', description: 'd' }] },
  },
  { name: 'null removes a top-level key', base: 'description: d\nfrom: a', overrides: ['description: null'], expected: { from: 'a' } },
  {
    name: 'labels merge by name',
    base: 'labels: [{name: a, value: "1"}]',
    overrides: ['labels: [{name: a, value: "2"}]', 'labels: [{name: b, value: "3"}]'],
    expected: { labels: [{ name: 'a', value: '2' }, { name: 'b', value: '3' }] },
  },
  {
    name: 'ports merge by value',
    base: 'ports: [{value: 8080, expose: false}, {value: 9090}]',
    overrides: ['ports: [{value: 8080, expose: true}]'],
    expected: { ports: [{ value: '8080', expose: 'True' }, { value: '9090' }] },
  },
  {
    name: 'volumes merge by name (default: basename of path)',
    base: 'volumes: [{path: /data}]',
    overrides: ['volumes: [{name: data, path: /srv/data}]'],
    expected: { volumes: [{ path: '/srv/data', name: 'data' }] },
  },
  {
    name: 'package lists append without duplicates',
    base: 'packages: {manager: dnf, install: [git], remove: [a]}',
    overrides: ['packages: {install: [make, git], remove: [b]}'],
    expected: { packages: { manager: 'dnf', install: ['git', 'make'], remove: ['a', 'b'] } },
  },
  {
    name: 'package manager replaces',
    base: 'packages: {manager: dnf, install: [git]}',
    overrides: ['packages: {manager: microdnf}'],
    expected: { packages: { manager: 'microdnf', install: ['git'] } },
  },
  {
    name: 'manager_flags: null means no flags (kept, not removed)',
    base: 'packages: {manager: dnf, manager_flags: --x}',
    overrides: ['packages: {manager_flags: ~}'],
    expected: { packages: { manager: 'dnf', manager_flags: null } },
  },
  {
    name: 'module install entries replace in place by name',
    base: 'modules: {install: [{name: a, version: "1"}, {name: b}]}',
    overrides: ['modules: {install: [{name: a, version: "2"}, {name: c}]}'],
    expected: { modules: { install: [{ name: 'a', version: '2' }, { name: 'b' }, { name: 'c' }] } },
  },
  {
    name: 'module install entry without version drops the version',
    base: 'modules: {install: [{name: a, version: "1"}]}',
    overrides: ['modules: {install: [{name: a}]}'],
    expected: { modules: { install: [{ name: 'a' }] } },
  },
  {
    name: 'module repositories merge by name',
    base: 'modules: {repositories: [{name: r, path: a}, {path: other}]}',
    overrides: ['modules: {repositories: [{name: r, path: b}]}'],
    expected: { modules: { repositories: [{ name: 'r', path: 'b' }, { path: 'other' }] } },
  },
  {
    name: 'an artifact override keeps dest and target',
    base: 'artifacts: [{name: bar.jar, dest: /tmp/destination/, url: "https://foo/original-bar.jar", target: original-bar.jar}]',
    overrides: ['artifacts: [{name: bar.jar, md5: "234234234234"}]'],
    expected: { artifacts: [{ name: 'bar.jar', md5: '234234234234', dest: '/tmp/destination/', target: 'original-bar.jar' }] },
  },
  {
    name: 'an artifact override with a new target keeps dest only',
    base: 'artifacts: [{name: bar.jar, dest: /d/, url: "https://foo/x.jar", target: x.jar, md5: aa}]',
    overrides: ['artifacts: [{name: bar.jar, path: local.jar, target: bar2222.jar}]'],
    expected: { artifacts: [{ name: 'bar.jar', path: 'local.jar', target: 'bar2222.jar', dest: '/d/' }] },
  },
  {
    name: 'artifacts match by their default name',
    base: 'artifacts: [{path: files/app.jar, md5: aa}]',
    overrides: ['artifacts: [{name: app.jar, url: "https://x/app.jar"}]'],
    expected: { artifacts: [{ name: 'app.jar', url: 'https://x/app.jar' }] },
  },
  { name: 'a new key is added', base: 'name: n', overrides: ['envs: [{name: A, value: a}]'], expected: { name: 'n', envs: [{ name: 'A', value: 'a' }] } },
];

for (const c of cases) {
  test(`overrides: ${c.name}`, () => {
    const base = y(c.base, 'image.yaml');
    const before = JSON.stringify(plain(base));
    const merged = applyOverrides(base, c.overrides.map((o, i) => y(o, `o${i}.yaml`)));
    assert.deepEqual(plain(merged), c.expected);
    assert.equal(JSON.stringify(plain(base)), before, 'the base descriptor is not modified');
  });
}

test('merged values keep the position of the file they came from', () => {
  const merged = applyOverrides(y('from: a\nname: n', 'image.yaml'), [y('\nfrom: b', 'o.yaml')]);
  assert.deepEqual(merged.entries.get('from')!.pos, { file: 'o.yaml', line: 2, column: 7 });
  assert.equal(merged.entries.get('name')!.pos.file, 'image.yaml');
});
