/**
 * `jettison build` outputs, end to end: one build of a small image (busybox base imported into a fresh
 * store, a few layers with owners, modes and a symlink) exported at once with `-o type=local`, `type=tar`,
 * `type=oci` (tar file and `tar=false` directory), `type=docker`, plus `--iidfile` and `--metadata-file`;
 * then each output is read back by an independent tool (GNU tar, skopeo) or by hashing its blobs, and
 * checked against the image in the store (`jettison inspect`). Compression choices are in
 * outputs-compression.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxRootfs } from '../../support/images.ts';
import { snapshotTree } from '../../support/trees.ts';
import { cleanupDir, jettison, show, tempDir } from '../../fixtures/build/harness.ts';

let dir: string;
let root: string;
let out: string;
let inspected: {
  Id: string;
  Descriptor: { digest: string };
  RootFS: { Layers: string[] };
  Config: Record<string, unknown>;
  RepoTags: string[];
  Manifest: { layers: { mediaType: string; digest: string }[] };
};

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const skopeo = (args: string[]) => execFileSync('skopeo', ['--insecure-policy', ...args], { maxBuffer: 1 << 28 });

const DOCKERFILE = `FROM busybox
RUN mkdir -p /app/data && echo state > /app/data/state && chown -R 1000:1000 /app/data && chmod 640 /app/data/state
COPY --chmod=755 tool.sh /usr/local/bin/tool
COPY conf /etc/app/
RUN ln -s /etc/app/main.conf /app/main.conf
LABEL org.example.kind=outputs
CMD ["/usr/local/bin/tool"]
`;

before(async () => {
  dir = tempDir('outputs');
  root = join(dir, 'root');
  const imp = await jettison(root, [], ['import', await busyboxRootfs(), 'busybox:latest']);
  assert.equal(imp.code, 0, show(imp));
  const ctx = join(dir, 'ctx');
  mkdirSync(join(ctx, 'conf'), { recursive: true });
  writeFileSync(join(ctx, 'Dockerfile'), DOCKERFILE);
  writeFileSync(join(ctx, 'tool.sh'), '#!/bin/sh\necho tool\n');
  writeFileSync(join(ctx, 'conf', 'main.conf'), 'key=value\n');
  out = join(dir, 'out');
  mkdirSync(out);
  const r = await jettison(root, [], [
    'build', '--progress', 'plain', '-t', 'out:1',
    '-o', 'type=image',
    '-o', `type=local,dest=${join(out, 'local')}`,
    '-o', `type=tar,dest=${join(out, 'fs.tar')}`,
    '-o', `type=oci,dest=${join(out, 'oci.tar')}`,
    '-o', `type=oci,dest=${join(out, 'oci-dir')},tar=false`,
    '-o', `type=docker,dest=${join(out, 'docker.tar')}`,
    '--iidfile', join(out, 'iid'),
    '--metadata-file', join(out, 'meta.json'),
    ctx,
  ]);
  assert.equal(r.code, 0, show(r));
  const ins = await jettison(root, [], ['inspect', 'out:1']);
  assert.equal(ins.code, 0, show(ins));
  inspected = JSON.parse(ins.stdout)[0];
});

after(() => {
  if (dir) cleanupDir(dir);
});

/** The paths this image adds, as snapshotTree lines (owners, modes, contents; no mtimes). */
function added(tree: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(tree).filter(([p]) => /^(app|etc\/app|usr\/local)(\/|$)/.test(p)));
}

