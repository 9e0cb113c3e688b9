// Cache-miss explanations for contents kept as on-disk listings (the way COPY's context files are):
// the changed files are named by comparing the earlier listing with the current one (a table).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { sha256 } from '../../../src/image/digest.ts';
import type { Digest } from '../../../src/image/types.ts';
import { BuildCache, listingDir, solverCache, type CachedResult } from '../../../src/solver/cache.ts';
import { keepListing, ListingWriter, MAX_LISTINGS } from '../../../src/solver/listing.ts';
import { solve } from '../../../src/solver/solve.ts';
import { vertex, type Vertex } from '../../../src/solver/vertex.ts';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const platform = { architecture: 'amd64', os: 'linux' };
const base = vertex({ op: { kind: 'image', digest: sha256('alpine'), platform }, name: '[1/2] FROM alpine' });
const context = vertex({ op: { kind: 'context', name: 'context' } });

type Files = Record<string, string>;

/** The COPY step of a stage, its content a listing of `files` (path → what matters about it) kept in `dir`. */
async function copyStep(dir: string, files: Files, label = 'context files'): Promise<Vertex> {
  const w = await ListingWriter.create(dir);
  for (const p of Object.keys(files).reverse()) await w.add(p, files[p]); // out of order on purpose
  const done = await w.finish();
  const listing = await keepListing(dir, done.file, done.digest as Digest);
  return vertex({
    op: { kind: 'file', actions: [{ action: 'copy', input: 1, src: ['.'], dest: '/ctx' }] },
    inputs: [base, context],
    contents: [{ label, digest: done.digest as Digest, listing }],
    name: '[2/2] COPY . /ctx',
    step: { scope: 'Dockerfile', stage: 'stage-0', index: 2, total: 2, instruction: 'COPY . /ctx' },
  });
}

const before: Files = { 'ctx/a': 'file 644 0:0 "" aaa', 'ctx/b': 'file 644 0:0 "" bbb', 'ctx/d/c': 'file 644 0:0 "" ccc' };

const cases: { name: string; now: Files; reasons: string[] }[] = [
  { name: 'nothing changed', now: before, reasons: [] },
  { name: 'one file edited', now: { ...before, 'ctx/b': 'file 644 0:0 "" b2' }, reasons: ['context files changed: file ctx/b differs'] },
  { name: 'a mode changed', now: { ...before, 'ctx/a': 'file 755 0:0 "" aaa' }, reasons: ['context files changed: file ctx/a differs'] },
  {
    name: 'added and removed',
    now: { 'ctx/a': before['ctx/a'], 'ctx/d/c': before['ctx/d/c'], 'ctx/d/e': 'file 644 0:0 "" eee' },
    reasons: ['context files changed: file ctx/b removed, file ctx/d/e added'],
  },
  {
    name: 'more changes than are named',
    now: { 'ctx/a': 'x', 'ctx/b': 'x', 'ctx/c': 'x', 'ctx/d/c': 'x', 'ctx/z': 'x' },
    reasons: ['context files changed: file ctx/a differs, file ctx/b differs, file ctx/c added (and 2 more)'],
  },
];

for (const c of cases) {
  test(`explain from listings: ${c.name}`, async () => {
    const root = await mkdtemp(join(tmpdir(), 'jettison-explain-'));
    dirs.push(root);
    const cache = new BuildCache(root);
    assert.equal(cache.listingDir, join(root, 'cache', 'listings'));
    assert.equal(listingDir(root), cache.listingDir);
    const prev = await copyStep(cache.listingDir, before);
    await cache.put(prev, { layers: [] });
    const now = await copyStep(cache.listingDir, c.now);
    const e = await cache.explain(now);
    assert.deepEqual(e.reasons, c.reasons);
    if (c.reasons.length > 0) assert.equal(e.previous?.key, prev.key);
  });
}

test('explain from listings: an earlier listing that is gone leaves "changed" without file names', async () => {
  const root = await mkdtemp(join(tmpdir(), 'jettison-explain-'));
  dirs.push(root);
  const cache = new BuildCache(root);
  const prev = await copyStep(cache.listingDir, before);
  await cache.put(prev, { layers: [] });
  await rm(prev.contents[0].listing!);
  const now = await copyStep(cache.listingDir, { ...before, 'ctx/b': 'changed' });
  assert.deepEqual((await cache.explain(now)).reasons, ['context files changed']);
});

