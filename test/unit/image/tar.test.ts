/**
 * The layer tar codec with real files in temp dirs: header encoding (read back by our reader and by
 * GNU tar), writer determinism and ordering, round trips through the applier, GNU tar extraction of
 * what we write, directory diffs, whiteouts and opaque markers in merge mode, hostile tars (path
 * escapes, with a sentinel outside the root), and malformed input.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after } from 'node:test';
import { PathEscapeError } from '../../../src/errors.ts';
import { applyLayerTar, readTar, writeLayerTar, type LayerSource, type WriteLayerOptions } from '../../../src/image/tar/index.ts';
import { BLOCK, craftTar, snapshotTree } from '../../support/trees.ts';

const tmp = mkdtempSync(join(tmpdir(), 'jettison-tar-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
function fresh(name = 'd'): string {
  const d = join(tmp, `${name}${n++}`);
  mkdirSync(d, { recursive: true });
  return d;
}

async function collect(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function tarOf(source: LayerSource, opts?: WriteLayerOptions): Promise<Buffer> {
  return collect(writeLayerTar(source, opts));
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** GNU tar's verbose listing, numeric owners, full times. */
function gnuList(tarFile: string): string[] {
  return execFileSync('tar', ['--numeric-owner', '--full-time', '-tvf', tarFile], { encoding: 'utf8' }).trim().split('\n');
}

async function headers(buf: Buffer) {
  const out = [];
  for await (const { header } of readTar([buf])) out.push(header);
  return out;
}

const LONG = 'L'.repeat(120);
const DEEP = Array.from({ length: 12 }, (_, i) => `dir${i}-${'x'.repeat(20)}`).join('/');

