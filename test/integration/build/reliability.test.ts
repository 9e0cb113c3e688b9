/**
 * `jettison build` under abuse: kill -9 during a RUN (the store stays consistent, the next command cleans the
 * mounts and containers, the next build works), Ctrl-C during a RUN (non-zero exit, nothing left mounted,
 * running or half-written), and two builds at once sharing a `sharing=locked` cache mount.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BaseImages } from '../../support/base-images.ts';
import { copyFixture, entries, jettison, mountsUnder, runcContainers, show, spawnJettison, withBaseImages } from '../../fixtures/build/harness.ts';

let base: BaseImages;
let dir: string;

withBaseImages('reliability', (b, d) => {
  base = b;
  dir = d;
});

const LONG = { timeout: 5 * 60_000 };

/** Starts `jettison build` of the sleeper fixture as a child process and waits until its RUN is running. */
async function startSleeper(name: string) {
  const work = join(dir, name);
  mkdirSync(work);
  const root = join(work, 'root');
  const ctx = copyFixture('sleeper', join(work, 'ctx'));
  // The build's own temporary files (outside the store) go here, so the test can tell they were removed.
  const tmp = join(work, 'tmp');
  mkdirSync(tmp);
  const p = spawnJettison([...base.mirrorArgs, '--root', root, 'build', '--progress', 'plain', '-t', 'sleeper:1', ctx], { env: { TMPDIR: tmp } });
  await p.waitFor(/sleeping-2\b/, 120_000);
  // The RUN's container is up: a runc container and overlay mounts exist under the root right now.
  assert.equal(runcContainers(root).length, 1, `one container while the RUN runs: ${p.output()}`);
  assert.ok(mountsUnder(root).length > 0, 'the RUN has mounts');
  return { p, root, ctx, tmp };
}

/** Nothing under the root is mounted, running or left over from a RUN. */
function assertNoLeftovers(root: string): void {
  assert.deepEqual(mountsUnder(root), [], 'no mounts under the root');
  assert.deepEqual(runcContainers(root), [], 'no runc containers');
  assert.deepEqual(entries(join(root, 'worker', 'exec')), [], 'no exec dirs');
  assert.deepEqual(entries(join(root, 'worker', 'snapshots')), [], 'no snapshots');
  assert.deepEqual(entries(join(root, 'tmp')), [], 'no half-written store files');
}

test('kill -9 during a RUN: fsck is clean, the next build cleans up and succeeds', LONG, async () => {
  const { p, root, ctx } = await startSleeper('kill9');
  p.child.kill('SIGKILL');
  const exit = await p.exited;
  assert.equal(exit.signal, 'SIGKILL');

  const fsck = await jettison(root, [], ['fsck']);
  assert.equal(fsck.code, 0, show(fsck));
  assert.match(fsck.stdout, /^fsck: ok/);

  const next = await jettison(root, base.mirrorArgs, ['build', '--progress', 'plain', '--build-arg', 'SLEEP=0', '-t', 'sleeper:1', ctx]);
  assert.equal(next.code, 0, show(next));
  const ran = await jettison(root, [], ['run', '--rm', 'sleeper:1', 'cat', '/slept']);
  assert.equal(ran.stdout, 'slept\n', show(ran));
  assertNoLeftovers(root);
  const fsck2 = await jettison(root, [], ['fsck']);
  assert.equal(fsck2.code, 0, show(fsck2));
});

test('Ctrl-C (SIGINT) during a RUN: non-zero exit, everything unmounted, no container, no temporary state', LONG, async () => {
  const { p, root, tmp } = await startSleeper('sigint');
  p.child.kill('SIGINT');
  const exit = await p.exited;
  assert.ok(exit.code !== 0 && exit.code !== null, `exit ${exit.code ?? exit.signal}:\n${p.output()}`);
  // Checked at once, with no other jettison command in between: the interrupted process cleaned up itself.
  assertNoLeftovers(root);
  assert.deepEqual(entries(join(root, 'leases')), [], 'the build released its lease');
  assert.deepEqual(entries(tmp), [], 'no temporary files outside the store');
  const images = await jettison(root, [], ['images', '--format', 'json']);
  assert.ok(!images.stdout.includes('sleeper'), 'no image was tagged');
  const fsck = await jettison(root, [], ['fsck']);
  assert.equal(fsck.code, 0, show(fsck));
});

test('two builds at once appending to one file in a sharing=locked cache mount lose no line', LONG, async () => {
  const work = join(dir, 'locked');
  mkdirSync(work);
  const root = join(work, 'root');
  const ctx = copyFixture('concurrent-cache', join(work, 'ctx'));
  const builds = ['one', 'two'].map((who) =>
    spawnJettison([...base.mirrorArgs, '--root', root, 'build', '--progress', 'plain', '--build-arg', `WHO=${who}`, ctx]),
  );
  const exits = await Promise.all(builds.map((b) => b.exited));
  exits.forEach((e, i) => assert.equal(e.code, 0, builds[i].output()));
  assert.match(builds[0].output(), /one appended 1000/);
  assert.match(builds[1].output(), /two appended 1000/);

  const count = copyFixture('concurrent-cache-count', join(work, 'count'));
  const out = join(work, 'out');
  const r = await jettison(root, base.mirrorArgs, ['build', '--progress', 'plain', '--build-arg', `NONCE=${Date.now()}`, '-o', `type=local,dest=${out}`, count]);
  assert.equal(r.code, 0, show(r));
  assert.equal(readFileSync(join(out, 'count'), 'utf8').trim(), '2000');
  assert.deepEqual(
    readFileSync(join(out, 'per-build'), 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/)),
    [['1000', 'one'], ['1000', 'two']],
  );
  assert.equal(readFileSync(join(out, 'duplicates'), 'utf8').trim(), '0');
  assertNoLeftovers(root);
});
