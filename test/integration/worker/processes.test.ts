/**
 * The helper processes a RUN step starts, which are most of its cost: runc, mount, umount, touch and
 * getfattr are replaced on PATH by wrappers that log each call and then exec the real tool. A step
 * that exits normally runs `mount`, `runc run` and `umount` and nothing else (no `runc delete`, no
 * `touch`, no `getfattr`); the cases that need more (an aborted run, nanosecond directory times) say
 * which. Probes of overlayfs and the runtime pass once per machine boot: a second process does not
 * repeat them, and a changed runtime binary or a bad probes.json is probed again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createWorker, type MountSpec, type Worker } from '../../../src/worker/index.ts';
import { findOnPath } from '../../../src/worker/runtime/detect.ts';
import { busyboxLayerDir, cleanupDir, run, sh, tempDir } from './helpers.ts';

let dir: string;
let layer: string;
let bin: string;
let log: string;
let root: string;
let worker: Worker;
let savedPath: string | undefined;
let nsEtc: string;

/** A wrapper `name` in `bin` that logs "name args…" and execs `real`. */
function wrap(name: string, real: string): void {
  const f = join(bin, name);
  writeFileSync(f, `#!/bin/sh\necho "${name} $*" >> '${log}'\nexec '${real}' "$@"\n`);
  chmodSync(f, 0o755);
}

/** The logged calls since the last call, as "tool subcommand" (runc: its subcommand; others: the tool). */
function calls(): string[] {
  let text = '';
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    /* none yet */
  }
  writeFileSync(log, '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const w = l.split(' ');
      if (w[0] !== 'runc') return w[0];
      // runc --root R [--log F --log-format json] SUBCOMMAND …
      const sub = w.slice(1).find((x, i, a) => !x.startsWith('-') && !a[i - 1]?.startsWith('--'));
      return `runc ${sub}`;
    });
}

before(async () => {
  dir = tempDir('worker-procs');
  layer = await busyboxLayerDir(dir);
  bin = join(dir, 'bin');
  log = join(dir, 'calls.log');
  mkdirSync(bin);
  // A layer whose /etc has a nanosecond mtime (made before the wrappers are on PATH).
  nsEtc = join(dir, 'ns-etc');
  mkdirSync(join(nsEtc, 'etc'), { recursive: true });
  execFileSync('touch', ['-m', '-d', '@1600000000.123456789', join(nsEtc, 'etc')]);
  for (const t of ['mount', 'umount', 'touch', 'getfattr']) wrap(t, findOnPath(t)!);
  wrap('runc', findOnPath('runc')!);
  savedPath = process.env.PATH;
  process.env.PATH = `${bin}:${savedPath}`;
  root = join(dir, 'store');
  worker = await createWorker({ root, runtime: join(bin, 'runc') });
  assert.equal(worker.snapshotter, 'overlay', worker.snapshotterReason);
  await worker.runtime();
  calls();
});

after(async () => {
  await worker?.close();
  process.env.PATH = savedPath;
  cleanupDir(dir);
});

const cases: { name: string; script: string; mounts?: MountSpec[]; ns?: boolean; expected: string[] }[] = [
  { name: 'a RUN that writes a file', script: 'echo x > /f', expected: ['mount', 'runc run', 'umount'] },
  { name: 'a RUN that fails', script: 'exit 3', expected: ['mount', 'runc run', 'umount'] },
  {
    name: 'a RUN with cache and tmpfs mounts in missing dirs',
    script: 'true',
    mounts: [
      { type: 'cache', id: 'procs', target: '/usr/src/app/cache' },
      { type: 'tmpfs', target: '/scratch' },
    ],
    expected: ['mount', 'runc run', 'umount'],
  },
  { name: 'a file changed next to stubs in a whole-second /etc', script: 'echo >> /etc/passwd', expected: ['mount', 'runc run', 'umount'] },
  // Node cannot set a nanosecond mtime: touch does.
  { name: 'a file changed next to stubs in a nanosecond /etc', script: 'echo >> /etc/passwd', ns: true, expected: ['mount', 'runc run', 'touch', 'umount'] },
];

for (const c of cases) {
  test(`processes of one step: ${c.name}`, async () => {
    const snap = await worker.prepare(c.ns ? [nsEtc, layer] : [layer]);
    try {
      await run(worker, snap, { args: sh(c.script), mounts: c.mounts ?? [] });
      await worker.commit(snap);
    } finally {
      await worker.release(snap);
    }
    assert.deepEqual(calls(), c.expected);
  });
}

test('an aborted RUN kills and deletes its container', async () => {
  const snap = await worker.prepare([layer]);
  const ac = new AbortController();
  try {
    await assert.rejects(
      worker.exec(snap, { args: sh('echo started; sleep 60') }, { signal: ac.signal, onStdout: () => ac.abort(new Error('stop')) }),
      /stop/,
    );
  } finally {
    await worker.release(snap);
  }
  const c = calls();
  assert.ok(c.includes('runc kill'), c.join(', '));
  assert.ok(c.includes('runc delete'), c.join(', '));
});

/** Starts a worker in a fresh process on the same store and asks it for the runtime. */
function otherProcess(): Promise<void> {
  const code = `
    const { createWorker } = await import(${JSON.stringify(join(import.meta.dirname, '../../../src/worker/index.ts'))});
    const w = await createWorker({ root: ${JSON.stringify(root)}, runtime: ${JSON.stringify(join(bin, 'runc'))} });
    await w.runtime();
    if (w.snapshotter !== 'overlay') throw new Error(w.snapshotterReason);
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (status) => (status === 0 ? resolve() : reject(new Error(`exit ${status}`))));
  });
}

test('probes: a second process does not probe again; a bad file or a changed runtime is probed again', async () => {
  const probes = join(root, 'worker', 'probes.json');
  assert.match(readFileSync(probes, 'utf8'), /"overlay"/);
  await otherProcess();
  assert.deepEqual(calls(), []);

  writeFileSync(probes, '{ not json');
  await otherProcess();
  assert.deepEqual(calls(), ['mount', 'umount', 'runc run']);
  assert.equal(JSON.parse(readFileSync(probes, 'utf8')).version, 1);

  // The runtime binary changed (size and mtime): only the runtime is probed.
  writeFileSync(join(bin, 'runc'), readFileSync(join(bin, 'runc'), 'utf8') + '# changed\n');
  await otherProcess();
  assert.deepEqual(calls(), ['runc run']);
  await otherProcess();
  assert.deepEqual(calls(), []);
});
