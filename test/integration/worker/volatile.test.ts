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

/** What probes.json holds before the worker starts (KEY = this host's overlay key), and what follows. */
const cases: { name: string; seed?: (key: string) => string; volatile: boolean; recorded: (key: string) => string }[] = [
  { name: 'no probes.json: a probe finds volatile works and remembers it', volatile: true, recorded: (k) => `${k}|volatile` },
  {
    name: 'a probes.json from before volatile was probed (plain KEY): probed again',
    seed: (k) => k,
    volatile: true,
    recorded: (k) => `${k}|volatile`,
  },
  {
    // Proves the remembered answer is used: a probe here would find volatile works and record it.
    name: 'remembered as refused (KEY|plain): mounted without volatile, no new probe',
    seed: (k) => `${k}|plain`,
    volatile: false,
    recorded: (k) => `${k}|plain`,
  },
  { name: 'remembered under another boot or kernel: probed again', seed: () => 'other-kernel|other-boot|dev=1|plain', volatile: true, recorded: (k) => `${k}|volatile` },
];

for (const c of cases) {
  test(`overlay volatile: ${c.name}`, async () => {
    const root = join(dir, c.name.replace(/\W+/g, '-'));
    const first = await createWorker({ root, snapshotter: 'copy' }); // makes the state dir
    await first.close();
    const key = new ProbeCache(join(root, 'worker'), join(root, 'worker', 'probe')).overlayKey();
    if (c.seed) writeFileSync(join(root, 'worker', 'probes.json'), JSON.stringify({ version: 1, passed: { overlay: c.seed(key) } }));
    const w = await createWorker({ root });
    assert.equal(w.snapshotter, 'overlay');
    const snap = await w.prepare([layer]);
    try {
      const opts = superOptions(snap.rootfs);
      assert.equal(isVolatile(opts), c.volatile, opts.join(','));
      const commit = await w.commit(snap);
      assert.equal(commit.kind === 'overlay-upper' && commit.durable, !c.volatile, 'an upper is durable unless volatile');
      assert.deepEqual(mountsUnder(snap.dir), []);
    } finally {
      await w.release(snap);
      await w.close();
    }
    assert.equal(probes(root).overlay, c.recorded(key));
  });
}
