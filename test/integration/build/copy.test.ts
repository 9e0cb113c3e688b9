/**
 * COPY/ADD file semantics against real directories (root: ownership changes). Each case builds a source
 * tree and a destination tree, copies, and compares the destination's listing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, symlink, readdir, lstat, readlink, link, rm, readFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyDigest, executeCopy, type CopyRequest } from '../../../src/build/copy.ts';
import { chmodChange } from '../../../src/util/chmod.ts';
import { PatternMatcher } from '../../../src/context/patterns.ts';

type Tree = Record<string, string | { link: string } | { dir: true } | { mode: number; content: string }>;

async function makeTree(root: string, tree: Tree): Promise<void> {
  for (const [p, v] of Object.entries(tree)) {
    const full = join(root, p);
    await mkdir(join(full, '..'), { recursive: true });
    if (typeof v === 'string') await writeFile(full, v);
    else if ('link' in v) await symlink(v.link, full);
    else if ('dir' in v) await mkdir(full, { recursive: true });
    else {
      await writeFile(full, v.content);
      await chmod(full, v.mode);
    }
  }
}

async function listing(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(join(root, rel))).sort()) {
    const p = rel ? `${rel}/${name}` : name;
    const st = await lstat(join(root, p));
    const owner = `${st.uid}:${st.gid}`;
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isDirectory()) {
      out.push(`${p}/ ${mode} ${owner}`);
      out.push(...(await listing(root, p)));
    } else if (st.isSymbolicLink()) out.push(`${p} -> ${await readlink(join(root, p))} ${owner}`);
    else out.push(`${p} ${mode} ${owner} ${JSON.stringify(await readFile(join(root, p), 'utf8'))}`);
  }
  return out;
}

interface Case {
  name: string;
  src: Tree;
  dst?: Tree;
  req: Partial<CopyRequest> & { paths: string[]; dest: string };
  ignore?: string[];
  keepOwners?: boolean;
  expect: string[] | { error: RegExp };
}

const cases: Case[] = [
  { name: 'file to a directory (trailing slash)', src: { 'a.txt': 'A' }, req: { paths: ['a.txt'], dest: '/app/' },
    expect: ['app/ 755 0:0', 'app/a.txt 644 0:0 "A"'] },
  { name: 'file to a new file name', src: { 'a.txt': 'A' }, req: { paths: ['a.txt'], dest: '/app/b.txt' },
    expect: ['app/ 755 0:0', 'app/b.txt 644 0:0 "A"'] },
  { name: 'file into an existing directory without slash', src: { 'a.txt': 'A' }, dst: { app: { dir: true } },
    req: { paths: ['a.txt'], dest: '/app' }, expect: ['app/ 755 0:0', 'app/a.txt 644 0:0 "A"'] },
  { name: 'a directory copies its contents', src: { 'd/x': 'X', 'd/sub/y': 'Y' }, req: { paths: ['d'], dest: '/out' },
    expect: ['out/ 755 0:0', 'out/sub/ 755 0:0', 'out/sub/y 644 0:0 "Y"', 'out/x 644 0:0 "X"'] },
  { name: 'the context root copies everything', src: { 'x': 'X' }, req: { paths: ['.'], dest: '/' },
    expect: ['x 644 0:0 "X"'] },
  { name: 'wildcards match within one component', src: { 'a.c': '1', 'b.c': '2', 'c.h': '3', 'sub/d.c': '4' },
    req: { paths: ['*.c'], dest: '/src/' }, expect: ['src/ 755 0:0', 'src/a.c 644 0:0 "1"', 'src/b.c 644 0:0 "2"'] },
  { name: 'a wildcard that matches nothing copies nothing', src: { 'a.c': '1' }, req: { paths: ['*.none', 'a.c'], dest: '/s/' },
    expect: ['s/ 755 0:0', 's/a.c 644 0:0 "1"'] },
  { name: 'a missing literal source is an error', src: { 'a.c': '1' }, req: { paths: ['missing.txt'], dest: '/s/' },
    expect: { error: /"\/missing.txt": not found/ } },
  { name: '.. cannot leave the context', src: { 'a': 'A' }, req: { paths: ['../../a'], dest: '/x' },
    expect: ['x 644 0:0 "A"'] },
  { name: 'a symlink source is followed inside the root only', src: { 'link': { link: '/etc/passwd' } },
    req: { paths: ['link'], dest: '/x' }, expect: { error: /"\/link": not found/ } },
  { name: 'a symlink source is followed within the root', src: { 'real/f': 'F', 'l': { link: '/real/f' } },
    req: { paths: ['l'], dest: '/x' }, expect: ['x 644 0:0 "F"'] },
  { name: 'symlinks inside a copied directory stay symlinks', src: { 'd/t': 'T', 'd/l': { link: 't' } },
    req: { paths: ['d'], dest: '/o/' }, expect: ['o/ 755 0:0', 'o/l -> t 0:0', 'o/t 644 0:0 "T"'] },
  { name: '--chown applies to files and created directories', src: { 'd/f': 'F' },
    req: { paths: ['d'], dest: '/a/b/', chown: { uid: 1000, gid: 1001 } },
    expect: ['a/ 755 1000:1001', 'a/b/ 755 1000:1001', 'a/b/f 644 1000:1001 "F"'] },
  { name: '--chmod applies to everything copied', src: { 'd/f': 'F', 'd/s/g': 'G' }, req: { paths: ['d'], dest: '/o/', chmod: chmodChange('750') },
    expect: ['o/ 755 0:0', 'o/f 750 0:0 "F"', 'o/s/ 750 0:0', 'o/s/g 750 0:0 "G"'] },
  { name: 'modes are kept without --chmod', src: { 'run.sh': { mode: 0o755, content: 'sh' } }, req: { paths: ['run.sh'], dest: '/bin/' },
    expect: ['bin/ 755 0:0', 'bin/run.sh 755 0:0 "sh"'] },
  { name: '.dockerignore hides files and literal sources', src: { 'a': 'A', 'secret.key': 'S', 'logs/x.log': 'L' },
    ignore: ['*.key', 'logs'], req: { paths: ['.'], dest: '/o/' }, expect: ['o/ 755 0:0', 'o/a 644 0:0 "A"'] },
  { name: '.dockerignore exceptions re-include', src: { 'logs/x.log': 'L', 'logs/keep.log': 'K' },
    ignore: ['logs', '!logs/keep.log'], req: { paths: ['.'], dest: '/o/' },
    expect: ['o/ 755 0:0', 'o/logs/ 755 0:0', 'o/logs/keep.log 644 0:0 "K"'] },
  { name: 'an ignored literal source is not found', src: { 'secret.key': 'S' }, ignore: ['*.key'],
    req: { paths: ['secret.key'], dest: '/o/' }, expect: { error: /"\/secret.key": not found/ } },
  { name: '--exclude drops matching paths', src: { 'd/a.txt': 'A', 'd/b.md': 'B' }, req: { paths: ['d'], dest: '/o/', exclude: ['*.md'] },
    expect: ['o/ 755 0:0', 'o/a.txt 644 0:0 "A"'] },
  { name: '--parents keeps the source path', src: { 'x/y/f.txt': 'F' }, req: { paths: ['x/y/f.txt'], dest: '/o/', parents: true },
    expect: ['o/ 755 0:0', 'o/x/ 755 0:0', 'o/x/y/ 755 0:0', 'o/x/y/f.txt 644 0:0 "F"'] },
  { name: '--parents keeps the part after /./', src: { 'x/y/f.txt': 'F' }, req: { paths: ['x/./y/f.txt'], dest: '/o/', parents: true },
    expect: ['o/ 755 0:0', 'o/y/ 755 0:0', 'o/y/f.txt 644 0:0 "F"'] },
  { name: 'the destination follows symlinks inside the target root', src: { 'tool': 'T' }, dst: { 'usr/bin': { dir: true }, 'bin': { link: 'usr/bin' } },
    req: { paths: ['tool'], dest: '/bin/' }, expect: ['bin -> usr/bin 0:0', 'usr/ 755 0:0', 'usr/bin/ 755 0:0', 'usr/bin/tool 644 0:0 "T"'] },
  { name: 'an absolute symlink in the target stays inside it', src: { 'f': 'F' }, dst: { 'etc': { link: '/outside' } },
    req: { paths: ['f'], dest: '/etc/f' }, expect: ['etc -> /outside 0:0', 'outside/ 755 0:0', 'outside/f 644 0:0 "F"'] },
  { name: 'an existing file is replaced, not written through', src: { 'f': 'new' }, dst: { 'real': 'old', 'f': { link: 'real' } },
    req: { paths: ['f'], dest: '/f' }, expect: ['f 644 0:0 "new"', 'real 644 0:0 "old"'] },
  { name: 'owners are kept from another stage', keepOwners: true, src: { 'f': 'F' }, req: { paths: ['f'], dest: '/f' },
    expect: ['f 644 4242:4343 "F"'] },
];

for (const c of cases) {
  test(`COPY: ${c.name}`, async () => {
    const base = await mkdtemp(join(tmpdir(), 'jettison-copy-'));
    try {
      const src = join(base, 'src');
      const dst = join(base, 'dst');
      await mkdir(src);
      await mkdir(dst);
      await makeTree(src, c.src);
      if (c.dst) await makeTree(dst, c.dst);
      if (c.keepOwners) {
        const { lchown } = await import('node:fs/promises');
        for (const p of Object.keys(c.src)) await lchown(join(src, p), 4242, 4343);
      }
      const req: CopyRequest = {
        source: { root: src, ownership: c.keepOwners ? 'keep' : 'reset', ...(c.ignore ? { ignore: new PatternMatcher(c.ignore) } : {}) },
        ...c.req,
      };
      if ('error' in c.expect) {
        await assert.rejects(executeCopy(req, dst), c.expect.error);
        return;
      }
      await executeCopy(req, dst);
      assert.deepEqual(await listing(dst), c.expect);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
}

test('copyDigest: content and metadata change the digest, mtimes and host paths do not', async () => {
  const a = await mkdtemp(join(tmpdir(), 'jettison-copy-'));
  const b = await mkdtemp(join(tmpdir(), 'jettison-copy-'));
  const dst = await mkdtemp(join(tmpdir(), 'jettison-copy-'));
  try {
    await makeTree(a, { 'd/f': 'same', 'd/g': 'x' });
    await makeTree(b, { 'd/f': 'same', 'd/g': 'x' });
    const { utimes } = await import('node:fs/promises');
    await utimes(join(b, 'd/f'), 1, 1);
    const req = (root: string, extra: Partial<CopyRequest> = {}): CopyRequest => ({ source: { root, ownership: 'reset' }, paths: ['d'], dest: '/o/', ...extra });
    const d1 = (await copyDigest(req(a), dst)).digest;
    assert.equal((await copyDigest(req(b), dst)).digest, d1, 'another host path and mtime give the same digest');
    assert.notEqual((await copyDigest(req(a, { chmod: chmodChange('700') }), dst)).digest, d1, '--chmod changes it');
    assert.notEqual((await copyDigest(req(a, { chown: { uid: 1, gid: 1 } }), dst)).digest, d1, '--chown changes it');
    assert.notEqual((await copyDigest(req(a, { dest: '/p/' }), dst)).digest, d1, 'the destination changes it');
    await writeFile(join(b, 'd/g'), 'y');
    assert.notEqual((await copyDigest(req(b), dst)).digest, d1, 'content changes it');
    const r = await copyDigest(req(a), dst);
    assert.equal(r.files, 2);
  } finally {
    for (const d of [a, b, dst]) await rm(d, { recursive: true, force: true });
  }
});

test('hard links among the sources stay hard links', async () => {
  const base = await mkdtemp(join(tmpdir(), 'jettison-copy-'));
  try {
    await makeTree(join(base, 'src'), { 'd/a': 'A' });
    await link(join(base, 'src/d/a'), join(base, 'src/d/b'));
    await mkdir(join(base, 'dst'));
    await executeCopy({ source: { root: join(base, 'src'), ownership: 'reset' }, paths: ['d'], dest: '/o/' }, join(base, 'dst'));
    const a = await lstat(join(base, 'dst/o/a'));
    const b = await lstat(join(base, 'dst/o/b'));
    assert.equal(a.ino, b.ino);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
