import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  isInsecure,
  isLoopback,
  jettisonConfigPath,
  mirrorEndpoint,
  parseMirrorFlag,
  registryEndpoint,
  registryHostOf,
  resolveRegistryConfig,
} from '../../../src/registry/config.ts';

const hostCases: [string, string][] = [
  ['docker.io', 'docker.io'],
  ['index.docker.io', 'docker.io'],
  ['registry-1.docker.io', 'docker.io'],
  ['https://index.docker.io/v1/', 'docker.io'],
  ['http://127.0.0.1:5000', '127.0.0.1:5000'],
  ['http://127.0.0.1:5000/v2/', '127.0.0.1:5000'],
  ['Quay.IO', 'quay.io'],
  ['myreg.local:5000/', 'myreg.local:5000'],
  ['[::1]:5000', '[::1]:5000'],
];
for (const [input, want] of hostCases) {
  test(`registryHostOf(${input}) = ${want}`, () => assert.equal(registryHostOf(input), want));
}

const endpointCases: { registry: string; insecure?: string[]; want: string }[] = [
  { registry: 'docker.io', want: 'https://registry-1.docker.io/' },
  { registry: 'quay.io', want: 'https://quay.io/' },
  { registry: 'localhost:5000', want: 'http://localhost:5000/' },
  { registry: 'localhost', want: 'http://localhost/' },
  { registry: '127.0.0.1:5000', want: 'http://127.0.0.1:5000/' },
  { registry: '127.1.2.3:8080', want: 'http://127.1.2.3:8080/' },
  { registry: '[::1]:5000', want: 'http://[::1]:5000/' },
  { registry: 'myreg.local:5000', want: 'https://myreg.local:5000/' },
  { registry: 'myreg.local:5000', insecure: ['myreg.local:5000'], want: 'http://myreg.local:5000/' },
  { registry: 'myreg.local:5000', insecure: ['myreg.local'], want: 'http://myreg.local:5000/' },
  { registry: 'myreg.local:5000', insecure: ['myreg.local:6000'], want: 'https://myreg.local:5000/' },
  { registry: '128.0.0.1:5000', want: 'https://128.0.0.1:5000/' },
];
for (const c of endpointCases) {
  test(`registryEndpoint(${c.registry}, insecure=${JSON.stringify(c.insecure ?? [])})`, () => {
    assert.equal(registryEndpoint(c.registry, { insecureRegistries: c.insecure ?? [] }).href, c.want);
  });
}

test('isLoopback and isInsecure', () => {
  assert.equal(isLoopback('localhost:1'), true);
  assert.equal(isLoopback('127.0.0.1'), true);
  assert.equal(isLoopback('::1'), true);
  assert.equal(isLoopback('localhost.example.com'), false);
  assert.equal(isInsecure('reg:1', { insecureRegistries: ['REG:1'] }), true);
});

const mirrorCases: { flag: string; want?: { registry: string; mirror: string; url: string }; error?: RegExp }[] = [
  { flag: 'docker.io=http://127.0.0.1:5000', want: { registry: 'docker.io', mirror: 'http://127.0.0.1:5000', url: 'http://127.0.0.1:5000/' } },
  { flag: 'index.docker.io=https://mirror.example.com/', want: { registry: 'docker.io', mirror: 'https://mirror.example.com/', url: 'https://mirror.example.com/' } },
  { flag: 'docker.io=mirror.example.com', want: { registry: 'docker.io', mirror: 'mirror.example.com', url: 'https://mirror.example.com/' } },
  { flag: 'docker.io=localhost:5000', want: { registry: 'docker.io', mirror: 'localhost:5000', url: 'http://localhost:5000/' } },
  { flag: 'docker.io=http://m:5000/v2/', want: { registry: 'docker.io', mirror: 'http://m:5000/v2/', url: 'http://m:5000/' } },
  { flag: 'docker.io=https://m/prefix/', want: { registry: 'docker.io', mirror: 'https://m/prefix/', url: 'https://m/prefix' } },
  { flag: 'docker.io', error: /expected REGISTRY=MIRROR/ },
  { flag: '=http://x', error: /expected REGISTRY=MIRROR/ },
  { flag: 'docker.io=', error: /expected REGISTRY=MIRROR/ },
];
for (const c of mirrorCases) {
  test(`--registry-mirror ${c.flag}`, () => {
    if (c.error) {
      assert.throws(() => parseMirrorFlag(c.flag), c.error);
      return;
    }
    const got = parseMirrorFlag(c.flag);
    assert.deepEqual(got, { registry: c.want!.registry, mirror: c.want!.mirror });
    assert.equal(mirrorEndpoint(got.mirror, { insecureRegistries: [] }).href, c.want!.url);
  });
}