describe('jettison build: outputs', () => {
  test('type=local: the final file system with owners, modes and symlinks', () => {
    const tree = snapshotTree(join(out, 'local'), { mtimes: false, xattrs: false });
    assert.equal(tree['app/data'], 'dir 0755 1000:1000');
    assert.equal(tree['app/data/state'], 'file 0640 size=6 sha=' + createHash('sha256').update('state\n').digest('hex').slice(0, 16) + ' 1000:1000');
    assert.equal(tree['app/main.conf'], 'symlink -> /etc/app/main.conf 0:0');
    assert.match(tree['usr/local/bin/tool'], /^file 0755 size=20 /);
    assert.match(tree['etc/app/main.conf'], /^file 0644 size=10 .* 0:0$/);
    assert.match(tree['bin/busybox'], /^file 0755 /, 'the base image is part of it');
  });

  test('type=tar: a tar of the same file system (GNU tar extracts it to an identical tree)', () => {
    const x = join(dir, 'tar-x');
    mkdirSync(x);
    execFileSync('tar', ['-x', '-p', '--numeric-owner', '-f', join(out, 'fs.tar'), '-C', x]);
    const fromTar = snapshotTree(x, { mtimes: false, xattrs: false });
    const local = snapshotTree(join(out, 'local'), { mtimes: false, xattrs: false });
    assert.ok(Object.keys(local).length > 100, 'the local export holds the busybox tree');
    assert.deepEqual(added(fromTar), added(local));
    assert.deepEqual(Object.keys(fromTar).sort(), Object.keys(local).sort());
    const names = execFileSync('tar', ['-t', '-f', join(out, 'fs.tar')], { encoding: 'utf8' }).split('\n').filter(Boolean);
    assert.ok(names.every((n) => !n.startsWith('/') && !n.split('/').includes('..')), 'entry names are relative');
  });

  test('--iidfile holds the image ID (config digest) and --metadata-file the digests and name', () => {
    const iid = readFileSync(join(out, 'iid'), 'utf8');
    assert.match(iid, /^sha256:[0-9a-f]{64}$/);
    assert.equal(iid, inspected.Id);
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(meta['containerimage.config.digest'], iid);
    assert.equal(meta['containerimage.digest'], inspected.Descriptor.digest);
    assert.equal((meta['containerimage.descriptor'] as { digest: string }).digest, inspected.Descriptor.digest);
    assert.equal(meta['image.name'], 'docker.io/library/out:1');
  });

  test('type=image: the store keeps the layers uncompressed (each named by its diffID)', () => {
    assert.ok(inspected.Manifest.layers.every((l) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar'));
    assert.deepEqual(inspected.Manifest.layers.map((l) => l.digest), inspected.RootFS.Layers);
  });

  test('type=oci (tar): skopeo reads the same config and diff_ids, the layers gzip-compressed (BuildKit\'s default)', () => {
    const raw = skopeo(['inspect', '--raw', `oci-archive:${join(out, 'oci.tar')}`]);
    const manifest = JSON.parse(raw.toString()) as { config: { digest: string }; layers: { mediaType: string }[] };
    assert.notEqual(sha256(raw), inspected.Descriptor.digest, 'the exported manifest names the compressed layers');
    assert.equal(manifest.config.digest, inspected.Id);
    assert.ok(manifest.layers.every((l) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar+gzip'));
    const config = skopeo(['inspect', '--config', '--raw', `oci-archive:${join(out, 'oci.tar')}`]);
    assert.equal(sha256(config), inspected.Id);
    const parsed = JSON.parse(config.toString()) as { rootfs: { diff_ids: string[] }; config: { Labels: Record<string, string>; Cmd: string[] } };
    assert.deepEqual(parsed.rootfs.diff_ids, inspected.RootFS.Layers);
    assert.equal(parsed.config.Labels['org.example.kind'], 'outputs');
    assert.deepEqual(parsed.config.Cmd, ['/usr/local/bin/tool']);
  });

  test('type=oci,tar=false: an OCI layout directory whose blobs match their digests', () => {
    const layout = join(out, 'oci-dir');
    assert.deepEqual(JSON.parse(readFileSync(join(layout, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
    assert.equal(index.manifests.length, 1);
    const ociTarManifest = sha256(skopeo(['inspect', '--raw', `oci-archive:${join(out, 'oci.tar')}`]));
    assert.equal(index.manifests[0].digest, ociTarManifest, 'the same export as the tar');
    const blobs = readdirSync(join(layout, 'blobs', 'sha256'));
    assert.ok(blobs.length >= 2 + inspected.RootFS.Layers.length, `config, manifest and layers present (${blobs.length})`);
    for (const b of blobs) assert.equal(sha256(readFileSync(join(layout, 'blobs', 'sha256', b))), `sha256:${b}`);
    const raw = skopeo(['inspect', '--raw', `oci:${layout}`]);
    assert.equal(sha256(raw), ociTarManifest);
  });

  test('type=docker: a docker archive skopeo reads, with the same config and tag', () => {
    const archive = join(out, 'docker.tar');
    const config = skopeo(['inspect', '--config', '--raw', `docker-archive:${archive}`]);
    assert.equal(sha256(config), inspected.Id);
    const info = JSON.parse(skopeo(['inspect', `docker-archive:${archive}`]).toString()) as { Layers: string[]; RepoTags: string[] };
    assert.equal(info.Layers.length, inspected.RootFS.Layers.length);
    const manifest = JSON.parse(execFileSync('tar', ['-x', '-O', '-f', archive, 'manifest.json'], { encoding: 'utf8' })) as { RepoTags: string[] }[];
    assert.deepEqual(manifest[0].RepoTags, ['out:1']);
  });

  test('type=image: the image is in the store under the -t name', () => {
    assert.deepEqual(inspected.RepoTags, ['out:1']);
  });

  test('a bare -o PATH is type=local; type=local without dest is a usage error', async () => {
    const ctx = join(dir, 'ctx');
    const bare = join(dir, 'bare-out');
    const r = await jettison(root, [], ['build', '--progress', 'quiet', '-o', bare, ctx]);
    assert.equal(r.code, 0, show(r));
    assert.ok(existsSync(join(bare, 'usr', 'local', 'bin', 'tool')));
    const bad = await jettison(root, [], ['build', '--progress', 'quiet', '-o', 'type=local', ctx]);
    assert.notEqual(bad.code, 0, show(bad));
    assert.match(bad.stderr, /type=local needs dest/);
  });
});
