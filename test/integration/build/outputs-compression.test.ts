/**
 * Layer compression across `jettison build` outputs, end to end (real builds on a busybox base imported
 * into a fresh store, a real registry, GNU tar, gzip, zstd, skopeo, podman): the store keeps the build's
 * layers uncompressed; type=docker is a straight copy podman loads; type=oci compresses like BuildKit
 * (gzip by default, compression=zstd|uncompressed and compression-level= honoured) and reuses the
 * store's variants; --push and type=registry push compressed layers and --metadata-file reports the
 * pushed digest; type=image,compression=gzip stores gzip layers, cached ones included.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MediaType } from '../../../src/image/types.ts';
import { busyboxRootfs } from '../../support/images.ts';
import { startRegistry, type TestRegistry } from '../../support/registry.ts';
import { cleanupDir, jettison, show, tempDir } from '../../fixtures/build/harness.ts';

interface Inspected {
  Id: string;
  Descriptor: { digest: string };
  RootFS: { Layers: string[] };
  Manifest: { layers: { mediaType: string; digest: string; size: number }[] };
}
interface Manifest {
  config: { digest: string };
  layers: { mediaType: string; digest: string; size: number }[];
}

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const hex = (d: string) => d.slice(7);

let dir: string;
let root: string;
let ctx: string;
let reg: TestRegistry;
let img: Inspected;

async function inspect(name: string): Promise<Inspected> {
  const r = await jettison(root, [], ['inspect', name]);
  assert.equal(r.code, 0, show(r));
  return JSON.parse(r.stdout)[0];
}

async function build(args: string[]): Promise<void> {
  const r = await jettison(root, [], ['build', '--progress', 'plain', ...args, ctx]);
  assert.equal(r.code, 0, show(r));
}

/** The uncompressed content of a layer blob, by the system's own tools. */
function decompressed(blob: Buffer, mediaType: string): Buffer {
  if (mediaType.endsWith('+gzip')) return execFileSync('gzip', ['-dc'], { input: blob, maxBuffer: 1 << 28 });
  if (mediaType.endsWith('+zstd')) return execFileSync('zstd', ['-dcq'], { input: blob, maxBuffer: 1 << 28 });
  return blob;
}