test('a content with a listing needs its digest', () => {
  assert.throws(() => vertex({ op: { kind: 'scratch' }, contents: [{ label: 'x', listing: '/nowhere' } as never] }), /a listing needs its digest/);
});

test('the listing path never enters the key', async () => {
  const root = await mkdtemp(join(tmpdir(), 'jettison-explain-'));
  dirs.push(root);
  const a = await copyStep(join(root, 'one'), before);
  const b = await copyStep(join(root, 'two'), before);
  assert.notEqual(a.contents[0].listing, b.contents[0].listing);
  assert.equal(a.key, b.key);
});

/**
 * A build reading more listings than MAX_LISTINGS: one stage of `steps` COPY steps, each reading one
 * file whose value is `value(i)`, its listing kept in `dir` (as build/copy.ts keeps them while the
 * graph is built, before the solve).
 */
async function bigBuild(dir: string, steps: number, value: (i: number) => string): Promise<Vertex[]> {
  const out: Vertex[] = [];
  let prev: Vertex = base;
  for (let i = 0; i < steps; i++) {
    const w = await ListingWriter.create(dir);
    await w.add(`ctx${i}/f`, value(i));
    const done = await w.finish();
    const listing = await keepListing(dir, done.file, done.digest);
    prev = vertex({
      op: { kind: 'file', actions: [{ action: 'copy', input: 1, src: [`ctx${i}`], dest: `/ctx${i}` }] },
      inputs: [prev, context],
      contents: [{ label: 'context files', digest: done.digest, listing }],
      name: `[${i + 2}/${steps + 1}] COPY ctx${i} /ctx${i}`,
      step: { scope: 'Dockerfile', stage: 'stage-0', index: i + 2, total: steps + 1, instruction: `COPY ctx${i} /ctx${i}` },
    });
    out.push(prev);
  }
  return out;
}

test('a build with more listings than MAX_LISTINGS: every miss is explained file by file, and only others beyond the cap are trimmed after the solve', async () => {
  const root = await mkdtemp(join(tmpdir(), 'jettison-explain-'));
  dirs.push(root);
  const cache = new BuildCache(root);
  const steps = MAX_LISTINGS + 6;
  const execute = async (): Promise<CachedResult> => ({ layers: [] });
  // unrelated listings from long ago (another project sharing the store)
  const unrelated: string[] = [];
  for (let i = 0; i < MAX_LISTINGS + 10; i++) {
    const w = await ListingWriter.create(cache.listingDir);
    await w.add('other', String(i));
    const done = await w.finish();
    unrelated.push(await keepListing(cache.listingDir, done.file, done.digest));
    await utimes(unrelated[i], 100 + i, 100 + i);
  }
  const first = await bigBuild(cache.listingDir, steps, (i) => `v1 ${i}`);
  await solve([first.at(-1)!], { execute, cache: solverCache(cache) });
  const firstListings = first.map((v) => v.contents[0].listing!);
  for (const l of firstListings) assert.ok(existsSync(l), `the first build's own ${l} survives its solve`);
  unrelated.forEach((l, i) => assert.equal(existsSync(l), i >= 10, `unrelated listing ${i}: only the oldest beyond the cap go`));
  for (const [i, l] of firstListings.entries()) await utimes(l, 1000 + i, 1000 + i);

  const second = await bigBuild(cache.listingDir, steps, (i) => `v2 ${i}`);
  const misses = new Map<string, string[] | undefined>();
  await solve([second.at(-1)!], {
    execute,
    cache: solverCache(cache),
    onEvent: (e) => void (e.type === 'vertex.started' && misses.set(e.vertex.name, e.cacheMiss)),
  });
  assert.equal(misses.size, steps);
  second.forEach((v, i) =>
    assert.deepEqual(misses.get(v.name), [...(i > 0 ? [`previous step changed: ${second[i - 1].name}`] : []), `context files changed: file ctx${i}/f differs`], v.name),
  );
  const left = new Set((await readdir(cache.listingDir)).map((n) => join(cache.listingDir, n)));
  for (const v of second) assert.ok(left.has(v.contents[0].listing!), 'this build\'s listings all stay');
  // of the rest (the first build's, newer than the unrelated ones), the newest MAX_LISTINGS stay
  firstListings.forEach((l, i) => assert.equal(left.has(l), i >= steps - MAX_LISTINGS, `first build's listing ${i}`));
  assert.ok(unrelated.every((l) => !left.has(l)));
  assert.equal(left.size, steps + MAX_LISTINGS);
});
