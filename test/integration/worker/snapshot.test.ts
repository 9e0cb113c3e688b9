/**
 * Snapshots and what ends up in a RUN's diff, with both snapshotters: the overlay upper holds exactly
 * the changes (whiteouts for deletions, no mount stubs), the copy fallback gives the same changes,
 * lower layers' whiteouts and opaque dirs are honoured, long layer lists mount, and the RUN mounts
 * (bind ro/rw, cache, tmpfs, secret) behave as BuildKit's do.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createWorker, commitChanges, type Change, type Commit, type Worker } from '../../../src/worker/index.ts';
import { walk } from '../../../src/worker/snapshot/walk.ts';
import { busyboxLayerDir, cleanupDir, mountsUnder, run, sh, tempDir } from './helpers.ts';

let dir: string;
let layer: string;
const workers: Record<'overlay' | 'copy', Worker> = {} as never;

before(async () => {
  dir = tempDir('worker-snap');
  layer = await busyboxLayerDir(dir);
  workers.overlay = await createWorker({ root: join(dir, 'store'), snapshotter: 'overlay' });
  workers.copy = await createWorker({ root: join(dir, 'store-copy'), snapshotter: 'copy' });
});

after(async () => {
  await workers.overlay?.close();
  await workers.copy?.close();
  cleanupDir(dir);
});

async function changesOf(c: Commit): Promise<Change[]> {
  const out: Change[] = [];
  for await (const ch of commitChanges(c)) out.push(ch);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function upperEntries(upper: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of walk(upper)) {
    const kind = e.stat.isCharacterDevice() && e.stat.rdev === 0 ? 'whiteout' : e.stat.isDirectory() ? 'dir' : e.stat.isSymbolicLink() ? 'link' : 'file';
    out.push(`${e.rel} ${kind}`);
  }
  return out;
}

/** A script touching files of every kind, run with one mount of each type. */
const SCRIPT = [
  'rm /bin/ls',
  'echo hello > /etc/motd',
  'echo more >> /etc/passwd',
  'mkdir -p /opt/app && ln -s /bin/busybox /opt/app/bb',
  'chmod 700 /var/www',
  'rm -r /home/www',
  'cat /run/secrets/token > /dev/null',
  'echo scratch > /scratch/x',
  'echo cached > /mnt/cache/x',
].join(' && ');

function mountsFor(src: string) {
  return [
    { type: 'secret' as const, target: '/run/secrets/token', data: 'SECRET-VALUE-123' },
    { type: 'tmpfs' as const, target: '/scratch' },
    { type: 'cache' as const, id: 'diff-test', target: '/mnt/cache' },
    { type: 'bind' as const, source: src, target: '/src/ctx' },
  ];
}

test('the overlay upper holds exactly the changes: whiteouts for deletions, no mount stubs', async () => {
  const w = workers.overlay;
  const src = join(dir, 'ctx-a');
  mkdirSync(src);
  const snap = await w.prepare([layer]);
  try {
    const r = await run(w, snap, { args: sh(SCRIPT), mounts: mountsFor(src) });
    assert.equal(r.exitCode, 0, r.stderr);
    const c = await w.commit(snap);
    assert.equal(c.kind, 'overlay-upper');
    assert.equal(mountsUnder(snap.dir).length, 0, 'commit unmounts');
    const upper = (c as { upperDir: string }).upperDir;
    assert.deepEqual(await upperEntries(upper), [
      'bin dir',
      'bin/ls whiteout',
      'etc dir',
      'etc/motd file',
      'etc/passwd file',
      'home dir',
      'home/www whiteout',
      'opt dir',
      'opt/app dir',
      'opt/app/bb link',
      'var dir',
      'var/www dir',
    ]);
    assert.equal(readFileSync(join(upper, 'etc/motd'), 'utf8'), 'hello\n');
    // The secret never touched the snapshot.
    const grep = spawnSync('grep', ['-rl', 'SECRET-VALUE-123', upper], { encoding: 'utf8' });
    assert.equal(grep.status, 1, `grep found the secret in: ${grep.stdout}`);
  } finally {
    await w.release(snap);
  }
});

