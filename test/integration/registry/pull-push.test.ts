/**
 * Push and pull against a real docker-registry in each auth mode (anonymous, htpasswd Basic, bearer
 * tokens), plus multi-platform indexes, Docker schema 2 manifests, pulls by digest, cross-repository
 * mounts, and the errors users see for missing images and refused credentials.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryError } from '../../../src/errors.ts';
import { createIndex } from '../../../src/image/manifest.ts';
import { hostPlatform } from '../../../src/image/platform.ts';
import { MediaType, type Descriptor } from '../../../src/image/types.ts';
import { pullImage, pushImage, resolveRegistryConfig, type RegistryConfig, type TransferEvent } from '../../../src/registry/index.ts';
import { startRegistry, type TestRegistry } from '../../support/registry.ts';
import { makeImage, tempDir, tempStore, treeListing, unpackLayers } from './helpers.ts';

async function configWith(creds: { host: string; username?: string; password?: string } | undefined): Promise<RegistryConfig> {
  const dockerDir = await mkdtemp(join(tmpdir(), 'jettison-dockercfg-'));
  if (creds?.username) {
    const auth = Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
    await writeFile(join(dockerDir, 'config.json'), JSON.stringify({ auths: { [creds.host]: { auth } } }));
  }
  return resolveRegistryConfig({}, { ...process.env, DOCKER_CONFIG: dockerDir, JETTISON_CONFIG: join(dockerDir, 'none.json') });
}

const FAST = { retryDelayMs: 10 };

for (const auth of ['none', 'basic', 'token'] as const) {
  describe(`registry with auth=${auth}`, () => {
    let reg: TestRegistry;
    let config: RegistryConfig;
    before(async () => {
      reg = await startRegistry({ auth });
      config = await configWith({ host: reg.host, username: reg.username, password: reg.password });
    });
    after(async () => reg?.stop());

    test('push then pull gives the same image, digest for digest and file for file', async () => {
      const a = await tempStore();
      const b = await tempStore();
      const dirs = await tempDir();
      try {
        const img = await makeImage(a.store, 'local/app:1', [
          { 'etc/os-release': 'NAME=test\n', 'bin/tool': '#!/bin/sh\necho hi\n' },
          { 'app/data.txt': 'layer two\n', 'app/sub/deep.txt': 'deep\n' },
          { 'app/data.txt': 'overwritten in layer three\n' },
        ]);
        const pushed = await pushImage(`${reg.host}/team/app:1`, { store: a.store, source: 'local/app:1', config, ...FAST });
        assert.equal(pushed.digest, img.manifest.digest);
        assert.deepEqual(pushed.blobs.map((x) => x.outcome), ['pushed', 'pushed', 'pushed', 'pushed']);

        const events: TransferEvent[] = [];
        const pulled = await pullImage(`${reg.host}/team/app:1`, { store: b.store, config, onProgress: (e) => events.push(e), ...FAST });
        assert.equal(pulled.name, `${reg.host}/team/app:1`);
        assert.equal(pulled.digest, img.manifest.digest);
        assert.deepEqual(pulled.layers.map((l) => l.digest), img.layers.map((l) => l.digest));
        assert.equal(pulled.config.digest, img.config.digest);
        const rec = await b.store.getRef(`${reg.host}/team/app:1`);
        assert.equal(rec?.target.digest, img.manifest.digest);
        for (const l of img.layers) {
          assert.ok(events.some((e) => e.id === l.digest && e.action === 'done' && e.current === l.size), `done event for ${l.digest}`);
        }

        await unpackLayers(a.store, img.layers, join(dirs.path, 'a'));
        await unpackLayers(b.store, pulled.layers, join(dirs.path, 'b'));
        const listing = await treeListing(join(dirs.path, 'b'));
        assert.deepEqual(listing, await treeListing(join(dirs.path, 'a')));
        assert.ok(listing.some((l) => l.startsWith('app/data.txt file') && l.includes(' 27 ')), 'the top layer wins');

        // Pulling again transfers nothing.
        const again: TransferEvent[] = [];
        const second = await pullImage(`${reg.host}/team/app:1`, { store: b.store, config, onProgress: (e) => again.push(e), ...FAST });
        assert.equal(second.downloaded, 0);
        assert.equal(again.filter((e) => e.action === 'exists').length, 4);

        // By digest: the ref is named by the digest.
        const c = await tempStore();
        try {
          const byDigest = await pullImage(`${reg.host}/team/app@${img.manifest.digest}`, { store: c.store, config, ...FAST });
          assert.equal(byDigest.name, `${reg.host}/team/app@${img.manifest.digest}`);
          assert.equal((await c.store.getRef(byDigest.name))?.target.digest, img.manifest.digest);
        } finally {
          await c.cleanup();
        }

        // Pushing what was pulled to another repository mounts every blob instead of uploading.
        const other = await pushImage(`${reg.host}/other/copy:2`, { store: b.store, source: `${reg.host}/team/app:1`, config, ...FAST });
        assert.deepEqual(other.blobs.map((x) => x.outcome).sort(), ['mounted', 'mounted', 'mounted', 'mounted']);
        assert.equal(other.uploaded, 0);
        // And pushing it again finds everything there.
        const same = await pushImage(`${reg.host}/other/copy:3`, { store: b.store, source: `${reg.host}/team/app:1`, config, ...FAST });
        assert.deepEqual(same.blobs.map((x) => x.outcome), ['exists', 'exists', 'exists', 'exists']);
      } finally {
        await Promise.all([a.cleanup(), b.cleanup(), dirs.cleanup()]);
      }
    });

    test('a missing tag is "not found" with the reference', async () => {
      const s = await tempStore();
      try {
        await assert.rejects(pullImage(`${reg.host}/team/nothing:here`, { store: s.store, config, ...FAST }), (err: unknown) => {
          assert.ok(err instanceof RegistryError);
          assert.equal(err.code, 'NOT_FOUND');
          assert.equal(err.message, `${reg.host}/team/nothing:here: not found`);
          return true;
        });
        assert.equal(await s.store.getRef(`${reg.host}/team/nothing:here`), undefined);
      } finally {
        await s.cleanup();
      }
    });

    if (auth !== 'none') {
      test('wrong credentials are refused with a clear message', async () => {
        const s = await tempStore();
        try {
          await makeImage(s.store, 'local/denied:1', [{ f: 'x' }]);
          const bad = await configWith({ host: reg.host, username: reg.username, password: 'wrong' });
          await assert.rejects(pushImage(`${reg.host}/team/denied:1`, { store: s.store, source: 'local/denied:1', config: bad, ...FAST }), (err: unknown) => {
            assert.ok(err instanceof RegistryError, String(err));
            assert.equal(err.code, 'UNAUTHORIZED');
            if (auth === 'token') assert.match(err.message, /^failed to authorize: failed to fetch oauth token: unexpected status from GET request to http:\/\/127\.0\.0\.1:\d+\/token: 401 Unauthorized$/);
            else assert.match(err.message, /^failed to push .*: server message: unauthorized: authentication required$/);
            return true;
          });
          const anonymous = await configWith(undefined);
          await assert.rejects(pullImage(`${reg.host}/team/denied:1`, { store: s.store, config: anonymous, ...FAST }), (err: unknown) => {
            assert.ok(err instanceof RegistryError, String(err));
            assert.equal(err.code, auth === 'token' ? 'NOT_FOUND' : 'UNAUTHORIZED');
            if (auth === 'basic') {
              assert.equal(err.message, 'pull access denied, repository does not exist or may require authorization: server message: unauthorized: authentication required');
            }
            return true;
          });
        } finally {
          await s.cleanup();
        }
      });
    }
  });
}

describe('token auth details', () => {
  test('anonymous callers get pull only: an anonymous push is denied, pulls work, tokens are reused', async () => {
    const reg = await startRegistry({ auth: 'token', tokenField: 'access_token' });
    const s = await tempStore();
    try {
      const owner = await configWith({ host: reg.host, username: reg.username, password: reg.password });
      const anonymous = await configWith(undefined);
      await makeImage(s.store, 'local/pub:1', [{ a: '1' }, { b: '2' }]);
      await assert.rejects(pushImage(`${reg.host}/pub/img:1`, { store: s.store, source: 'local/pub:1', config: anonymous, ...FAST }), (err: unknown) => {
        assert.ok(err instanceof RegistryError);
        assert.equal(err.code, 'UNAUTHORIZED');
        assert.match(err.message, /^failed to push 127\.0\.0\.1:\d+\/pub\/img:1: server message: (unauthorized|denied): /);
        return true;
      });
      const before = reg.tokenServer!.requests.length;
      await pushImage(`${reg.host}/pub/img:1`, { store: s.store, source: 'local/pub:1', config: owner, ...FAST });
      // Three blobs checked and uploaded in parallel, one manifest: a single token for the scope.
      const pushTokens = reg.tokenServer!.requests.slice(before);
      assert.equal(pushTokens.length, 1, JSON.stringify(pushTokens));
      assert.deepEqual(pushTokens[0].scopes, ['repository:pub/img:pull,push']);
      assert.equal(pushTokens[0].user, reg.username);

      const t = await tempStore();
      try {
        const pulled = await pullImage(`${reg.host}/pub/img:1`, { store: t.store, config: anonymous, ...FAST });
        assert.equal(pulled.layers.length, 2);
        assert.equal(reg.tokenServer!.requests.at(-1)?.user, undefined);
      } finally {
        await t.cleanup();
      }
    } finally {
      await s.cleanup();
      await reg.stop();
    }
  });
});

describe('manifest kinds', () => {
  let reg: TestRegistry;
  let config: RegistryConfig;
  before(async () => {
    reg = await startRegistry();
    config = await configWith(undefined);
  });
  after(async () => reg?.stop());

  test('a multi-platform index: pushed whole, pulled as the host platform or the one asked for', async () => {
    const s = await tempStore();
    const t = await tempStore();
    try {
      const host = hostPlatform();
      const otherArch = host.architecture === 's390x' ? 'ppc64le' : 's390x';
      const mine = await makeImage(s.store, 'local/multi:host', [{ 'which.txt': 'host\n' }]);
      const theirs = await makeImage(s.store, 'local/multi:other', [{ 'which.txt': `${otherArch}\n` }]);
      const manifests: Descriptor[] = [
        { ...theirs.manifest, platform: { os: 'linux', architecture: otherArch } },
        { ...mine.manifest, platform: host },
      ];
      const index = await s.store.putJSON(createIndex(manifests), MediaType.OciIndex);
      await s.store.setRef('docker.io/local/multi:all', index);
      const pushed = await pushImage(`${reg.host}/multi/img:1`, { store: s.store, source: 'local/multi:all', config, ...FAST });
      assert.equal(pushed.digest, index.digest);
      assert.equal(pushed.mediaType, MediaType.OciIndex);

      const pulled = await pullImage(`${reg.host}/multi/img:1`, { store: t.store, config, ...FAST });
      assert.equal(pulled.digest, index.digest, 'the repository digest is the index');
      assert.equal(pulled.manifest.digest, mine.manifest.digest, 'the ref points at the host manifest');
      assert.deepEqual(pulled.manifest.platform, host);
      assert.equal(await t.store.has(theirs.layers[0].digest), false, 'other platforms are not downloaded');

      const other = await pullImage(`${reg.host}/multi/img:1`, { store: t.store, config, platform: `linux/${otherArch}`, name: 'other:1', ...FAST });
      assert.equal(other.manifest.digest, theirs.manifest.digest);
      await assert.rejects(pullImage(`${reg.host}/multi/img:1`, { store: t.store, config, platform: 'windows/amd64', ...FAST }), /no match for platform in manifest sha256:[a-f0-9]{64}: not found/);
    } finally {
      await Promise.all([s.cleanup(), t.cleanup()]);
    }
  });

  test('Docker schema 2 manifests go up with their media type and come back unchanged', async () => {
    const s = await tempStore();
    const t = await tempStore();
    try {
      const img = await makeImage(s.store, 'local/docker:1', [{ 'x.txt': 'docker\n' }]);
      const config = await s.store.readJSON<object>(img.config.digest);
      const cfg = await s.store.putJSON(config, MediaType.DockerConfig);
      const manifest = {
        schemaVersion: 2,
        mediaType: MediaType.DockerManifest,
        config: { mediaType: MediaType.DockerConfig, digest: cfg.digest, size: cfg.size },
        layers: img.layers.map((l) => ({ mediaType: MediaType.DockerLayerGzip, digest: l.digest, size: l.size })),
      };
      const m = await s.store.putJSON(manifest, MediaType.DockerManifest);
      await s.store.setRef('docker.io/local/docker:2', m);
      await pushImage(`${reg.host}/docker/img:2`, { store: s.store, source: 'local/docker:2', config: await configWith(undefined), ...FAST });
      const res = await fetch(`${reg.url}/v2/docker/img/manifests/2`, { headers: { accept: MediaType.DockerManifest } });
      assert.equal(res.headers.get('content-type'), MediaType.DockerManifest);
      assert.equal(res.headers.get('docker-content-digest'), m.digest);
      await res.arrayBuffer();
      const pulled = await pullImage(`${reg.host}/docker/img:2`, { store: t.store, config: await configWith(undefined), ...FAST });
      assert.equal(pulled.manifest.digest, m.digest);
      assert.equal(pulled.manifest.mediaType, MediaType.DockerManifest);
      assert.deepEqual(await t.store.readBytes(m.digest), await s.store.readBytes(m.digest));
    } finally {
      await Promise.all([s.cleanup(), t.cleanup()]);
    }
  });
});
