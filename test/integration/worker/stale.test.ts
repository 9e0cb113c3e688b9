/**
 * A process killed with SIGKILL mid-RUN leaves a container, mounts and dirs; the next worker on the same
 * store removes them all.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createWorker } from '../../../src/worker/index.ts';
import { busyboxLayerDir, cleanupDir, mountsUnder, runcContainers, tempDir } from './helpers.ts';

let dir: string;
before(() => {
  dir = tempDir('worker-stale');
});
after(() => cleanupDir(dir));

test('a worker cleans up after a process killed -9 during a RUN', async () => {
  const layer = await busyboxLayerDir(dir);
  const root = join(dir, 'store');
  const bindSrc = join(dir, 'src');
  mkdirSync(bindSrc);
  const child = spawn(process.execPath, [join(import.meta.dirname, 'crash-child.ts'), root, layer, bindSrc], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('running')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));

  const stateDir = join(root, 'worker');
  const runcRoot = join(stateDir, 'runtime', 'runc');
  // The crash left a container, the snapshot's overlay, the secret tmpfs and the bind's overlay.
  assert.equal(runcContainers(runcRoot).length, 1);
  assert.ok(mountsUnder(stateDir).length >= 3, `mounts left: ${mountsUnder(stateDir).join(', ')}`);

  const worker = await createWorker({ root });
  try {
    assert.deepEqual(runcContainers(runcRoot), []);
    assert.deepEqual(mountsUnder(stateDir), []);
    assert.deepEqual(readdirSync(join(stateDir, 'exec')), []);
    assert.deepEqual(readdirSync(join(stateDir, 'snapshots')), []);
  } finally {
    await worker.close();
  }
});