test('the copy fallback gives the same changes as overlay', async () => {
  const results: Change[][] = [];
  for (const name of ['overlay', 'copy'] as const) {
    const w = workers[name];
    assert.equal(w.snapshotter, name);
    const src = join(dir, `ctx-${name}`);
    mkdirSync(src);
    const snap = await w.prepare([layer]);
    try {
      const r = await run(w, snap, { args: sh(SCRIPT), mounts: mountsFor(src), cwd: '/work/dir' });
      assert.equal(r.exitCode, 0, r.stderr);
      results.push(await changesOf(await w.commit(snap)));
    } finally {
      await w.release(snap);
    }
  }
  assert.deepEqual(results[1], results[0]);
  assert.deepEqual(results[0], [
    { path: '/bin', kind: 'modify' },
    { path: '/bin/ls', kind: 'delete' },
    { path: '/etc', kind: 'modify' },
    { path: '/etc/motd', kind: 'add' },
    { path: '/etc/passwd', kind: 'modify' },
    { path: '/home', kind: 'modify' },
    { path: '/home/www', kind: 'delete' },
    { path: '/opt', kind: 'add' },
    { path: '/opt/app', kind: 'add' },
    { path: '/opt/app/bb', kind: 'add' },
    { path: '/var/www', kind: 'modify' },
    { path: '/work', kind: 'add' },
    { path: '/work/dir', kind: 'add' },
  ]);
});

describe('lower layers', () => {
  let top: string;
  before(() => {
    // A layer over busybox: /bin/cat whited out, /etc opaque with one file, a new file.
    top = join(dir, 'layer-top');
    mkdirSync(join(top, 'bin'), { recursive: true });
    mkdirSync(join(top, 'etc'));
    execFileSync('mknod', [join(top, 'bin/cat'), 'c', '0', '0']);
    execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', join(top, 'etc')]);
    writeFileSync(join(top, 'etc/only'), 'only\n');
    writeFileSync(join(top, 'added'), 'added\n');
  });
  for (const name of ['overlay', 'copy'] as const) {
    test(`whiteouts and opaque dirs in lowers hide older content (${name})`, async () => {
      const w = workers[name];
      const snap = await w.prepare([top, layer]);
      try {
        const r = await run(w, snap, { args: sh('test -e /bin/cat && echo cat; ls /etc; /bin/busybox cat /added; test -e /bin/sh && echo sh') });
        // hosts and resolv.conf are the host's, mounted over the (opaque) /etc.
        assert.equal(r.stdout, 'hosts\nonly\nresolv.conf\nadded\nsh\n', r.stderr);
        const ch = await changesOf(await w.commit(snap));
        assert.deepEqual(ch, []);
      } finally {
        await w.release(snap);
      }
    });
  }
});

test('more layers than fit in one mount option page are stacked', async () => {
  const w = workers.overlay;
  const layersDir = join(dir, 'many');
  const lowers: string[] = [];
  for (let i = 0; i < 70; i++) {
    const l = join(layersDir, `layer-${'0123456789abcdef'.repeat(4)}-${String(i).padStart(3, '0')}`);
    mkdirSync(join(l, 'layers'), { recursive: true });
    writeFileSync(join(l, 'layers', String(i)), '');
    writeFileSync(join(l, 'top'), `${i}\n`);
    lowers.push(l);
  }
  // Newest first: layer 69 wins.
  lowers.reverse();
  const snap = await w.prepare([...lowers, layer]);
  try {
    assert.ok(lowers.join(':').length > 4096);
    const r = await run(w, snap, { args: sh('ls /layers | wc -l; cat /top') });
    assert.equal(r.stdout.replace(/ +/g, ''), '70\n69\n', r.stderr);
    assert.ok(mountsUnder(snap.dir).length > 1, 'stacked mounts');
  } finally {
    await w.release(snap);
  }
  assert.deepEqual(mountsUnder(snap.dir), []);
});

test('FROM scratch: a snapshot with no layers', async () => {
  const w = workers.overlay;
  const snap = await w.prepare([]);
  try {
    assert.deepEqual(readdirSync(snap.rootfs), []);
  } finally {
    await w.release(snap);
  }
});

