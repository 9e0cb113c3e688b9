/**
 * executeCopy's two ways of copying a file (small files synchronously, large files and hard links on
 * the thread pool) against real directories, as root: several sources landing on one name still
 * give "the last one wins" whatever way each was copied, and modes, owners and times come out the
 * same either way (a table).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executeCopy, type CopyRequest } from '../../../src/build/copy.ts';
import { chmodChange } from '../../../src/util/chmod.ts';

const base = mkdtempSync(join(tmpdir(), 'jettison-contexts-copy-'));
after(() => rmSync(base, { recursive: true, force: true }));
let n = 0;

const SMALL = 'small\n';
const LARGE = Buffer.alloc(600 * 1024, 'L'); // above the synchronous-copy limit

const lastWins: { name: string; paths: string[]; expect: string | Buffer }[] = [
  { name: 'large then small', paths: ['large/x', 'small/x'], expect: SMALL },
  { name: 'small then large', paths: ['small/x', 'large/x'], expect: LARGE },
  { name: 'large, small, large', paths: ['large/x', 'small/x', 'large2/x'], expect: Buffer.alloc(700 * 1024, 'M') },
];

for (const c of lastWins) {
  test(`several sources onto one name, the last wins: ${c.name}`, async () => {
    const dir = join(base, `case-${++n}`);
    mkdirSync(join(dir, 'src', 'large'), { recursive: true });
    mkdirSync(join(dir, 'src', 'large2'));
    mkdirSync(join(dir, 'src', 'small'));
    writeFileSync(join(dir, 'src', 'large', 'x'), LARGE);
    writeFileSync(join(dir, 'src', 'large2', 'x'), Buffer.alloc(700 * 1024, 'M'));
    writeFileSync(join(dir, 'src', 'small', 'x'), SMALL);
    mkdirSync(join(dir, 'dst'));
    await executeCopy({ source: { root: join(dir, 'src'), ownership: 'reset' }, paths: c.paths, dest: '/out/' }, join(dir, 'dst'));
    const got = readFileSync(join(dir, 'dst', 'out', 'x'));
    assert.ok(got.equals(Buffer.from(c.expect)), `got ${got.length} bytes`);
  });
}

const metadata: { name: string; req: Partial<CopyRequest>; mode: number; expect: { mode: number; uid: number; gid: number } }[] = [
  { name: 'plain 0644', req: {}, mode: 0o644, expect: { mode: 0o644, uid: 0, gid: 0 } },
  { name: 'group-writable (masked by a umask at create)', req: {}, mode: 0o664, expect: { mode: 0o664, uid: 0, gid: 0 } },
  { name: 'setuid', req: {}, mode: 0o4755, expect: { mode: 0o4755, uid: 0, gid: 0 } },
  { name: '--chown keeps setuid (mode set after the owner)', req: { chown: { uid: 1000, gid: 1000 } }, mode: 0o4755, expect: { mode: 0o4755, uid: 1000, gid: 1000 } },
  { name: '--chmod', req: { chmod: chmodChange('600') }, mode: 0o755, expect: { mode: 0o600, uid: 0, gid: 0 } },
];

for (const c of metadata) {
  for (const size of [SMALL, LARGE]) {
    test(`metadata, ${size === SMALL ? 'small' : 'large'} file: ${c.name}`, async () => {
      const dir = join(base, `case-${++n}`);
      mkdirSync(join(dir, 'src', 'd'), { recursive: true });
      const f = join(dir, 'src', 'd', 'f');
      writeFileSync(f, size);
      chmodSync(f, c.mode);
      utimesSync(f, 1_600_000_000.25, 1_500_000_000.5);
      mkdirSync(join(dir, 'dst'));
      const oldMask = process.umask(0o027);
      try {
        await executeCopy({ source: { root: join(dir, 'src'), ownership: 'reset' }, paths: ['d'], dest: '/out/', ...c.req }, join(dir, 'dst'));
      } finally {
        process.umask(oldMask);
      }
      const st = lstatSync(join(dir, 'dst', 'out', 'f'));
      assert.deepEqual({ mode: st.mode & 0o7777, uid: st.uid, gid: st.gid }, c.expect);
      assert.equal(st.mtimeMs, 1_500_000_000_500);
      assert.ok(readFileSync(join(dir, 'dst', 'out', 'f')).equals(Buffer.from(size)));
    });
  }
}

// Directory sources merged into one new destination (COPY a b /d/): what an earlier source put there is
// replaced or merged into, never written through (a symlink there may point out of the root: the host).
const merged: { name: string; make(src: string, victim: string): void; check(d: string): void }[] = [
  {
    name: 'a symlink to a host file, then a large file of that name',
    make: (src, victim) => { symlinkSync(victim, join(src, 'a', 'x')); writeFileSync(join(src, 'b', 'x'), LARGE); },
    check: (d) => assert.ok(lstatSync(join(d, 'x')).isFile() && readFileSync(join(d, 'x')).equals(LARGE)),
  },
  {
    name: 'a symlink to a host file, then a small file of that name',
    make: (src, victim) => { symlinkSync(victim, join(src, 'a', 'x')); writeFileSync(join(src, 'b', 'x'), SMALL); },
    check: (d) => assert.equal(readFileSync(join(d, 'x'), 'utf8'), SMALL),
  },
  {
    name: 'a symlink to a host file, then a hard-linked file of that name',
    make: (src, victim) => { symlinkSync(victim, join(src, 'a', 'x')); writeFileSync(join(src, 'b', 'x'), SMALL); linkSync(join(src, 'b', 'x'), join(src, 'b', 'y')); },
    check: (d) => { assert.equal(readFileSync(join(d, 'x'), 'utf8'), SMALL); assert.equal(lstatSync(join(d, 'x')).ino, lstatSync(join(d, 'y')).ino); },
  },
  {
    name: 'the same subdirectory in both: merged',
    make: (src) => { mkdirSync(join(src, 'a', 'sub')); mkdirSync(join(src, 'b', 'sub')); writeFileSync(join(src, 'a', 'sub', 'f1'), '1'); writeFileSync(join(src, 'b', 'sub', 'f2'), '2'); },
    check: (d) => assert.deepEqual(readdirSync(join(d, 'sub')).sort(), ['f1', 'f2']),
  },
  {
    name: 'a symlink, then another symlink of that name: the last wins',
    make: (src) => { symlinkSync('one', join(src, 'a', 'x')); symlinkSync('two', join(src, 'b', 'x')); },
    check: (d) => assert.equal(readlinkSync(join(d, 'x')), 'two'),
  },
];

for (const c of merged) {
  test(`directory sources into one new directory: ${c.name}`, async () => {
    const dir = join(base, `case-${++n}`);
    const src = join(dir, 'src');
    mkdirSync(join(src, 'a'), { recursive: true });
    mkdirSync(join(src, 'b'));
    const victim = join(dir, 'host-file');
    writeFileSync(victim, 'host\n');
    c.make(src, victim);
    mkdirSync(join(dir, 'dst'));
    await executeCopy({ source: { root: src, ownership: 'keep' }, paths: ['a', 'b'], dest: '/d/' }, join(dir, 'dst'));
    assert.equal(readFileSync(victim, 'utf8'), 'host\n', 'the host file is untouched');
    c.check(join(dir, 'dst', 'd'));
  });
}