/** Reads an OCI layout directory's only image and checks every layer against the diff_ids. */
function checkLayout(layout: string, mediaType: string): { digest: string; manifest: Manifest } {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  assert.equal(index.manifests.length, 1);
  const digest = index.manifests[0].digest;
  const blob = (d: string) => readFileSync(join(layout, 'blobs', 'sha256', hex(d)));
  const manifest = JSON.parse(blob(digest).toString()) as Manifest;
  assert.equal(sha256(blob(digest)), digest);
  assert.equal(manifest.config.digest, img.Id, 'the same config: the same image ID');
  const diffIDs = (JSON.parse(blob(manifest.config.digest).toString()) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
  assert.equal(manifest.layers.length, diffIDs.length);
  for (const [i, l] of manifest.layers.entries()) {
    assert.equal(l.mediaType, mediaType, `layer ${i}`);
    const b = blob(l.digest);
    assert.equal(sha256(b), l.digest);
    assert.equal(b.length, l.size);
    assert.equal(sha256(decompressed(b, l.mediaType)), diffIDs[i], `layer ${i} decompresses to its diff_id`);
  }
  return { digest, manifest };
}

async function remoteManifest(repo: string, tag: string): Promise<{ digest: string; manifest: Manifest }> {
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${tag}`, { headers: { accept: MediaType.OciManifest } });
  assert.equal(res.status, 200);
  const body = Buffer.from(await res.arrayBuffer());
  return { digest: sha256(body), manifest: JSON.parse(body.toString()) };
}

before(async () => {
  dir = tempDir('outputs-compression');
  root = join(dir, 'root');
  reg = await startRegistry();
  const imp = await jettison(root, [], ['import', await busyboxRootfs(), 'busybox:latest']);
  assert.equal(imp.code, 0, show(imp));
  ctx = join(dir, 'ctx');
  mkdirSync(ctx);
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY data /data\nRUN seq 1 20000 > /data/numbers && chmod 600 /data/numbers\nCMD ["cat", "/data/numbers"]\n');
  mkdirSync(join(ctx, 'data'));
  writeFileSync(join(ctx, 'data', 'words.txt'), 'compressible words\n'.repeat(5000));
  await build(['-t', 'c:1', '-o', 'type=image', '-o', `type=docker,dest=${join(dir, 'docker.tar')}`]);
  img = await inspect('c:1');
});

after(async () => {
  await reg?.stop();
  if (dir) cleanupDir(dir);
});

describe('jettison build: layer compression', () => {
  test('the store keeps every layer uncompressed, named by its diffID (the imported base too)', () => {
    assert.equal(img.Manifest.layers.length, 3);
    assert.ok(img.Manifest.layers.every((l) => l.mediaType === MediaType.OciLayerTar));
    assert.deepEqual(img.Manifest.layers.map((l) => l.digest), img.RootFS.Layers);
  });

  test('type=docker copies the stored tars as they are; podman loads the archive', () => {
    const x = join(dir, 'docker-x');
    mkdirSync(x);
    execFileSync('tar', ['-x', '-f', join(dir, 'docker.tar'), '-C', x]);
    const manifest = JSON.parse(readFileSync(join(x, 'manifest.json'), 'utf8')) as { Layers: string[] }[];
    assert.deepEqual(manifest[0].Layers, img.RootFS.Layers.map((d) => `blobs/sha256/${hex(d)}`));
    for (const d of img.RootFS.Layers) {
      const bytes = readFileSync(join(x, 'blobs', 'sha256', hex(d)));
      assert.ok(bytes.equals(readFileSync(join(root, 'blobs', 'sha256', hex(d)))), 'byte for byte the stored blob');
    }
    assert.equal(process.getuid?.(), 0, 'podman with a private root needs root');
    const run = mkdtempSync(join(tmpdir(), 'pm-')); // podman wants a short runroot
    const podman = (args: string[]) =>
      execFileSync('podman', ['--root', join(dir, 'podman-root'), '--runroot', run, '--storage-driver', 'vfs', ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    assert.match(podman(['load', '-i', join(dir, 'docker.tar')]), /Loaded image: .*c:1/);
    const theirs = JSON.parse(podman(['image', 'inspect', 'c:1']))[0] as { Id: string; RootFS: { Layers: string[] } };
    assert.equal(`sha256:${theirs.Id}`, img.Id);
    assert.deepEqual(theirs.RootFS.Layers, img.RootFS.Layers);
    rmSync(run, { recursive: true, force: true });
  });

  test('type=oci: gzip by default, zstd and uncompressed on request; a second export reuses the compressed variants', async () => {
    const gz = join(dir, 'oci-gzip.tar');
    await build(['-t', 'c:1', '-o', `type=oci,dest=${gz}`, '-o', `type=oci,dest=${join(dir, 'oci-zstd')},tar=false,compression=zstd`,
      '-o', `type=oci,dest=${join(dir, 'oci-plain')},tar=false,compression=uncompressed`]);
    const gx = join(dir, 'oci-gzip');
    mkdirSync(gx);
    execFileSync('tar', ['-x', '-f', gz, '-C', gx]);
    const g = checkLayout(gx, MediaType.OciLayerGzip);
    const z = checkLayout(join(dir, 'oci-zstd'), MediaType.OciLayerZstd);
    const p = checkLayout(join(dir, 'oci-plain'), MediaType.OciLayerTar);
    assert.equal(p.digest, img.Descriptor.digest, 'uncompressed: the manifest in the store');
    assert.notEqual(g.digest, z.digest);
    const raw = execFileSync('skopeo', ['--insecure-policy', 'inspect', '--raw', `oci-archive:${gz}`]);
    assert.equal(sha256(raw), g.digest, 'skopeo reads the gzip export');

    const times = g.manifest.layers.map((l) => statSync(join(root, 'blobs', 'sha256', hex(l.digest))).mtimeMs);
    const again = join(dir, 'oci-again');
    await build(['-t', 'c:1', '-o', `type=oci,dest=${again},tar=false`]);
    assert.equal(checkLayout(again, MediaType.OciLayerGzip).digest, g.digest);
    assert.deepEqual(g.manifest.layers.map((l) => statSync(join(root, 'blobs', 'sha256', hex(l.digest))).mtimeMs), times, 'not compressed again');
    assert.equal(readdirSync(join(root, 'variants')).filter((n) => n.endsWith('.gzip')).length, 3);
  });

  test('compression-level= reaches the compressor (level 1 blobs larger than level 9 ones); a level out of range is refused and nothing is pushed', async () => {
    const fast = join(dir, 'oci-level-1');
    const best = join(dir, 'oci-level-9');
    await build(['-t', 'c:1', '-o', `type=oci,dest=${fast},tar=false,compression-level=1`, '-o', `type=oci,dest=${best},tar=false,compression-level=9`]);
    const f = checkLayout(fast, MediaType.OciLayerGzip);
    const b = checkLayout(best, MediaType.OciLayerGzip);
    const total = (m: Manifest) => m.layers.reduce((n, l) => n + l.size, 0);
    assert.ok(total(f.manifest) > total(b.manifest), `${total(f.manifest)} > ${total(b.manifest)} bytes`);
    for (const level of [1, 9]) {
      assert.equal(readdirSync(join(root, 'variants')).filter((n) => n.endsWith(`.gzip-${level}`)).length, 3, `level ${level}: a variant of its own per layer`);
    }

    const r = await jettison(root, [], ['build', '-o', `type=registry,name=${reg.host}/out/level:1,compression=zstd,compression-level=20`, ctx]);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /invalid compression-level "20": expected 1-19 for zstd/);
    assert.equal((await fetch(`${reg.url}/v2/out/level/manifests/1`, { method: 'HEAD', headers: { accept: MediaType.OciManifest } })).status, 404);
  });

  test('--push and type=registry push compressed layers; --metadata-file names the pushed manifest', async () => {
    const name = `${reg.host}/out/c`;
    await build(['-t', `${name}:1`, '--push', '--metadata-file', join(dir, 'meta.json')]);
    const pushed = await remoteManifest('out/c', '1');
    assert.ok(pushed.manifest.layers.every((l) => l.mediaType === MediaType.OciLayerGzip));
    assert.equal(pushed.manifest.config.digest, img.Id);
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Record<string, { digest: string; size: number } | string>;
    assert.equal(meta['containerimage.digest'], pushed.digest);
    assert.deepEqual(meta['containerimage.descriptor'], { mediaType: MediaType.OciManifest, digest: pushed.digest, size: JSON.stringify(pushed.manifest).length });
    assert.equal((await inspect(`${name}:1`)).Descriptor.digest, img.Descriptor.digest, 'the store keeps its own (uncompressed) manifest');

    await build(['-o', `type=registry,name=${name}:z,compression=zstd`]);
    const z = await remoteManifest('out/c', 'z');
    assert.ok(z.manifest.layers.every((l) => l.mediaType === MediaType.OciLayerZstd));
    await build(['-t', `${name}:2`, '-o', 'type=image,push=true']);
    assert.equal((await remoteManifest('out/c', '2')).digest, pushed.digest, 'type=image,push=true pushes the same gzip manifest');
  });

  test('type=image,compression=gzip stores gzip layers, the cached and base ones included; same image ID', async () => {
    await build(['-t', 'c:gz', '-o', 'type=image,compression=gzip']);
    const gz = await inspect('c:gz');
    assert.equal(gz.Id, img.Id);
    assert.deepEqual(gz.RootFS.Layers, img.RootFS.Layers);
    assert.ok(gz.Manifest.layers.every((l) => l.mediaType === MediaType.OciLayerGzip));
    for (const [i, l] of gz.Manifest.layers.entries()) {
      assert.equal(sha256(decompressed(readFileSync(join(root, 'blobs', 'sha256', hex(l.digest))), l.mediaType)), img.RootFS.Layers[i]);
    }
    const fsck = await jettison(root, [], ['fsck']);
    assert.equal(fsck.code, 0, show(fsck));
  });
});
