/** Resolving container paths in an untrusted root: symlinks stay inside, stubs are created and recorded. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePath, resolveInRoot, restoreTimes, statTimes } from '../../../src/worker/fs/rootpath.ts';

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'jettison-rootpath-'));
  mkdirSync(join(root, 'etc'));
  mkdirSync(join(root, 'usr/lib'), { recursive: true });
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
  symlinkSync('/../../../../etc', join(root, 'abs-escape'));
  symlinkSync('../../../../../etc/shadow', join(root, 'etc/rel-escape'));
  symlinkSync('usr/lib', join(root, 'lib'));
  symlinkSync('loop2', join(root, 'loop1'));
  symlinkSync('loop1', join(root, 'loop2'));
});
after(() => rmSync(root, { recursive: true, force: true }));

const cases: [string, string, string][] = [
  ['plain path', '/etc/passwd', 'etc/passwd'],
  ['dot-dot clamps at the root', '/../../etc/passwd', 'etc/passwd'],
  ['absolute symlink is relative to the root', '/abs-escape/passwd', 'etc/passwd'],
  ['relative symlink cannot climb out', '/etc/rel-escape', 'etc/shadow'],
  ['symlinked dir', '/lib/x.so', 'usr/lib/x.so'],
  ['missing components are appended', '/nope/a/../b', 'nope/b'],
];
for (const [name, path, expected] of cases) {
  test(`resolveInRoot: ${name}`, async () => {
    assert.equal(await resolveInRoot(root, path), join(root, expected));
  });
}

test('resolveInRoot: a symlink loop is an error', async () => {
  await assert.rejects(resolveInRoot(root, '/loop1'), /too many levels of symbolic links/);
});

test('ensurePath creates missing parents and the target, and reports them in order', async () => {
  const before = await statTimes(join(root, 'etc'));
  const r = await ensurePath(root, '/etc/ssl/certs/ca.pem', 'file');
  assert.equal(r.hostPath, join(root, 'etc/ssl/certs/ca.pem'));
  assert.deepEqual(r.created, [
    { path: '/etc/ssl', dir: true },
    { path: '/etc/ssl/certs', dir: true },
    { path: '/etc/ssl/certs/ca.pem', dir: false },
  ]);
  assert.deepEqual(r.parentTimes, [{ path: '/etc', ...before }]);
  assert.ok(statSync(r.hostPath).isFile());
  // Existing paths create nothing.
  assert.deepEqual((await ensurePath(root, '/etc/ssl/certs/ca.pem', 'file')).created, []);
});

test('ensurePath follows symlinks inside the root', async () => {
  const r = await ensurePath(root, '/abs-escape/newdir', 'dir');
  assert.equal(r.hostPath, join(root, 'etc/newdir'));
  assert.ok(statSync(join(root, 'etc/newdir')).isDirectory());
});

// Whole seconds (image files) are set in-process; other mtimes need touch to be exact (the atime, in no
// layer, is kept to the microsecond). The in-process cases run with an empty PATH where no process may
// be started, so a spawned touch would fail the case.
const timeCases: [string, { atime: string; mtime: string }, 'in-process' | 'touch'][] = [
  ['whole seconds', { atime: '1700000000.000000000', mtime: '0.000000000' }, 'in-process'],
  ['the epoch', { atime: '0.000000000', mtime: '0.000000000' }, 'in-process'],
  // Node takes a negative time as "now".
  ['before the epoch', { atime: '0.000000000', mtime: '-86400.000000000' }, 'touch'],
  ['half a second', { atime: '1600000000.500000000', mtime: '1600000000.500000000' }, 'in-process'],
  ['microseconds', { atime: '1600000000.123456000', mtime: '1600000000.123456000' }, 'in-process'],
  ['microseconds, a double that rounds down', { atime: '1700000000.000001000', mtime: '1711111111.999999000' }, 'in-process'],
  ['nanoseconds', { atime: '1700000000.123456789', mtime: '1600000000.987654321' }, 'touch'],
  ['nanoseconds before the epoch', { atime: '0.000000000', mtime: '-1.250000001' }, 'touch'],
];
for (const [name, t, how] of timeCases) {
  test(`restoreTimes puts times back exactly: ${name} (${how})`, async () => {
    const p = join(root, 'usr');
    const path = process.env.PATH;
    if (how === 'in-process') process.env.PATH = '';
    try {
      await restoreTimes(p, t);
    } finally {
      process.env.PATH = path;
    }
    const got = await statTimes(p);
    assert.equal(got.mtime, t.mtime);
    assert.equal(got.atime.slice(0, -3), t.atime.slice(0, -3));
  });
}

test('restoreTimes with exact: false never starts a process and is within a microsecond', async () => {
  const p = join(root, 'usr');
  const path = process.env.PATH;
  process.env.PATH = '';
  try {
    await restoreTimes(p, { atime: '1700000000.123456789', mtime: '1600000000.987654321' }, { exact: false });
  } finally {
    process.env.PATH = path;
  }
  const mtime = Number((await statTimes(p)).mtime.split('.')[1]);
  assert.ok(Math.abs(mtime - 987654321) < 1000, String(mtime));
});

test('ensurePath calls beforeCreate once, with the host dir of the first created entry', async () => {
  const seen: string[] = [];
  const r = await ensurePath(root, '/usr/lib/a/b', 'dir', 0o755, async (parentHost) => {
    seen.push(parentHost);
  });
  assert.deepEqual(seen, [join(root, 'usr/lib')]);
  assert.equal(r.parentHost, join(root, 'usr/lib'));
  assert.equal((await ensurePath(root, '/usr/lib/a/b', 'dir', 0o755, async () => assert.fail('nothing to create'))).parentHost, undefined);
});
