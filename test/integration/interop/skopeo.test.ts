/**
 * Interoperability with skopeo (containers/image) through a real registry: what jettison pushes,
 * `skopeo inspect` and `skopeo copy` read; what skopeo pushes (an image made by umoci, recompressed
 * and converted to Docker schema 2 on the way), jettison pulls, and the file trees match.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MediaType, type Index, type Manifest } from '../../../src/image/types.ts';
import { pullImage, pushImage, resolveRegistryConfig, type RegistryConfig } from '../../../src/registry/index.ts';
import { startRegistry, type TestRegistry } from '../../support/registry.ts';
import { makeImage, noise, tempDir, tempStore, treeListing, unpackLayers } from '../registry/helpers.ts';

const run = promisify(execFile);
let reg: TestRegistry;
let config: RegistryConfig;
let work: { path: string; cleanup: () => Promise<void> };

before(async () => {
  reg = await startRegistry();
  work = await tempDir('jettison-skopeo-');
  config = await resolveRegistryConfig({}, { ...process.env, DOCKER_CONFIG: join(work.path, 'docker'), JETTISON_CONFIG: join(work.path, 'none.json') });
});
after(async () => {
  await reg?.stop();
  await work?.cleanup();
});

async function skopeo(...args: string[]): Promise<string> {
  const { stdout } = await run('skopeo', args, { maxBuffer: 64 << 20 });
  return stdout;
}

test('skopeo inspects and copies what jettison pushed', async () => {
  const s = await tempStore();
  try {
    const img = await makeImage(s.store, 'local/for-skopeo:1', [
      { 'etc/motd': 'welcome\n', 'usr/bin/app': noise(50_000, 'app') },
      { 'etc/motd': 'changed\n', 'var/lib/data': 'data\n' },
    ]);
    await pushImage(`${reg.host}/interop/jettison:1`, { store: s.store, source: 'local/for-skopeo:1', config });

    const info = JSON.parse(await skopeo('inspect', '--tls-verify=false', `docker://${reg.host}/interop/jettison:1`));
    assert.equal(info.Digest, img.manifest.digest);
    assert.deepEqual(info.Layers, img.layers.map((l) => l.digest));
    assert.deepEqual(info.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
    const raw = await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/interop/jettison:1`);
    assert.deepEqual(Buffer.from(raw), await s.store.readBytes(img.manifest.digest));

    const layout = join(work.path, 'from-jettison');
    await skopeo('copy', '--src-tls-verify=false', `docker://${reg.host}/interop/jettison:1`, `oci:${layout}:copied`);
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as Index;
    assert.equal(index.manifests[0].digest, img.manifest.digest, 'skopeo copied the manifest unchanged');
    const manifest = JSON.parse(await readFile(join(layout, 'blobs', 'sha256', index.manifests[0].digest.slice(7)), 'utf8')) as Manifest;
    const fromSkopeo = join(work.path, 'tree-skopeo');
    await mkdir(fromSkopeo);
    for (const l of manifest.layers) await run('tar', ['-C', fromSkopeo, '--no-same-owner', '-xzf', join(layout, 'blobs', 'sha256', l.digest.slice(7))]);
    const fromJettison = join(work.path, 'tree-jettison');
    await unpackLayers(s.store, img.layers, fromJettison);
    assert.deepEqual(await treeListing(fromSkopeo), await treeListing(fromJettison));
  } finally {
    await s.cleanup();
  }
});

test('jettison pulls what skopeo pushed (umoci-made, recompressed, Docker schema 2) and the trees match', async () => {
  const layout = join(work.path, 'umoci');
  const bundle = join(work.path, 'bundle');
  await run('umoci', ['init', '--layout', layout]);
  await run('umoci', ['new', '--image', `${layout}:t`]);
  await run('umoci', ['unpack', '--image', `${layout}:t`, bundle]);
  const rootfs = join(bundle, 'rootfs');
  await mkdir(join(rootfs, 'etc'), { recursive: true });
  await mkdir(join(rootfs, 'opt', 'app'), { recursive: true });
  await writeFile(join(rootfs, 'etc', 'hostname'), 'umoci\n');
  await writeFile(join(rootfs, 'opt', 'app', 'blob.bin'), noise(80_000, 'umoci'));
  await run('umoci', ['repack', '--image', `${layout}:t`, bundle]);
  await writeFile(join(rootfs, 'opt', 'app', 'second.txt'), 'second layer\n');
  await run('umoci', ['repack', '--image', `${layout}:t`, bundle]);

  await skopeo(
    'copy', '--dest-tls-verify=false', '--format', 'v2s2', '--dest-compress', '--dest-compress-format', 'gzip', '--dest-compress-level', '9',
    `oci:${layout}:t`, `docker://${reg.host}/interop/skopeo:1`,
  );
  const pushedDigest = JSON.parse(await skopeo('inspect', '--tls-verify=false', `docker://${reg.host}/interop/skopeo:1`)).Digest as string;

  const s = await tempStore();
  try {
    const pulled = await pullImage(`${reg.host}/interop/skopeo:1`, { store: s.store, config });
    assert.equal(pulled.digest, pushedDigest);
    assert.equal(pulled.manifest.mediaType, MediaType.DockerManifest);
    assert.ok(pulled.layers.every((l) => l.mediaType === MediaType.DockerLayerGzip));
    const tree = join(work.path, 'tree-pulled');
    await unpackLayers(s.store, pulled.layers, tree);
    const listing = await treeListing(tree);
    assert.deepEqual(listing, await treeListing(rootfs));
    assert.ok(listing.some((l) => l.startsWith('opt/app/second.txt file')));
  } finally {
    await s.cleanup();
  }
});
