/**
 * Our OCI layouts pass umoci (as root): `umoci unpack` makes a runtime bundle whose root file
 * system holds the imported files; and umoci's own changes (a new layer via repack) load back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxImage } from '../store/fixture.ts';

test('umoci unpacks our OCI layout; a layer umoci adds loads back', { timeout: 120_000 }, async (t) => {
  assert.equal(process.getuid?.(), 0, 'umoci unpack needs root');
  const fx = await busyboxImage('interop/umoci:1');
  t.after(fx.cleanup);
  assert.equal((await fx.cli(['save', '--format', 'oci', '-o', 'layout', 'interop/umoci:1'])).code, 0);
  const layout = join(fx.dir, 'layout');
  const bundle = join(fx.dir, 'bundle');
  execFileSync('umoci', ['unpack', '--image', `${layout}:1`, bundle], { stdio: 'pipe' });
  assert.equal(readFileSync(join(bundle, 'rootfs', 'etc', 'hello'), 'utf8'), 'hello from jettison\n');
  assert.equal(readlinkSync(join(bundle, 'rootfs', 'bin', 'sh')), 'busybox');
  assert.ok(lstatSync(join(bundle, 'rootfs', 'bin', 'busybox')).mode & 0o111);
  const runtime = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  assert.equal(runtime.root.path, 'rootfs');

  // umoci adds a layer and tags it in the same layout; we load the result.
  writeFileSync(join(bundle, 'rootfs', 'etc', 'added'), 'by umoci\n');
  execFileSync('umoci', ['repack', '--image', `${layout}:2`, bundle], { stdio: 'pipe' });
  execFileSync('umoci', ['config', '--image', `${layout}:2`, '--config.env', 'X=1'], { stdio: 'pipe' });
  const other = join(fx.dir, 'other');
  const r = await fx.cli(['--root', other, 'load', '-i', 'layout']);
  assert.equal(r.code, 0, r.stderr);
  // umoci copies our io.containerd.image.name to its new entry and sets ref.name "2": the tag wins.
  assert.equal(r.stdout, 'Loaded image: interop/umoci:1\nLoaded image: interop/umoci:2\n');
  const two = JSON.parse((await fx.cli(['--root', other, 'inspect', 'interop/umoci:2'])).stdout)[0];
  assert.equal(two.RootFS.Layers.length, 2, 'the layer umoci added is there');
  assert.deepEqual(two.Config.Env, ['X=1']);
  assert.equal((await fx.cli(['--root', other, 'fsck'])).code, 0);
});
