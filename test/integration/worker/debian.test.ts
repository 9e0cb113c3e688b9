/**
 * A real build step in a Debian root made by mmdebstrap (test/support/images.ts): compile and run a C
 * program as a RUN would, and check that the diff holds the outputs. Slow the first time (the rootfs is
 * built and cached), seconds afterwards.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createWorker, commitChanges, type Change, type Worker } from '../../../src/worker/index.ts';
import { debianRootfs } from '../../support/images.ts';
import { cleanupDir, run, sh, tempDir } from './helpers.ts';

let dir: string;
let worker: Worker;
before(async () => {
  dir = tempDir('worker-debian');
  worker = await createWorker({ root: join(dir, 'store') });
});
after(async () => {
  await worker?.close();
  cleanupDir(dir);
});

test('gcc compiles and runs a program in a Debian rootfs; the binary is in the diff', { timeout: 15 * 60_000 }, async () => {
  const tar = await debianRootfs({ packages: ['gcc', 'libc6-dev', 'make'] });
  const layer = join(dir, 'debian');
  mkdirSync(layer);
  execFileSync('tar', ['-xpf', tar, '-C', layer, '--numeric-owner']);
  const snap = await worker.prepare([layer]);
  try {
    const r = await run(worker, snap, {
      args: sh('printf "#include <stdio.h>\\nint main(void){puts(\\"built\\");return 42;}\\n" > main.c && gcc -O2 -o hello main.c && ./hello; echo "exit $?"'),
      cwd: '/src',
      network: 'none',
    });
    assert.equal(r.stdout, 'built\nexit 42\n', r.stderr);
    const changes: Change[] = [];
    for await (const c of commitChanges(await worker.commit(snap))) changes.push(c);
    // Nothing else: the mount points made for /dev, /proc, /etc/hosts… are gone again.
    assert.deepEqual(changes, [
      { path: '/src', kind: 'add' },
      { path: '/src/hello', kind: 'add' },
      { path: '/src/main.c', kind: 'add' },
      // gcc's temporary files came and went.
      { path: '/tmp', kind: 'modify' },
    ]);
  } finally {
    await worker.release(snap);
  }
});
