// On-disk file listings (src/solver/listing.ts): path order, sorting (in memory and in merged runs),
// content addressing, comparison of two listings, and the bounded listing directory (a table).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { comparePaths, diffListings, keepListing, listingFile, ListingWriter, MAX_LISTINGS, readListing, trimListings } from '../../../src/solver/listing.ts';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'jettison-listing-'));
  dirs.push(d);
  return d;
}

const orderCases: [a: string, b: string, expected: -1 | 0 | 1][] = [
  ['a', 'a', 0],
  ['a', 'b', -1],
  ['a', 'a/b', -1],
  ['a/b', 'a-c', -1], // component order: "a" < "a-c", though '-' < '/' in bytes
  ['a/b', 'a0', -1],
  ['a-c', 'a0', -1],
  ['ab', 'a/b', 1],
  ['a/b/c', 'a/b', 1],
  ['a/z', 'a/b/c', 1],
  ['B', 'a', -1], // UTF-16 code units, as JavaScript's sort
  ['é', 'z', 1],
  ['d/ä', 'd/a/x', 1],
];

for (const [a, b, expected] of orderCases) {
  test(`comparePaths(${JSON.stringify(a)}, ${JSON.stringify(b)}) = ${expected}`, () => {
    assert.equal(Math.sign(comparePaths(a, b)), expected);
    assert.equal(Math.sign(comparePaths(b, a)), expected === 0 ? 0 : -expected);
  });
}

test('comparePaths is the order of a depth-first walk with sorted names', () => {
  const tree: Record<string, string[]> = { '': ['a', 'a-c', 'a0', 'ab'], a: ['b', 'b.txt'], 'a/b': ['c'], ab: ['x'] };
  const walk = (dir: string): string[] =>
    (tree[dir] ?? []).sort().flatMap((n) => {
      const p = dir === '' ? n : `${dir}/${n}`;
      return [p, ...walk(p)];
    });
  const order = walk('');
  assert.deepEqual([...order].sort(comparePaths), order);
});

/** Writes entries through a ListingWriter; returns the finished file's lines, digest and path. */
async function write(dir: string, entries: [string, string][]): Promise<{ file: string; digest: string; text: string; count: number }> {
  const w = await ListingWriter.create(dir);
  for (const [p, rest] of entries) await w.add(p, rest);
  const done = await w.finish();
  return { ...done, text: await readFile(done.file, 'utf8') };
}

const sha = (s: string | Buffer) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

test('a listing written in order: one JSON path and its value per line, the digest is the file\'s sha256', async () => {
  const dir = await tempDir();
  const r = await write(dir, [['a', 'file 644'], ['a/b\tc', 'dir 755'], ['a-c', 'file 600'], ['new\nline', 'x']]);
  assert.equal(r.text, '"a"\tfile 644\n"a/b\\tc"\tdir 755\n"a-c"\tfile 600\n"new\\nline"\tx\n');
  assert.equal(r.digest, sha(r.text));
  assert.equal(r.count, 4);
  const back = [];
  for await (const e of readListing(r.file)) back.push([e.path, e.rest]);
  assert.deepEqual(back, [['a', 'file 644'], ['a/b\tc', 'dir 755'], ['a-c', 'file 600'], ['new\nline', 'x']]);
});

test('entries added out of order are sorted (stable for equal paths), giving the same digest as in order', async () => {
  const dir = await tempDir();
  const sorted = await write(dir, [['a', '1'], ['a/x', '2'], ['b', '3'], ['b', '4'], ['c', '5']]);
  const shuffled = await write(dir, [['b', '3'], ['c', '5'], ['a/x', '2'], ['b', '4'], ['a', '1']]);
  assert.equal(shuffled.text, sorted.text);
  assert.equal(shuffled.digest, sorted.digest);
  assert.equal(shuffled.digest, sha(shuffled.text));
  // only the finished files are left: the unsorted input and the runs are gone
  assert.deepEqual((await readdir(dir)).sort(), [sorted.file, shuffled.file].map((f) => f.slice(dir.length + 1)).sort());
});

test('a listing larger than one sorting run is merged from several runs (stable)', async () => {
  const dir = await tempDir();
  const pad = 'v'.repeat(200);
  const entries: [string, string][] = [];
  for (let i = 0; i < 40000; i++) entries.push([`d${(i * 7919) % 1000}/f${i % 37}`, `${i} ${pad}`]); // > 8 MB, duplicates of paths
  const expected = entries.map((e, i) => ({ e, i })).sort((x, y) => comparePaths(x.e[0], y.e[0]) || x.i - y.i);
  const r = await write(dir, entries);
  const lines = r.text.split('\n').slice(0, -1);
  assert.equal(lines.length, entries.length);
  assert.deepEqual(lines, expected.map(({ e }) => `${JSON.stringify(e[0])}\t${e[1]}`));
  assert.equal(r.digest, sha(r.text));
});

test('a value holding a tab or a newline is refused', async () => {
  const w = await ListingWriter.create(await tempDir());
  assert.throws(() => w.add('a', 'x\ty'), /tab or newline/);
  await w.discard();
});