test('mirrorEndpoint refuses other schemes', () => {
  assert.throws(() => mirrorEndpoint('ftp://m', { insecureRegistries: [] }), /expected an http:\/\/ or https:\/\/ URL/);
});

test('jettisonConfigPath: $JETTISON_CONFIG, then $XDG_CONFIG_HOME, then ~/.config', () => {
  assert.equal(jettisonConfigPath({ JETTISON_CONFIG: '/a/b.json', XDG_CONFIG_HOME: '/x', HOME: '/h' }), '/a/b.json');
  assert.equal(jettisonConfigPath({ XDG_CONFIG_HOME: '/x', HOME: '/h' }), '/x/jettison/config.json');
  assert.equal(jettisonConfigPath({ HOME: '/h' }), '/h/.config/jettison/config.json');
});

const fileCases: { name: string; content?: string; flags?: { insecureRegistries?: string[]; registryMirrors?: string[] }; want?: object; error?: RegExp }[] = [
  { name: 'no file', want: { insecureRegistries: [], mirrors: {} } },
  {
    name: 'file and flags merged, flags first',
    content: JSON.stringify({ insecureRegistries: ['a.local:5000'], registryMirrors: { 'index.docker.io': ['http://m1'] } }),
    flags: { insecureRegistries: ['b.local'], registryMirrors: ['docker.io=http://m0'] },
    want: { insecureRegistries: ['b.local', 'a.local:5000'], mirrors: { 'docker.io': ['http://m0', 'http://m1'] } },
  },
  { name: 'a single mirror string is accepted', content: JSON.stringify({ registryMirrors: { 'quay.io': 'http://q' } }), want: { insecureRegistries: [], mirrors: { 'quay.io': ['http://q'] } } },
  { name: 'invalid JSON', content: '{ nope', error: /config\.json: invalid JSON/ },
  { name: 'not an object', content: '[]', error: /expected a JSON object/ },
  { name: 'bad insecureRegistries', content: JSON.stringify({ insecureRegistries: 'x' }), error: /"insecureRegistries" must be an array/ },
  { name: 'bad registryMirrors', content: JSON.stringify({ registryMirrors: ['x'] }), error: /"registryMirrors" must be an object/ },
  { name: 'bad mirror URL', content: JSON.stringify({ registryMirrors: { 'docker.io': ['ftp://x'] } }), error: /invalid registry mirror "ftp:\/\/x"/ },
];
for (const c of fileCases) {
  test(`resolveRegistryConfig: ${c.name}`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jettison-cfg-'));
    try {
      await mkdir(join(dir, 'jettison'));
      if (c.content !== undefined) await writeFile(join(dir, 'jettison', 'config.json'), c.content);
      const run = resolveRegistryConfig(c.flags ?? {}, { XDG_CONFIG_HOME: dir, HOME: dir });
      if (c.error) {
        await assert.rejects(run, c.error);
        return;
      }
      const got = await run;
      assert.deepEqual({ insecureRegistries: got.insecureRegistries, mirrors: got.mirrors }, c.want);
      assert.equal(got.configFile, c.content === undefined ? undefined : join(dir, 'jettison', 'config.json'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