describe('RUN mounts', () => {
  for (const name of ['overlay', 'copy'] as const) {
    test(`a rw bind mount's writes are discarded (${name})`, async () => {
      const w = workers[name];
      const src = join(dir, `bind-rw-${name}`);
      mkdirSync(src);
      writeFileSync(join(src, 'a'), 'original\n');
      const snap = await w.prepare([layer]);
      try {
        const r = await run(w, snap, {
          args: sh('echo changed > /src/a && touch /src/new && cat /src/a'),
          mounts: [{ type: 'bind', source: src, target: '/src', readonly: false }],
        });
        assert.equal(r.stdout, 'changed\n', r.stderr);
        assert.equal(readFileSync(join(src, 'a'), 'utf8'), 'original\n');
        assert.deepEqual(readdirSync(src), ['a']);
        assert.deepEqual(await changesOf(await w.commit(snap)), []);
      } finally {
        await w.release(snap);
      }
    });
  }

  test('a read-only bind mount refuses writes', async () => {
    const w = workers.overlay;
    const src = join(dir, 'bind-ro');
    mkdirSync(src);
    writeFileSync(join(src, 'f'), 'data\n');
    const snap = await w.prepare([layer]);
    try {
      const r = await run(w, snap, { args: sh('cat /ro/f; echo x > /ro/f'), mounts: [{ type: 'bind', source: src, target: '/ro' }] });
      assert.equal(r.stdout, 'data\n');
      assert.match(r.stderr, /Read-only file system/);
      assert.notEqual(r.exitCode, 0);
    } finally {
      await w.release(snap);
    }
  });

  test('a cache mount persists between runs and gets its owner when first made', async () => {
    const w = workers.overlay;
    const mount = { type: 'cache' as const, id: 'persist', target: '/cache', uid: 1000, gid: 1000, mode: 0o750 };
    const s1 = await w.prepare([layer]);
    try {
      const r = await run(w, s1, { args: sh('echo one > /cache/f; stat -c "%u %g %a" /cache'), user: 'www', mounts: [mount] });
      assert.equal(r.stdout, '1000 1000 750\n', r.stderr);
      assert.deepEqual(await changesOf(await w.commit(s1)), []);
    } finally {
      await w.release(s1);
    }
    const s2 = await w.prepare([layer]);
    try {
      const r = await run(w, s2, { args: sh('cat /cache/f'), mounts: [{ ...mount, uid: 0 }] });
      assert.equal(r.stdout, 'one\n');
    } finally {
      await w.release(s2);
    }
  });

  test('a secret is readable with its owner and mode, and absent from the snapshot', async () => {
    const w = workers.overlay;
    const snap = await w.prepare([layer]);
    try {
      const r = await run(w, snap, {
        args: sh('cat /run/secrets/id; stat -c "%u %g %a" /run/secrets/id; echo x > /run/secrets/id || echo ro'),
        user: 'www',
        mounts: [{ type: 'secret', target: '/run/secrets/id', data: 'TOKEN', uid: 1000, gid: 1000 }],
      });
      assert.equal(r.stdout, 'TOKEN1000 1000 400\nro\n');
      const c = await w.commit(snap);
      assert.deepEqual(await changesOf(c), []);
      assert.deepEqual(readdirSync((c as { upperDir: string }).upperDir), []);
    } finally {
      await w.release(snap);
    }
  });

  test('a tmpfs mount is empty, writable and not in the snapshot', async () => {
    const w = workers.overlay;
    const snap = await w.prepare([layer]);
    try {
      const r = await run(w, snap, { args: sh('ls -A /tmp; echo x > /tmp/f; df /tmp | tail -1'), mounts: [{ type: 'tmpfs', target: '/tmp', size: 1 << 20 }] });
      assert.match(r.stdout, /^tmpfs\s+1024\s/, r.stderr);
      assert.deepEqual(await changesOf(await w.commit(snap)), []);
    } finally {
      await w.release(snap);
    }
  });
});

test('exec refuses a committed snapshot', async () => {
  const w = workers.overlay;
  const snap = await w.prepare([layer]);
  await w.commit(snap);
  await assert.rejects(w.exec(snap, { args: ['true'] }), /committed, not ready/);
  await w.release(snap);
  assert.equal(lstatSync(join(w.stateDir, 'snapshots')).isDirectory(), true);
  assert.deepEqual(readdirSync(join(w.stateDir, 'snapshots')), []);
});