const diffCases: { name: string; before: [string, string][]; after: [string, string][]; max?: number; named: string[]; total: number }[] = [
  { name: 'identical', before: [['a', '1'], ['b', '2']], after: [['a', '1'], ['b', '2']], named: [], total: 0 },
  { name: 'one file differs', before: [['a', '1'], ['b', '2']], after: [['a', '1'], ['b', '3']], named: ['file b differs'], total: 1 },
  { name: 'added and removed', before: [['a', '1'], ['c', '3']], after: [['a', '1'], ['b', '2']], named: ['file b added', 'file c removed'], total: 2 },
  { name: 'empty before', before: [], after: [['x', '1']], named: ['file x added'], total: 1 },
  { name: 'empty after', before: [['x', '1']], after: [], named: ['file x removed'], total: 1 },
  {
    name: 'many: the first few in path order, all counted',
    before: [['d/a', '1'], ['d/b', '1'], ['d-x', '1']],
    after: [['d/a', '2'], ['d/b', '2'], ['d/c', '1'], ['d-x', '2'], ['e', '1']],
    max: 3,
    named: ['file d/a differs', 'file d/b differs', 'file d/c added'],
    total: 5,
  },
];

for (const c of diffCases) {
  test(`diffListings: ${c.name}`, async () => {
    const dir = await tempDir();
    const a = await write(dir, c.before);
    const b = await write(dir, c.after);
    assert.deepEqual(await diffListings(a.file, b.file, c.max ?? 10), { named: c.named, total: c.total });
  });
}

test('keepListing: stored under its digest, replacing an identical one (which becomes the newest); it removes nothing', async () => {
  const dir = await tempDir();
  const keep = async (i: number) => {
    const r = await write(dir, [[`f${i}`, String(i)]]);
    return { ...r, path: await keepListing(dir, r.file, r.digest) };
  };
  const first = await keep(0);
  assert.equal(first.path, listingFile(dir, first.digest));
  assert.equal(await readFile(first.path, 'utf8'), first.text);
  await utimes(first.path, 1000, 1000);
  const again = await keep(0);
  assert.equal(again.path, first.path, 'the same content, the same file');
  assert.ok((await stat(first.path)).mtimeMs > 1000 * 1000, 'the newest again');
  for (let i = 1; i <= MAX_LISTINGS + 6; i++) await keep(i);
  assert.equal((await readdir(dir)).length, MAX_LISTINGS + 7);
});

/**
 * trimListings: `old` listings no solve uses (mtimes 1, 2, … : the first is the oldest) and `used`
 * listings the solve read, `usedOldest` of them older than every other one. What is left: every used
 * one and the newest MAX_LISTINGS of the rest.
 */
const trimCases: { name: string; old: number; used: number; usedOldest?: number; removed: number }[] = [
  { name: 'nothing to trim', old: 10, used: 0, removed: 0 },
  { name: 'exactly the cap', old: MAX_LISTINGS, used: 0, removed: 0 },
  { name: 'beyond the cap: the oldest go', old: MAX_LISTINGS + 5, used: 0, removed: 5 },
  { name: 'a build using more than the cap keeps them all', old: 0, used: MAX_LISTINGS + 6, removed: 0 },
  { name: 'used ones do not count toward the cap', old: MAX_LISTINGS, used: MAX_LISTINGS + 6, removed: 0 },
  { name: 'old ones beyond the cap go, used ones stay', old: MAX_LISTINGS + 16, used: MAX_LISTINGS + 6, removed: 16 },
  { name: 'used ones stay even when they are the oldest', old: MAX_LISTINGS + 3, used: 4, usedOldest: 4, removed: 3 },
];

for (const c of trimCases) {
  test(`trimListings: ${c.name}`, async () => {
    const dir = await tempDir();
    const make = async (name: string, mtime: number) => {
      const r = await write(dir, [[name, name]]);
      const path = await keepListing(dir, r.file, r.digest);
      await utimes(path, mtime, mtime);
      return path;
    };
    const usedOldest = c.usedOldest ?? 0;
    const used: string[] = [];
    for (let i = 0; i < usedOldest; i++) used.push(await make(`used${i}`, 1 + i));
    const old: string[] = [];
    for (let i = 0; i < c.old; i++) old.push(await make(`old${i}`, 1000 + i));
    for (let i = usedOldest; i < c.used; i++) used.push(await make(`used${i}`, 5000 + i));
    const temp = join(dir, '.tmp-1-abc');
    await writeFile(temp, 'being written');
    await utimes(temp, 0, 0);
    assert.equal(await trimListings(dir, used), c.removed);
    const left = new Set((await readdir(dir)).map((n) => join(dir, n)));
    for (const u of used) assert.ok(left.has(u), `used ${u} kept`);
    for (const [i, o] of old.entries()) assert.equal(left.has(o), i >= c.removed, `old listing ${i}`);
    assert.ok(left.has(temp), 'a temporary file is not a listing');
    assert.equal(left.size, used.length + old.length - c.removed + 1);
  });
}

test('trimListings: a directory that does not exist has nothing to trim', async () => {
  assert.equal(await trimListings(join(await tempDir(), 'none'), []), 0);
});

test('a truncated listing is an error, not a shorter listing', async () => {
  const dir = await tempDir();
  const file = join(dir, 'cut');
  await writeFile(file, '"a"\t1\n"b"\t2');
  await assert.rejects(async () => {
    for await (const _ of readListing(file)) void _;
  }, /truncated/);
});
