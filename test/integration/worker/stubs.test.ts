/**
 * Mount-point stubs (the files and directories made so that /etc/hosts, /etc/resolv.conf and RUN mounts
 * have a destination) never reach the diff, and the directories they were made in keep their times: a
 * table of RUN scripts and mounts with the upper dir each must leave, on busybox (whose /etc has no
 * hosts or resolv.conf, and whose directories have whole-second times) and on a layer whose /etc has a
 * nanosecond mtime (as a directory made by an earlier RUN has). The copy snapshotter must report the
 * same changes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createWorker, commitChanges, type Change, type MountSpec, type Worker } from '../../../src/worker/index.ts';
import { walk } from '../../../src/worker/snapshot/walk.ts';
import { busyboxLayerDir, cleanupDir, run, sh, tempDir } from './helpers.ts';

let dir: string;
let busybox: string;
let nsEtc: string;
const workers: Record<'overlay' | 'copy', Worker> = {} as never;
const NS_MTIME = '1600000000.123456789';

before(async () => {
  dir = tempDir('worker-stubs');
  busybox = await busyboxLayerDir(dir);
  // A layer over busybox whose /etc (kept, not opaque) has a nanosecond mtime.
  nsEtc = join(dir, 'ns-etc');
  mkdirSync(join(nsEtc, 'etc'), { recursive: true });
  execFileSync('touch', ['-m', '-d', `@${NS_MTIME}`, join(nsEtc, 'etc')]);
  workers.overlay = await createWorker({ root: join(dir, 'store'), snapshotter: 'overlay' });
  workers.copy = await createWorker({ root: join(dir, 'store-copy'), snapshotter: 'copy' });
});

after(async () => {
  await workers.overlay?.close();
  await workers.copy?.close();
  cleanupDir(dir);
});

async function upperEntries(upper: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of walk(upper)) out.push(`${e.rel} ${e.stat.isCharacterDevice() && e.stat.rdev === 0 ? 'whiteout' : e.stat.isDirectory() ? 'dir' : 'file'}`);
  return out;
}

function mtimeNs(p: string): string {
  const ns = lstatSync(p, { bigint: true }).mtimeNs;
  return `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
}

interface Case {
  name: string;
  script: string;
  mounts?: MountSpec[];
  /** 'ns-etc': busybox under a layer whose /etc has a nanosecond mtime. */
  base?: 'busybox' | 'ns-etc';
  /** The upper dir afterwards. */
  upper: string[];
  /** Directories (upper-relative) whose mtime must be the lower's, exactly. */
  keepsTime?: string[];
  /** Directories whose mtime the RUN changed (must not be put back). */
  newTime?: string[];
  /** Extra checks on the upper dir. */
  check?: (upper: string) => void;
}

const cases: Case[] = [
  { name: 'a RUN that writes nothing leaves an empty upper', script: 'true', upper: [] },
  {
    name: 'mount targets in missing nested dirs leave nothing',
    script: 'test -d /usr/src/app/cache && test -d /data/x',
    mounts: [
      { type: 'cache', id: 'stubs-nested', target: '/usr/src/app/cache' },
      { type: 'tmpfs', target: '/data/x' },
    ],
    upper: [],
  },
  { name: 'a secret under a missing /run leaves nothing', script: 'cat /run/secrets/s >/dev/null', mounts: [{ type: 'secret', target: '/run/secrets/s', data: 'x' }], upper: [] },
  {
    name: 'a file changed next to the stubs: /etc keeps its time',
    script: 'echo more >> /etc/passwd',
    upper: ['etc dir', 'etc/passwd file'],
    keepsTime: ['etc'],
  },
  {
    name: 'a file added next to the stubs: /etc keeps the new time',
    script: 'echo hi > /etc/motd',
    upper: ['etc dir', 'etc/motd file'],
    newTime: ['etc'],
  },
  {
    name: 'a chmod of the stub parent is kept',
    script: 'chmod 700 /etc',
    upper: ['etc dir'],
    check: (upper) => assert.equal(lstatSync(join(upper, 'etc')).mode & 0o777, 0o700),
  },
  {
    name: 'a write beside a nested mount keeps the changed dir, drops the stub-only one',
    script: 'touch /var/new',
    mounts: [{ type: 'cache', id: 'stubs-var', target: '/var/www/cache' }],
    upper: ['var dir', 'var/new file'],
  },
  {
    name: 'a RUN that writes nothing on a nanosecond /etc leaves an empty upper',
    script: 'true',
    base: 'ns-etc',
    upper: [],
  },
  {
    name: 'a file changed next to the stubs in a nanosecond /etc: the time is put back exactly',
    script: 'echo more >> /etc/passwd',
    base: 'ns-etc',
    upper: ['etc dir', 'etc/passwd file'],
    check: (upper) => assert.equal(mtimeNs(join(upper, 'etc')), NS_MTIME),
  },
];

function lowersOf(c: Case): string[] {
  return c.base === 'ns-etc' ? [nsEtc, busybox] : [busybox];
}

describe('mount stubs (overlay upper)', () => {
  for (const c of cases) {
    test(c.name, async () => {
      const w = workers.overlay;
      const snap = await w.prepare(lowersOf(c));
      try {
        const r = await run(w, snap, { args: sh(c.script), mounts: c.mounts ?? [] });
        assert.equal(r.exitCode, 0, r.stderr);
        const commit = await w.commit(snap);
        assert.equal(commit.kind, 'overlay-upper');
        const upper = (commit as { upperDir: string }).upperDir;
        assert.deepEqual(await upperEntries(upper), c.upper);
        for (const d of c.keepsTime ?? []) assert.equal(mtimeNs(join(upper, d)), mtimeNs(join(busybox, d)), `${d} mtime`);
        for (const d of c.newTime ?? []) assert.notEqual(mtimeNs(join(upper, d)), mtimeNs(join(busybox, d)), `${d} mtime`);
        c.check?.(upper);
      } finally {
        await w.release(snap);
      }
    });
  }
});

describe('mount stubs: the copy snapshotter reports the same changes', () => {
  for (const c of cases) {
    test(c.name, async () => {
      const changes: Change[][] = [];
      for (const name of ['overlay', 'copy'] as const) {
        const w = workers[name];
        const snap = await w.prepare(lowersOf(c));
        try {
          const r = await run(w, snap, { args: sh(c.script), mounts: (c.mounts ?? []).map((m) => (m.type === 'cache' ? { ...m, id: `${m.id}-${name}` } : m)) });
          assert.equal(r.exitCode, 0, r.stderr);
          const out: Change[] = [];
          for await (const ch of commitChanges(await w.commit(snap))) out.push(ch);
          changes.push(out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)));
        } finally {
          await w.release(snap);
        }
      }
      assert.deepEqual(changes[1], changes[0]);
    });
  }
});
