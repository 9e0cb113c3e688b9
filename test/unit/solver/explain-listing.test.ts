// Cache-miss explanations for contents kept as on-disk listings (the way COPY's context files are):
// the changed files are named by comparing the earlier listing with the current one (a table).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { sha256 } from '../../../src/image/digest.ts';
import type { Digest } from '../../../src/image/types.ts';
import { BuildCache, listingDir } from '../../../src/solver/cache.ts';
import { keepListing, ListingWriter } from '../../../src/solver/listing.ts';
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
