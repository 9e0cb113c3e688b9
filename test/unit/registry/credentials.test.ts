import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authKey, dockerConfigPath, readCredentials, removeCredentials, storeCredentials } from '../../../src/registry/credentials.ts';

async function withHome(fn: (env: NodeJS.ProcessEnv, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'jettison-creds-'));
  try {
    await fn({ HOME: dir, PATH: process.env.PATH }, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

test('dockerConfigPath: $DOCKER_CONFIG, else ~/.docker', () => {
  assert.equal(dockerConfigPath({ DOCKER_CONFIG: '/d', HOME: '/h' }), '/d/config.json');
  assert.equal(dockerConfigPath({ HOME: '/h' }), '/h/.docker/config.json');
});

test('authKey: Docker Hub is https://index.docker.io/v1/, others their host', () => {
  assert.equal(authKey('docker.io'), 'https://index.docker.io/v1/');
  assert.equal(authKey('index.docker.io'), 'https://index.docker.io/v1/');
  assert.equal(authKey('http://localhost:5000/'), 'localhost:5000');
});

const readCases: { name: string; auths: Record<string, object>; registry: string; want: object | undefined }[] = [
  { name: 'auth field', auths: { 'reg:5000': { auth: b64('u:p:with:colons') } }, registry: 'reg:5000', want: { username: 'u', password: 'p:with:colons' } },
  { name: 'username/password fields', auths: { 'reg:5000': { username: 'u', password: 'p' } }, registry: 'reg:5000', want: { username: 'u', password: 'p' } },
  { name: 'Docker Hub by its v1 key', auths: { 'https://index.docker.io/v1/': { auth: b64('hub:pw') } }, registry: 'docker.io', want: { username: 'hub', password: 'pw' } },
  { name: 'Docker Hub by a plain key', auths: { 'docker.io': { auth: b64('hub:pw') } }, registry: 'docker.io', want: { username: 'hub', password: 'pw' } },
  { name: 'key with scheme and path', auths: { 'http://reg:5000/v2/': { auth: b64('u:p') } }, registry: 'reg:5000', want: { username: 'u', password: 'p' } },
  { name: 'identity token', auths: { reg: { identitytoken: 'refresh' } }, registry: 'reg', want: { identityToken: 'refresh' } },
  { name: 'registry token', auths: { reg: { registrytoken: 'bearer' } }, registry: 'reg', want: { registryToken: 'bearer' } },
  { name: 'another registry only', auths: { other: { auth: b64('u:p') } }, registry: 'reg', want: undefined },
  { name: 'empty entry', auths: { reg: {} }, registry: 'reg', want: undefined },
];
for (const c of readCases) {
  test(`readCredentials: ${c.name}`, () =>
    withHome(async (env, dir) => {
      await mkdir(join(dir, '.docker'));
      await writeFile(join(dir, '.docker', 'config.json'), JSON.stringify({ auths: c.auths }));
      assert.deepEqual(await readCredentials(c.registry, env), c.want);
    }));
}

test('readCredentials: no file means anonymous; a broken file is an error naming it', () =>
  withHome(async (env, dir) => {
    assert.equal(await readCredentials('reg', env), undefined);
    await mkdir(join(dir, '.docker'));
    await writeFile(join(dir, '.docker', 'config.json'), '{ broken');
    await assert.rejects(readCredentials('reg', env), /\.docker\/config\.json: invalid docker config/);
    await writeFile(join(dir, '.docker', 'config.json'), JSON.stringify({ auths: { reg: { auth: b64('nocolon') } } }));
    await assert.rejects(readCredentials('reg', env), /invalid auth configuration/);
  }));

test('storeCredentials: creates the dir and file 0600, keeps other fields, replaces an old key for the same host', () =>
  withHome(async (env, dir) => {
    const file = await storeCredentials('http://reg:5000/', { username: 'u', password: 'p' }, env);
    assert.equal(file, join(dir, '.docker', 'config.json'));
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, '.docker'))).mode & 0o777, 0o700);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { auths: { 'reg:5000': { auth: b64('u:p') } } });

    await writeFile(file, JSON.stringify({ auths: { 'https://reg:5000/v2/': { auth: b64('old:old') }, hub: { auth: 'x' } }, currentContext: 'ctx' }), { mode: 0o644 });
    await storeCredentials('reg:5000', { username: 'new', password: 'pw' }, env);
    const text = await readFile(file, 'utf8');
    assert.match(text, /^\{\n\t"auths"/, 'tab-indented like docker');
    assert.deepEqual(JSON.parse(text), { auths: { hub: { auth: 'x' }, 'reg:5000': { auth: b64('new:pw') } }, currentContext: 'ctx' });
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(join(dir, '.docker')), ['config.json'], 'no temp files left');

    await storeCredentials('docker.io', { username: 'h', password: 'p' }, env);
    assert.ok(JSON.parse(await readFile(file, 'utf8')).auths['https://index.docker.io/v1/']);
  }));

test('removeCredentials: removes every key for the host, false when none', () =>
  withHome(async (env, dir) => {
    await mkdir(join(dir, '.docker'));
    const file = join(dir, '.docker', 'config.json');
    await writeFile(file, JSON.stringify({ auths: { 'reg:5000': { auth: 'a' }, 'http://reg:5000': { auth: 'b' }, other: { auth: 'c' } }, x: 1 }));
    assert.equal(await removeCredentials('reg:5000', env), true);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { auths: { other: { auth: 'c' } }, x: 1 });
    assert.equal(await removeCredentials('reg:5000', env), false);
  }));

test('a configured credential helper is asked (get, store, erase) through its real process', () =>
  withHome(async (env, dir) => {
    const bin = join(dir, 'bin');
    await mkdir(bin);
    const db = join(dir, 'helper-db');
    // A tiny docker-credential helper keeping one secret per server in files.
    await writeFile(
      join(bin, 'docker-credential-fake'),
      `#!/bin/sh
set -e
mkdir -p ${db}
case "$1" in
  get) server=$(cat); f="${db}/$(echo "$server" | tr '/:' '__')"; if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  store) cat > ${db}/input.json; server=$(sed 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/' ${db}/input.json); user=$(sed 's/.*"Username":"\\([^"]*\\)".*/\\1/' ${db}/input.json); secret=$(sed 's/.*"Secret":"\\([^"]*\\)".*/\\1/' ${db}/input.json); printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}' "$server" "$user" "$secret" > "${db}/$(echo "$server" | tr '/:' '__')" ;;
  erase) server=$(cat); rm "${db}/$(echo "$server" | tr '/:' '__')" ;;
esac
`,
    );
    await chmod(join(bin, 'docker-credential-fake'), 0o755);
    const henv = { ...env, PATH: `${bin}:${env.PATH}` };
    await mkdir(join(dir, '.docker'));
    const file = join(dir, '.docker', 'config.json');
    await writeFile(file, JSON.stringify({ credHelpers: { 'reg:5000': 'fake' } }));
    assert.equal(await readCredentials('reg:5000', henv), undefined, 'helper has nothing, file has nothing');
    assert.equal(await storeCredentials('reg:5000', { username: 'hu', password: 'hs' }, henv), 'docker-credential-fake');
    assert.deepEqual(await readCredentials('reg:5000', henv), { username: 'hu', password: 'hs' });
    const saved = JSON.parse(await readFile(file, 'utf8'));
    assert.deepEqual(saved.auths, { 'reg:5000': {} }, 'no secret in the file');
    assert.equal(await removeCredentials('reg:5000', henv), true);
    assert.equal(await readCredentials('reg:5000', henv), undefined);
  }));
