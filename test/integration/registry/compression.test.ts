/**
 * Pushing images whose layers are stored uncompressed (as builds and imports store them), against real
 * docker-registry processes: the registry gets gzip blobs (zstd, or the stored tars, on request) whose
 * decompressed digests are the config's diff_ids; the image pulled back is the same image; a second push
 * reuses the remembered variants (nothing compressed, the variant blobs untouched) and one after a prune
 * compresses again; pushing by digest (a manifest or an index) is refused, before anything is sent,
 * when compressing would change the digest; the CLI's --compression-format and --compression-level.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIndex } from '../../../src/image/manifest.ts';
import { MediaType, type Descriptor } from '../../../src/image/types.ts';
import { pullImage, pushImage, resolveRegistryConfig, type RegistryConfig, type TransferEvent } from '../../../src/registry/index.ts';
import { openStore, prune, type LocalStore } from '../../../src/store/index.ts';
import { runCli } from '../../support/cli.ts';
import { startRegistry, type TestRegistry } from '../../support/registry.ts';
import { makeImage, noise, tempDir, tempStore, treeListing, unpackLayers, type TestImage } from './helpers.ts';

const FAST = { retryDelayMs: 10 };
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface RemoteManifest {
  digest: string;
  manifest: { mediaType: string; config: Descriptor; layers: Descriptor[] };
}

async function remoteManifest(reg: TestRegistry, repo: string, ref: string): Promise<RemoteManifest> {
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${ref}`, { headers: { accept: `${MediaType.OciManifest}, ${MediaType.DockerManifest}` } });
  assert.equal(res.status, 200);
  const body = Buffer.from(await res.arrayBuffer());
  assert.equal(res.headers.get('docker-content-digest'), sha256(body));
  return { digest: sha256(body), manifest: JSON.parse(body.toString()) };
}

async function remoteBlob(reg: TestRegistry, repo: string, digest: string): Promise<Buffer> {
  const res = await fetch(`${reg.url}/v2/${repo}/blobs/${digest}`);
  assert.equal(res.status, 200);
  return Buffer.from(await res.arrayBuffer());
}

/** The system tool's idea of the blob's uncompressed content. */
function decompress(blob: Buffer, tool: 'gzip' | 'zstd'): Buffer {
  return execFileSync(tool, tool === 'gzip' ? ['-dc'] : ['-dcq'], { input: blob, maxBuffer: 1 << 26 });
}

const LAYERS: Record<string, string | Buffer>[] = [
  { 'etc/os-release': 'NAME=raw\n', 'bin/tool': '#!/bin/sh\necho raw\n', 'data/text.txt': 'compressible line\n'.repeat(4000) },
  { 'app/noise.bin': noise(200_000, 'raw layer two'), 'app/sub/deep.txt': 'deep\n' },
  { 'app/sub/deep.txt': 'replaced in layer three\n' },
];