/** A tree exercising every type a plain user can make. */
function makeTree(): string {
  const d = fresh('tree');
  mkdirSync(join(d, 'etc/conf.d'), { recursive: true });
  writeFileSync(join(d, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
  writeFileSync(join(d, 'etc/conf.d/empty'), '');
  writeFileSync(join(d, 'bin'), Buffer.alloc(70_000, 7));
  chmodSync(join(d, 'bin'), 0o4755);
  linkSync(join(d, 'bin'), join(d, 'etc/bin-link'));
  symlinkSync('../bin', join(d, 'etc/bin-sym'));
  symlinkSync('/nonexistent/absolute', join(d, 'dangling'));
  writeFileSync(join(d, LONG), 'long name');
  mkdirSync(join(d, DEEP), { recursive: true });
  writeFileSync(join(d, DEEP, 'f'), 'deep');
  symlinkSync(`../${LONG}/${'t'.repeat(110)}`, join(d, 'longlink'));
  writeFileSync(join(d, 'ünïcødé'), 'utf8 name');
  execFileSync('mkfifo', [join(d, 'fifo')]);
  chmodSync(join(d, 'etc/conf.d'), 0o750);
  // sub-second mtimes (set precisely with touch, which takes nanoseconds)
  execFileSync('touch', ['-h', '-d', '@1600000000.123456789', join(d, 'etc/passwd')]);
  execFileSync('touch', ['-h', '-d', '@1600000001.5', join(d, 'etc/bin-sym')]);
  execFileSync('touch', ['-d', '@1500000000', join(d, 'etc/conf.d')]);
  execFileSync('setfattr', ['-n', 'user.comment', '-v', 'hello', join(d, 'etc/passwd')]);
  execFileSync('setfattr', ['-n', 'user.bin', '-v', '0x00ff10', join(d, 'bin')]);
  return d;
}

describe('header encoding', () => {
  // Each case: the header fields, what our reader must give back, and what GNU tar's listing must show.
  const cases: { name: string; entry: Parameters<typeof craftTar>[0][0]; gnu: RegExp }[] = [
    { name: 'short ustar name', entry: { path: 'a/b', content: 'x' }, gnu: /^-rw-r--r-- 0\/0\s+1 1970-01-01 00:00:00 a\/b$/ },
    { name: 'long name (PAX path)', entry: { path: `d/${LONG}` }, gnu: new RegExp(`d/${LONG}$`) },
    { name: 'non-ASCII name (PAX path)', entry: { path: 'café/ñ' }, gnu: /café\/ñ$/ },
    { name: 'long symlink target', entry: { path: 's', type: 'symlink', linkname: 'T'.repeat(150) }, gnu: /s -> T{150}$/ },
    { name: 'sub-second mtime', entry: { path: 't', mtimeNs: 1_600_000_000_123_456_789n }, gnu: /2020-09-13 12:26:40\.123456789 t$/ },
    { name: 'uid/gid above 2097151', entry: { path: 'u', uid: 3_000_000, gid: 4_000_000_000 }, gnu: / 3000000\/4000000000 / },
    { name: 'char device', entry: { path: 'null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 }, gnu: /^crw-rw-rw- 0\/0\s+1,3 / },
    { name: 'block device', entry: { path: 'sda', type: 'block', devmajor: 8, devminor: 0, mode: 0o660 }, gnu: /^brw-rw---- 0\/0\s+8,0 / },
    { name: 'fifo', entry: { path: 'p', type: 'fifo' }, gnu: /^prw-r--r-- / },
    { name: 'directory gets a trailing slash', entry: { path: 'dir', type: 'dir', mode: 0o1777 }, gnu: /^drwxrwxrwt 0\/0\s+0 .* dir\/$/ },
    { name: 'hard link', entry: { path: 'h', type: 'hardlink', linkname: 'a/b' }, gnu: /h link to a\/b$/ },
    {
      name: 'xattrs (SCHILY)',
      entry: { path: 'x', xattrs: new Map([['security.capability', Buffer.from('0100000200040000000000000000000000000000', 'hex')], ['user.k', Buffer.from('v')]]) },
      gnu: / x$/,
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const entries = c.entry.type === 'hardlink' ? [{ path: 'a/b', content: 'x' }, c.entry] : [c.entry];
      const buf = craftTar(entries);
      const file = join(fresh(), 't.tar');
      writeFileSync(file, buf);
      const list = gnuList(file);
      assert.match(list[list.length - 1], c.gnu);
      const got = (await headers(buf)).at(-1)!;
      assert.equal(got.path.replace(/\/$/, ''), c.entry.path);
      for (const k of ['type', 'uid', 'gid', 'mtimeNs', 'linkname', 'devmajor', 'devminor', 'mode'] as const) {
        if (c.entry[k] !== undefined) assert.equal(got[k], c.entry[k], k);
      }
      if (c.entry.xattrs) assert.deepEqual(got.xattrs, c.entry.xattrs);
    });
  }

  test('size of 8 GiB or more goes in a PAX record that GNU tar and our reader agree on', async () => {
    const size = 8 * 1024 ** 3 + 5;
    const head = craftTar([{ path: 'big', size }], { end: false });
    const file = join(fresh(), 'big.tar');
    writeFileSync(file, head);
    const r = spawnSync('tar', ['--numeric-owner', '-tvf', file], { encoding: 'utf8' });
    assert.match(r.stdout, new RegExp(` ${size} .* big`));
    const it = readTar([head])[Symbol.asyncIterator]();
    const first = await it.next();
    assert.equal(first.value!.header.size, size);
    await assert.rejects(it.next(), /unexpected end of archive/);
  });
});

describe('writer', () => {
  test('the same tree always gives the same bytes; entries sorted by path bytes, parents first', async () => {
    const d = makeTree();
    const a = await tarOf({ type: 'dir', dir: d });
    const b = await tarOf({ type: 'dir', dir: d });
    assert.equal(sha(a), sha(b));
    const paths = (await headers(a)).map((h) => h.path.replace(/\/$/, ''));
    const sorted = [...paths].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual(paths, sorted);
    const seen = new Set<string>();
    for (const p of paths) {
      if (p.includes('/')) assert.ok(seen.has(p.slice(0, p.lastIndexOf('/'))), `parent of ${p} comes first`);
      seen.add(p);
    }
    // the same content in another directory, made in another order, gives the same digest
    const copy = fresh('copy');
    execFileSync('cp', ['-a', `${d}/.`, copy]);
    assert.equal(sha(await tarOf({ type: 'dir', dir: copy })), sha(a));
  });

  test('headers carry numeric ids only: no user/group names, no atime/ctime', async () => {
    const d = makeTree();
    const buf = await tarOf({ type: 'dir', dir: d });
    for (let off = 0; off + BLOCK <= buf.length; off += BLOCK) {
      if (buf.toString('latin1', off + 257, off + 263) !== 'ustar\0') continue;
      assert.equal(buf.subarray(off + 265, off + 329).toString('latin1').replace(/\0/g, ''), '', 'uname/gname empty');
    }
    assert.ok(!buf.includes('atime='), 'no PAX atime');
    assert.ok(!buf.includes('ctime='), 'no PAX ctime');
  });

  test('hard links become link entries to the first name in order', async () => {
    const hs = await headers(await tarOf({ type: 'dir', dir: makeTree() }));
    const link = hs.find((h) => h.path === 'etc/bin-link')!;
    assert.equal(hs.find((h) => h.path === 'bin')!.type, 'file');
    assert.equal(link.type, 'hardlink');
    assert.equal(link.linkname, 'bin');
  });

  test('sourceDateEpoch clamps later mtimes and keeps earlier ones', async () => {
    const d = makeTree();
    const hs = await headers(await tarOf({ type: 'dir', dir: d }, { sourceDateEpoch: 1_550_000_000 }));
    const byPath = new Map(hs.map((h) => [h.path.replace(/\/$/, ''), h]));
    assert.equal(byPath.get('etc/conf.d')!.mtimeNs, 1_500_000_000n * 1_000_000_000n, 'earlier kept');
    assert.equal(byPath.get('etc/passwd')!.mtimeNs, 1_550_000_000n * 1_000_000_000n, 'later clamped');
    for (const h of hs) assert.ok(h.mtimeNs <= 1_550_000_000n * 1_000_000_000n);
  });

  test('GNU tar lists and extracts (with xattrs) what we write', async () => {
    const d = makeTree();
    const file = join(fresh(), 'l.tar');
    writeFileSync(file, await tarOf({ type: 'dir', dir: d }));
    const list = gnuList(file).join('\n');
    assert.match(list, /etc\/bin-link link to bin/);
    assert.match(list, /2020-09-13 12:26:40\.123456789 etc\/passwd/);
    const out = fresh('gnu');
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xpf', file, '-C', out]);
    assert.deepEqual(snapshotTree(out), snapshotTree(d));
  });

  test('an overlay upper dir: user.overlay.opaque → .wh..wh..opq, overlay xattrs never written', async () => {
    const d = fresh('upper');
    mkdirSync(join(d, 'op'));
    writeFileSync(join(d, 'op/new'), 'n');
    execFileSync('setfattr', ['-n', 'user.overlay.opaque', '-v', 'y', join(d, 'op')]);
    execFileSync('setfattr', ['-n', 'user.keep', '-v', '1', join(d, 'op')]);
    const hs = await headers(await tarOf({ type: 'overlay', upper: d }));
    assert.deepEqual(hs.map((h) => h.path), ['op/', 'op/.wh..wh..opq', 'op/new']);
    assert.deepEqual([...hs[0].xattrs.keys()], ['user.keep']);
  });
});

describe('writer options and refusals', () => {
  test('xattrs: false writes no SCHILY records', async () => {
    const buf = await tarOf({ type: 'dir', dir: makeTree() }, { xattrs: false });
    assert.ok(!buf.includes('SCHILY.xattr'));
    for (const h of await headers(buf)) assert.equal(h.xattrs.size, 0);
  });

  test('an overlay upper dir with redirect or metacopy metadata is refused (its content is not all there)', async () => {
    for (const attr of ['user.overlay.redirect', 'user.overlay.metacopy']) {
      const d = fresh('upper');
      mkdirSync(join(d, 'moved'));
      execFileSync('setfattr', ['-n', attr, '-v', '/old', join(d, 'moved')]);
      await assert.rejects(tarOf({ type: 'overlay', upper: d }), /overlay (redirect|metacopy) metadata/);
    }
  });
});

describe('round trips through the applier (merge mode)', () => {
  test('write a tree → tar → apply → the same tree', async () => {
    const d = makeTree();
    const out = fresh('out');
    const res = await applyLayerTar(Readable.from(await tarOf({ type: 'dir', dir: d })), out, { mode: 'merge' });
    assert.ok(res.entries > 10);
    assert.deepEqual(snapshotTree(out), snapshotTree(d));
    // applying is idempotent over an existing tree
    await applyLayerTar(Readable.from(await tarOf({ type: 'dir', dir: d })), out, { mode: 'merge' });
    assert.deepEqual(snapshotTree(out), snapshotTree(d));
  });

  test('a diff of two trees, applied to the lower tree, gives the upper tree', async () => {
    const lower = makeTree();
    const upper = fresh('upper');
    execFileSync('cp', ['-a', `${lower}/.`, upper]);
    writeFileSync(join(upper, 'etc/passwd'), 'changed\n'); // content + mtime change
    rmSync(join(upper, 'etc/conf.d'), { recursive: true }); // deleted dir → one whiteout
    unlinkSync(join(upper, 'dangling')); // deleted symlink
    writeFileSync(join(upper, 'added'), 'new');
    chmodSync(join(upper, 'bin'), 0o755); // metadata-only change (hard-linked: both names change)
    mkdirSync(join(upper, DEEP, 'more'));
    // same size, same whole-second mtime: only a content comparison can see this change
    writeFileSync(join(lower, 'same-size'), 'aaaa');
    writeFileSync(join(upper, 'same-size'), 'bbbb');
    utimesSync(join(lower, 'same-size'), 1000, 1000);
    utimesSync(join(upper, 'same-size'), 1000, 1000);
    writeFileSync(join(lower, 'untouched'), 'u');
    writeFileSync(join(upper, 'untouched'), 'u');
    utimesSync(join(lower, 'untouched'), 1000, 1000);
    utimesSync(join(upper, 'untouched'), 1000, 1000);

    const buf = await tarOf({ type: 'diff', lower, upper });
    const paths = (await headers(buf)).map((h) => h.path);
    assert.ok(paths.includes('etc/.wh.conf.d'));
    assert.ok(paths.includes('.wh.dangling'), paths.join(' '));
    assert.ok(paths.includes('same-size'));
    assert.ok(!paths.includes('untouched'), 'unchanged file not written');
    assert.ok(!paths.includes(`${LONG}`), 'unchanged long-named file not written');
    assert.ok(paths.includes(`${DEEP.split('/').slice(0, 3).join('/')}/`), 'parents of a change are written');

    const target = fresh('target');
    execFileSync('cp', ['-a', `${lower}/.`, target]);
    await applyLayerTar([buf], target, { mode: 'merge' });
    // directory mtimes differ (the applier touches them); compare the rest, then files' mtimes
    assert.deepEqual(snapshotTree(target, { mtimes: false }), snapshotTree(upper, { mtimes: false }));
  });

  test('whiteouts delete and an opaque marker empties all but what the same layer unpacked', async () => {
    const root = fresh('merge');
    await applyLayerTar(
      [craftTar([
        { path: 'a', type: 'dir' },
        { path: 'a/old', content: 'o' },
        { path: 'a/sub', type: 'dir' },
        { path: 'a/sub/deep', content: 'd' },
        { path: 'b', content: 'b' },
        { path: 'c', type: 'dir' },
        { path: 'c/x', content: 'x' },
      ])],
      root,
      { mode: 'merge' },
    );
    await applyLayerTar(
      [craftTar([
        { path: 'a', type: 'dir' },
        { path: 'a/-early', content: 'kept: sorts before the marker' },
        { path: 'a/.wh..wh..opq' },
        { path: 'a/new', content: 'n' },
        { path: '.wh.b' },
        { path: 'c/.wh.x' },
        { path: '.wh.missing' },
        { path: 'c/.wh..wh.plnk' }, // aufs metadata: ignored
      ])],
      root,
      { mode: 'merge' },
    );
    assert.deepEqual(Object.keys(snapshotTree(root)), ['a', 'a/-early', 'a/new', 'c']);
  });

  test('an entry replaces what is there: file over dir, dir over file, symlink over file', async () => {
    const root = fresh('replace');
    await applyLayerTar([craftTar([{ path: 'x', type: 'dir' }, { path: 'x/f', content: '1' }, { path: 'y', content: 'y' }, { path: 'z', content: 'z' }])], root, { mode: 'merge' });
    await applyLayerTar([craftTar([{ path: 'x', content: 'now a file' }, { path: 'y', type: 'dir' }, { path: 'z', type: 'symlink', linkname: 'y' }])], root, { mode: 'merge' });
    const s = snapshotTree(root, { mtimes: false, owners: false });
    assert.match(s.x, /^file/);
    assert.match(s.y, /^dir/);
    assert.equal(s.z, 'symlink -> y');
  });

  test('writes through a relative symlink that stays inside the root land inside it', async () => {
    const root = fresh('inroot');
    await applyLayerTar([craftTar([{ path: 'usr/lib', type: 'dir' }, { path: 'lib', type: 'symlink', linkname: 'usr/lib' }, { path: 'lib/x.so', content: 'so' }])], root, { mode: 'merge' });
    assert.equal(readFileSync(join(root, 'usr/lib/x.so'), 'utf8'), 'so');
  });

  test('an absolute entry name is taken relative to the root, as containerd does', async () => {
    const root = fresh('abs');
    await applyLayerTar([craftTar([{ path: '/etc/hosts-from-layer', content: 'h' }])], root, { mode: 'merge' });
    assert.equal(readFileSync(join(root, 'etc/hosts-from-layer'), 'utf8'), 'h');
    assert.ok(!existsSync('/etc/hosts-from-layer'));
  });
});

describe('hostile tars are rejected and nothing outside the root is touched', () => {
  // Each case runs in a fresh sandbox: root = S/root, an outside dir S/outside holding a sentinel.
  // "@OUT" in a link name stands for the outside dir's absolute path.
  const cases: { name: string; entries: Parameters<typeof craftTar>[0] }[] = [
    { name: '../x', entries: [{ path: '../x', content: 'evil' }] },
    { name: 'a/../../x', entries: [{ path: 'a/../../x', content: 'evil' }] },
    { name: 'dir entry ..', entries: [{ path: '..', type: 'dir' }] },
    { name: 'symlink to an absolute outside dir, then a file through it', entries: [{ path: 'a', type: 'symlink', linkname: '@OUT' }, { path: 'a/sentinel', content: 'evil' }] },
    { name: 'symlink a -> /etc, then a/passwd', entries: [{ path: 'a', type: 'symlink', linkname: '/etc' }, { path: 'a/passwd', content: 'evil' }] },
    { name: 'symlink a -> .., then a/outside/new', entries: [{ path: 'a', type: 'symlink', linkname: '..' }, { path: 'a/outside/new', content: 'evil' }] },
    {
      name: 'chain: d/a -> .. (inside), b -> d/a/.. (outside), b/outside/new',
      entries: [{ path: 'd', type: 'dir' }, { path: 'd/a', type: 'symlink', linkname: '..' }, { path: 'b', type: 'symlink', linkname: 'd/a/..' }, { path: 'b/outside/new', content: 'evil' }],
    },
    { name: 'chain: x -> y, y -> ../outside, x/new', entries: [{ path: 'y', type: 'symlink', linkname: '../outside' }, { path: 'x', type: 'symlink', linkname: 'y' }, { path: 'x/new', content: 'evil' }] },
    { name: 'directory through a symlink', entries: [{ path: 'a', type: 'symlink', linkname: '@OUT' }, { path: 'a/newdir', type: 'dir' }] },
    { name: 'symlink placed through a symlink', entries: [{ path: 'a', type: 'symlink', linkname: '@OUT' }, { path: 'a/sentinel', type: 'symlink', linkname: '/etc/shadow' }] },
    { name: 'hard link to /etc/passwd', entries: [{ path: 'p', type: 'hardlink', linkname: '/etc/passwd' }] },
    { name: 'hard link to ../../x', entries: [{ path: 'p', type: 'hardlink', linkname: '../../x' }] },
    { name: 'hard link to the outside sentinel through a symlink', entries: [{ path: 'a', type: 'symlink', linkname: '@OUT' }, { path: 'p', type: 'hardlink', linkname: 'a/sentinel' }] },
    { name: 'whiteout through a symlink', entries: [{ path: 'a', type: 'symlink', linkname: '@OUT' }, { path: 'a/.wh.sentinel' }] },
    { name: 'opaque marker through a symlink', entries: [{ path: 'a', type: 'symlink', linkname: '@OUT' }, { path: 'a/.wh..wh..opq' }] },
    { name: 'whiteout of ..', entries: [{ path: '.wh..' }] },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const sandbox = fresh('sandbox');
      const root = join(sandbox, 'root');
      const outside = join(sandbox, 'outside');
      mkdirSync(outside);
      writeFileSync(join(outside, 'sentinel'), 'untouched');
      const before = snapshotTree(sandbox);
      const entries = c.entries.map((e) => (e.linkname === '@OUT' ? { ...e, linkname: outside } : e));
      await assert.rejects(applyLayerTar([craftTar(entries)], root, { mode: 'merge' }), (err: unknown) => {
        assert.ok(err instanceof PathEscapeError, `expected PathEscapeError, got ${String(err)}`);
        return true;
      });
      const afterSnap = snapshotTree(sandbox);
      for (const [p, line] of Object.entries(before)) if (!p.startsWith('root')) assert.equal(afterSnap[p], line, p);
      for (const p of Object.keys(afterSnap)) assert.ok(p.startsWith('root') || p in before, `created outside the root: ${p}`);
      assert.equal(readFileSync(join(outside, 'sentinel'), 'utf8'), 'untouched');
    });
  }
});

describe('malformed tars', () => {
  const good = craftTar([{ path: 'a', content: 'hello' }]);
  const cases: { name: string; bytes: () => Buffer; error: RegExp }[] = [
    {
      name: 'bad header checksum',
      bytes: () => {
        const b = Buffer.from(good);
        b[0] ^= 1;
        return b;
      },
      error: /checksum mismatch/,
    },
    { name: 'truncated content', bytes: () => good.subarray(0, BLOCK + 3), error: /unexpected end of archive/ },
    { name: 'truncated header', bytes: () => good.subarray(0, 100), error: /unexpected end of archive/ },
    {
      name: 'unknown entry type',
      bytes: () => {
        const b = Buffer.from(good);
        b[156] = 'S'.charCodeAt(0);
        b.fill(0x20, 148, 156);
        let sum = 0;
        for (let i = 0; i < BLOCK; i++) sum += b[i];
        b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
        return b;
      },
      error: /unsupported entry type 'S'/,
    },
    { name: 'oversized PAX header', bytes: () => craftTar([{ path: 'x', xattrs: new Map([['user.big', Buffer.alloc(9 * 1024 * 1024)]]) }]), error: /exceeds the 8388608-byte limit/ },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      await assert.rejects(applyLayerTar([c.bytes()], fresh('bad'), { mode: 'merge' }), c.error);
    });
  }

  test('a tar without end blocks is accepted; data after the end blocks is ignored', async () => {
    const root = fresh('noend');
    await applyLayerTar([craftTar([{ path: 'a', content: 'x' }], { end: false })], root, { mode: 'merge' });
    await applyLayerTar([Buffer.concat([craftTar([{ path: 'b', content: 'y' }]), Buffer.from('trailing junk')])], root, { mode: 'merge' });
    assert.deepEqual(Object.keys(snapshotTree(root)), ['a', 'b']);
  });

  test('GNU long names and base-256 numbers from GNU tar are read', async () => {
    const d = fresh('gnu');
    const src = join(d, 'src');
    mkdirSync(src);
    writeFileSync(join(src, LONG), 'gnu');
    const file = join(d, 'gnu.tar');
    execFileSync('tar', ['--format=gnu', '--owner=3000000', '--group=0', '--numeric-owner', '-cf', file, '-C', src, LONG]);
    const hs = await headers(readFileSync(file));
    assert.equal(hs[0].path, LONG);
    assert.equal(hs[0].uid, 3_000_000);
  });
});
