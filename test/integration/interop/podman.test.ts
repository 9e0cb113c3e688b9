/**
 * `podman load` (Debian's podman, as root, in a throwaway storage root with the vfs driver) accepts
 * our docker archives, and `podman save` output loads back into our store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { busyboxImage } from '../store/fixture.ts';

test('podman loads our docker archive and runs nothing but reads it back; we load podman save', { timeout: 180_000 }, async (t) => {
  assert.equal(process.getuid?.(), 0, 'podman with a private root needs root');
  const fx = await busyboxImage('interop/podman:1');
  t.after(fx.cleanup);
  const podman = (args: string[]) =>
    execFileSync(
      'podman',
      ['--root', join(fx.dir, 'podman-root'), '--runroot', join(fx.dir, 'podman-run'), '--storage-driver', 'vfs', ...args],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
  assert.equal((await fx.cli(['save', '-o', 'img.tar', 'interop/podman:1'])).code, 0);
  const out = podman(['load', '-i', join(fx.dir, 'img.tar')]);
  assert.match(out, /Loaded image: .*interop\/podman:1/);
  const ours = JSON.parse((await fx.cli(['inspect', 'interop/podman:1'])).stdout)[0];
  const theirs = JSON.parse(podman(['image', 'inspect', 'interop/podman:1']))[0];
  assert.equal(`sha256:${theirs.Id}`, ours.Id, 'podman computes the same image ID (config digest)');
  assert.deepEqual(theirs.RootFS.Layers, ours.RootFS.Layers);

  podman(['tag', 'interop/podman:1', 'example.com/from-podman:7']);
  podman(['save', '-o', join(fx.dir, 'podman.tar'), 'example.com/from-podman:7']);
  const r = await fx.cli(['--root', join(fx.dir, 'other'), 'load', '-i', 'podman.tar']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'Loaded image: example.com/from-podman:7\n');
});