describe('pushing uncompressed layers', () => {
  let reg: TestRegistry;
  let reg2: TestRegistry;
  let config: RegistryConfig;
  let a: Awaited<ReturnType<typeof tempStore>>;
  let img: TestImage;
  let diffIDs: string[];
  before(async () => {
    [reg, reg2] = await Promise.all([startRegistry(), startRegistry()]);
    const dockerDir = await mkdtemp(join(tmpdir(), 'jettison-dockercfg-'));
    config = await resolveRegistryConfig({}, { ...process.env, DOCKER_CONFIG: dockerDir, JETTISON_CONFIG: join(dockerDir, 'none.json') });
    a = await tempStore();
    img = await makeImage(a.store, 'local/raw:1', LAYERS, 'none');
    diffIDs = (await a.store.readJSON<{ rootfs: { diff_ids: string[] } }>(img.config.digest)).rootfs.diff_ids;
  });
  after(async () => {
    await Promise.all([reg?.stop(), reg2?.stop(), a?.cleanup()]);
  });

  test('the image is stored uncompressed: each layer is named by its diffID', () => {
    assert.ok(img.layers.every((l) => l.mediaType === MediaType.OciLayerTar));
    assert.deepEqual(img.layers.map((l) => l.digest), diffIDs);
  });

  let gzipPush: Awaited<ReturnType<typeof pushImage>>;
  let second: LocalStore;
  let variantTimes: number[];
  test('push sends gzip blobs that decompress to the diff_ids; the pushed manifest is reported; pulled back it is the same image', async () => {
    const events: TransferEvent[] = [];
    gzipPush = await pushImage(`${reg.host}/raw/app:1`, { store: a.store, source: 'local/raw:1', config, onProgress: (e) => events.push(e), ...FAST });
    assert.equal(gzipPush.compressed, 3);
    assert.notEqual(gzipPush.digest, img.manifest.digest, 'the pushed manifest names other blobs');
    const remote = await remoteManifest(reg, 'raw/app', '1');
    assert.equal(remote.digest, gzipPush.digest);
    assert.equal(gzipPush.size, (await fetch(`${reg.url}/v2/raw/app/manifests/1`, { headers: { accept: MediaType.OciManifest } }).then((r) => r.arrayBuffer())).byteLength);
    assert.equal(remote.manifest.mediaType, MediaType.OciManifest);
    assert.deepEqual(remote.manifest.config, img.config, 'same config: same image ID');
    for (const [i, l] of remote.manifest.layers.entries()) {
      assert.equal(l.mediaType, MediaType.OciLayerGzip);
      const blob = await remoteBlob(reg, 'raw/app', l.digest);
      assert.equal(sha256(blob), l.digest);
      assert.equal(blob.length, l.size);
      assert.equal(sha256(decompress(blob, 'gzip')), diffIDs[i], `layer ${i} decompresses to its diff_id`);
    }
    assert.ok(remote.manifest.layers[0].size < img.layers[0].size / 5, 'the text layer went up compressed');
    for (const l of img.layers) assert.ok(events.some((e) => e.id === l.digest && e.action === 'compressing'), 'compressing reported under the stored digest');
    assert.deepEqual(gzipPush.blobs.map((b) => b.digest).sort(), [img.config.digest, ...remote.manifest.layers.map((l) => l.digest)].sort());
    variantTimes = await Promise.all(remote.manifest.layers.map(async (l) => (await stat(await a.store.pathOf(l.digest))).mtimeMs));

    const b = await tempStore();
    const dirs = await tempDir();
    try {
      const pulled = await pullImage(`${reg.host}/raw/app:1`, { store: b.store, config, ...FAST });
      assert.equal(pulled.digest, gzipPush.digest);
      assert.equal(pulled.config.digest, img.config.digest);
      assert.deepEqual(pulled.layers, remote.manifest.layers);
      await unpackLayers(a.store, img.layers, join(dirs.path, 'local'));
      await unpackLayers(b.store, pulled.layers, join(dirs.path, 'pulled'));
      const listing = await treeListing(join(dirs.path, 'pulled'));
      assert.deepEqual(listing, await treeListing(join(dirs.path, 'local')));
      assert.ok(listing.some((l) => l.startsWith('app/sub/deep.txt file') && l.includes(' 24 ')), 'the top layer wins');
    } finally {
      await Promise.all([b.cleanup(), dirs.cleanup()]);
    }
  });

  test('a second push reuses the remembered variants: nothing compressed, the variant blobs untouched, the same digest', async () => {
    assert.ok(gzipPush, 'needs the first push');
    second = openStore(a.root);
    // Another registry: every blob is uploaded again, from the variants.
    const other = await pushImage(`${reg2.host}/raw/app:2`, { store: second, source: 'local/raw:1', config, ...FAST });
    assert.equal(other.compressed, 0);
    assert.equal(other.digest, gzipPush.digest);
    assert.deepEqual(other.blobs.map((b) => b.outcome), ['pushed', 'pushed', 'pushed', 'pushed']);
    const remote = await remoteManifest(reg2, 'raw/app', '2');
    const times = await Promise.all(remote.manifest.layers.map(async (l) => (await stat(await a.store.pathOf(l.digest))).mtimeMs));
    assert.deepEqual(times, variantTimes);
    // The same registry, another repository: mounted, still nothing compressed.
    const mounted = await pushImage(`${reg.host}/elsewhere/app:3`, { store: a.store, source: 'local/raw:1', config, ...FAST });
    assert.equal(mounted.compressed, 0);
    assert.deepEqual(mounted.blobs.map((b) => b.outcome).sort(), ['mounted', 'mounted', 'mounted', 'mounted']);
  });

  test('after a prune took the variants, a push compresses again (and finds the blobs in the registry)', async () => {
    assert.ok(gzipPush, 'needs the first push');
    const s = openStore(a.root);
    // The variants are leased by the stores that pushed (prune spares them while that work lasts).
    await (a.store as LocalStore).releaseLease();
    await second.releaseLease();
    const pruned = await prune(s);
    const remote = await remoteManifest(reg, 'raw/app', '1');
    for (const l of remote.manifest.layers) assert.ok(pruned.removed.includes(l.digest), 'no ref names the variants: prune removes them');
    assert.ok(img.layers.every((l) => !pruned.removed.includes(l.digest)), 'the stored layers stay');
    const again = await pushImage(`${reg.host}/raw/app:1`, { store: s, source: 'local/raw:1', config, ...FAST });
    assert.equal(again.compressed, 3);
    assert.equal(again.digest, gzipPush.digest, 'gzip output is deterministic');
    assert.deepEqual(again.blobs.map((b) => b.outcome), ['exists', 'exists', 'exists', 'exists']);
  });

  test('zstd on request: zstd blobs that decompress to the diff_ids; our pull reads them back', async () => {
    const pushed = await pushImage(`${reg.host}/raw/zstd:1`, { store: a.store, source: 'local/raw:1', config, compression: 'zstd', ...FAST });
    assert.equal(pushed.compressed, 3);
    const remote = await remoteManifest(reg, 'raw/zstd', '1');
    assert.equal(remote.digest, pushed.digest);
    assert.notEqual(pushed.digest, gzipPush.digest);
    for (const [i, l] of remote.manifest.layers.entries()) {
      assert.equal(l.mediaType, MediaType.OciLayerZstd);
      assert.equal(sha256(decompress(await remoteBlob(reg, 'raw/zstd', l.digest), 'zstd')), diffIDs[i]);
    }
    const b = await tempStore();
    try {
      const pulled = await pullImage(`${reg.host}/raw/zstd:1`, { store: b.store, config, ...FAST });
      assert.equal(pulled.config.digest, img.config.digest);
      assert.ok(pulled.layers.every((l) => l.mediaType === MediaType.OciLayerZstd));
    } finally {
      await b.cleanup();
    }
  });

  test('compression none sends the layers as stored: the pushed digest is the local one', async () => {
    const pushed = await pushImage(`${reg.host}/raw/plain:1`, { store: a.store, source: 'local/raw:1', config, compression: 'none', ...FAST });
    assert.equal(pushed.digest, img.manifest.digest);
    assert.equal(pushed.compressed, 0);
    const remote = await remoteManifest(reg, 'raw/plain', '1');
    assert.ok(remote.manifest.layers.every((l) => l.mediaType === MediaType.OciLayerTar));
  });

  /** HTTP status of a HEAD for a blob of `repo` on `registry` (404: the repository has no such blob). */
  const blobStatus = async (registry: TestRegistry, repo: string, digest: string) =>
    (await fetch(`${registry.url}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' })).status;

  test('pushing by digest: refused when compressing would change the digest, before anything is compressed or sent; fine uncompressed', async () => {
    assert.ok(gzipPush, 'needs the first push (its gzip blobs are the ones a by-digest push would send)');
    const gzipLayers = (await remoteManifest(reg, 'raw/app', '1')).manifest.layers.map((l) => l.digest);
    const events: TransferEvent[] = [];
    const ref = `${reg.host}/raw/bydigest@${img.manifest.digest}`;
    await assert.rejects(pushImage(ref, { store: a.store, source: 'local/raw:1', config, onProgress: (e) => events.push(e), ...FAST }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'DIGEST_MISMATCH');
      assert.match(err.message, /the image has uncompressed layers and compressing them \(gzip\) changes its digest: push it by tag, or uncompressed to keep sha256:[a-f0-9]{64}$/);
      return true;
    });
    assert.deepEqual(events, [], 'nothing compressed, nothing sent');
    for (const d of [img.config.digest, ...img.layers.map((l) => l.digest), ...gzipLayers]) {
      assert.equal(await blobStatus(reg, 'raw/bydigest', d), 404, `${d} was not uploaded`);
    }
    const ok = await pushImage(ref, { store: a.store, source: 'local/raw:1', config, compression: 'none', ...FAST });
    assert.equal(ok.digest, img.manifest.digest);
    assert.equal(await blobStatus(reg, 'raw/bydigest', img.config.digest), 200, 'the check above can see an uploaded blob');
  });

  test('pushing an index by digest: refused before its first child (already compressed) is sent, when a later child needs compressing', async () => {
    const gz = await makeImage(a.store, 'local/gz:1', [{ 'etc/gz': 'stored gzip\n'.repeat(100) }], 'gzip');
    const index = await a.store.putJSON(
      createIndex([
        { ...gz.manifest, platform: { os: 'linux', architecture: 'arm64' } },
        { ...img.manifest, platform: { os: 'linux', architecture: 'amd64' } },
      ]),
      MediaType.OciIndex,
    );
    const events: TransferEvent[] = [];
    await assert.rejects(
      pushImage(`${reg.host}/raw/index@${index.digest}`, { store: a.store, target: index, config, onProgress: (e) => events.push(e), ...FAST }),
      (err: Error & { code?: string }) => err.code === 'DIGEST_MISMATCH',
    );
    assert.deepEqual(events, []);
    for (const d of [gz.config.digest, ...gz.layers.map((l) => l.digest), img.config.digest]) {
      assert.equal(await blobStatus(reg, 'raw/index', d), 404, `${d} was not uploaded`);
    }
    // Uncompressed, nothing changes: the index goes up under its own digest.
    const ok = await pushImage(`${reg.host}/raw/index@${index.digest}`, { store: a.store, target: index, config, compression: 'none', ...FAST });
    assert.equal(ok.digest, index.digest);
    assert.equal(await blobStatus(reg, 'raw/index', gz.layers[0].digest), 200);
  });

  test('jettison push --compression-format zstd|gzip|uncompressed and --compression-level, and bad values', async () => {
    const d = await tempDir('jettison-cli-');
    try {
      const env = { DOCKER_CONFIG: join(d.path, 'docker'), JETTISON_CONFIG: join(d.path, 'jettison.json'), JETTISON_ROOT: a.root };
      await runCli(['tag', 'local/raw:1', `${reg2.host}/cli/raw:1`], { env });
      const z = await runCli(['push', '-q', '--compression-format', 'zstd', `${reg2.host}/cli/raw:1`], { env });
      assert.equal(z.code, 0, z.stderr);
      const remote = await remoteManifest(reg2, 'cli/raw', '1');
      assert.equal(z.stdout, `${remote.digest}\n`);
      assert.ok(remote.manifest.layers.every((l) => l.mediaType === MediaType.OciLayerZstd));
      const g = await runCli(['push', `${reg2.host}/cli/raw:1`], { env });
      assert.equal(g.code, 0, g.stderr);
      assert.match(g.stdout, new RegExp(`^1: digest: ${gzipPush.digest} size: \\d+$`, 'm'), 'gzip by default: the same manifest as the library push');
      const u = await runCli(['push', '-q', '--compression-format', 'uncompressed', `${reg2.host}/cli/raw:1`], { env });
      assert.equal(u.stdout, `${img.manifest.digest}\n`);
      const bad = await runCli(['push', '--compression-format', 'lz4', `${reg2.host}/cli/raw:1`], { env });
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /invalid --compression-format "lz4": expected gzip, zstd or uncompressed/);

      // --compression-level reaches the compressor: level 1 makes larger gzip blobs than the default
      // push (level 6) did, which still decompress to the diff_ids.
      await runCli(['tag', 'local/raw:1', `${reg2.host}/cli/level:1`], { env });
      const fast = await runCli(['push', '-q', '--compression-level', '1', `${reg2.host}/cli/level:1`], { env });
      assert.equal(fast.code, 0, fast.stderr);
      const remoteFast = await remoteManifest(reg2, 'cli/level', '1');
      assert.equal(fast.stdout, `${remoteFast.digest}\n`);
      const dflt = (await remoteManifest(reg, 'raw/app', '1')).manifest.layers;
      assert.ok(remoteFast.manifest.layers[0].size > dflt[0].size, `the text layer: ${remoteFast.manifest.layers[0].size} > ${dflt[0].size} bytes`);
      for (const [i, l] of remoteFast.manifest.layers.entries()) {
        assert.equal(l.mediaType, MediaType.OciLayerGzip);
        assert.equal(sha256(decompress(await remoteBlob(reg2, 'cli/level', l.digest), 'gzip')), diffIDs[i]);
      }
      // A level out of the format's range is refused before anything is sent.
      await runCli(['tag', 'local/raw:1', `${reg2.host}/cli/level:ultra`], { env });
      const ultra = await runCli(['push', '--compression-format', 'zstd', '--compression-level', '20', `${reg2.host}/cli/level:ultra`], { env });
      assert.equal(ultra.code, 1);
      assert.match(ultra.stderr, /invalid --compression-level "20": expected 1-19 for zstd/);
      assert.equal((await fetch(`${reg2.url}/v2/cli/level/manifests/ultra`, { method: 'HEAD', headers: { accept: MediaType.OciManifest } })).status, 404);
    } finally {
      await d.cleanup();
    }
  });
});
