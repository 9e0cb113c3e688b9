/**
 * The writable overlay is mounted `volatile` where the kernel takes it (5.10+; this machine's does), so
 * unmounting a snapshot does not sync the whole file system; the probe says so once and probes.json
 * remembers it, and a probes.json written before volatile was probed leads to one new probe. A commit
 * of a volatile snapshot says it is not durable (the build marks the layer dir it keeps; see the unit
 * test of worker/image.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createWorker } from '../../../src/worker/index.ts';
import { ProbeCache } from '../../../src/worker/probe-cache.ts';
import { busyboxLayerDir, cleanupDir, mountsUnder, tempDir } from './helpers.ts';

let dir: string;
let layer: string;

before(async () => {
  dir = tempDir('worker-volatile');
  layer = await busyboxLayerDir(dir);
});

after(() => cleanupDir(dir));

/** The super-block options of the mount at `path` (from /proc/self/mountinfo). */
function superOptions(path: string): string[] {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f[4] !== path) continue;
    return f[f.indexOf('-') + 3].split(',');
  }
  throw new Error(`${path} is not mounted`);
}

/** Newer kernels show the option as fsync=volatile. */
const isVolatile = (opts: string[]) => opts.includes('volatile') || opts.includes('fsync=volatile');

function probes(root: string): Record<string, string> {
  return (JSON.parse(readFileSync(join(root, 'worker', 'probes.json'), 'utf8')) as { passed: Record<string, string> }).passed;
}

const cases = [
  { name: 'a first worker probes and remembers it', seed: undefined },
  { name: 'a probes.json from before volatile was probed leads to a new probe', seed: 'overlay only' },
] as const;

for (const c of cases) {
  test(`the writable overlay is mounted volatile: ${c.name}`, async () => {
    const root = join(dir, c.name.replace(/\W+/g, '-'));
    if (c.seed) {
      const first = await createWorker({ root, snapshotter: 'copy' });
      await first.close();
      const key = new ProbeCache(join(root, 'worker'), join(root, 'worker', 'probe')).overlayKey();
      writeFileSync(join(root, 'worker', 'probes.json'), JSON.stringify({ version: 1, passed: { overlay: key } }));
    }
    const w = await createWorker({ root });
    assert.equal(w.snapshotter, 'overlay');
    const snap = await w.prepare([layer]);
    try {
      assert.ok(isVolatile(superOptions(snap.rootfs)), superOptions(snap.rootfs).join(','));
      const commit = await w.commit(snap);
      assert.equal(commit.kind === 'overlay-upper' && commit.durable, false, 'a volatile upper is not durable');
      assert.deepEqual(mountsUnder(snap.dir), []);
    } finally {
      await w.release(snap);
      await w.close();
    }
    const passed = probes(root);
    assert.equal(passed['overlay-volatile'], passed.overlay, 'remembered under the same key');
    // A second worker takes it from probes.json: no probe dir is made, the mount is volatile again.
    const again = await createWorker({ root });
    const s2 = await again.prepare([layer]);
    try {
      assert.ok(isVolatile(superOptions(s2.rootfs)));
    } finally {
      await again.close();
    }
  });
}
