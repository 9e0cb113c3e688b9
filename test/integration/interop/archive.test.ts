/**
 * Interop of saved archives with skopeo (containers/image): our docker archives and OCI layouts
 * (directory and tar) are read by `skopeo inspect`, and skopeo's own docker archive and OCI
 * layout (copied from ours) load back into a fresh store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { busyboxImage } from '../store/fixture.ts';

function skopeo(args: string[]): string {
  return execFileSync('skopeo', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

test('skopeo inspects our docker archive and OCI layouts; ours load what skopeo writes', { timeout: 120_000 }, async (t) => {
  const fx = await busyboxImage('interop/busybox:1');
  t.after(fx.cleanup);
  const inspect = JSON.parse((await fx.cli(['inspect', 'interop/busybox:1'])).stdout)[0];

  assert.equal((await fx.cli(['save', '-o', 'img.tar', 'interop/busybox:1'])).code, 0);
  const fromDocker = JSON.parse(skopeo(['inspect', `docker-archive:${join(fx.dir, 'img.tar')}`]));
  assert.deepEqual(fromDocker.Layers, inspect.RootFS.Layers, 'docker archive layers are the uncompressed diffIDs');
  assert.equal(fromDocker.Architecture, inspect.Architecture);

  assert.equal((await fx.cli(['save', '--format', 'oci', '-o', 'layout', 'interop/busybox:1'])).code, 0);
  const fromLayout = JSON.parse(skopeo(['inspect', `oci:${join(fx.dir, 'layout')}:1`]));
  assert.equal(fromLayout.Digest, inspect.Descriptor.digest, 'the layout keeps the manifest digest');
  assert.deepEqual(fromLayout.Layers, inspect.Manifest.layers.map((l: { digest: string }) => l.digest));

  assert.equal((await fx.cli(['save', '--format', 'oci', '-o', 'layout.tar', 'interop/busybox:1'])).code, 0);
  const fromOciTar = JSON.parse(skopeo(['inspect', `oci-archive:${join(fx.dir, 'layout.tar')}:1`]));
  assert.equal(fromOciTar.Digest, inspect.Descriptor.digest);

  // skopeo re-writes our image in its own formats; we load both.
  skopeo(['copy', `oci:${join(fx.dir, 'layout')}:1`, `docker-archive:${join(fx.dir, 'skopeo.tar')}:example.com/again:2`]);
  skopeo(['copy', `oci:${join(fx.dir, 'layout')}:1`, `oci:${join(fx.dir, 'skopeo-layout')}:example.com/again:3`]);
  const other = join(fx.dir, 'other');
  const load1 = await fx.cli(['--root', other, 'load', '-i', 'skopeo.tar']);
  assert.equal(load1.code, 0, load1.stderr);
  assert.equal(load1.stdout, 'Loaded image: example.com/again:2\n');
  const load2 = await fx.cli(['--root', other, 'load', '-i', 'skopeo-layout']);
  assert.equal(load2.code, 0, load2.stderr);
  assert.equal(load2.stdout, 'Loaded image: example.com/again:3\n');
  const again = JSON.parse((await fx.cli(['--root', other, 'inspect', 'example.com/again:2', 'example.com/again:3'])).stdout);
  assert.equal(again[0].Id, inspect.Id, 'same config, same image ID');
  assert.equal(again[1].Id, inspect.Id);
  assert.equal((await fx.cli(['--root', other, 'fsck'])).code, 0);
});
