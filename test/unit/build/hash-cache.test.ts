// The context hash cache (src/build/hash-cache.ts) on real files: digests are reused only while a
// file is unchanged (inode, size, mtime, ctime), survive a reopen, are kept one file per directory,
// and a damaged or missing cache only means a miss.
import assert from 'node:assert/strict';
import { appendFileSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ContextHashCache } from '../../../src/build/hash-cache.ts';
import { selfIdentity } from '../../../src/util/owner.ts';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function setup(): Promise<{ store: string; ctx: string }> {
  const base = await mkdtemp(join(tmpdir(), 'jettison-hashcache-'));
  dirs.push(base);
  const ctx = join(base, 'ctx');
  mkdirSync(ctx);
  return { store: join(base, 'store'), ctx };
}

const D = 'a'.repeat(64);
const E = 'e'.repeat(64);

test('a digest is reused after a reopen while the file is unchanged', async () => {
  const { store, ctx } = await setup();
  const f = join(ctx, 'f');
  writeFileSync(f, 'one');
  const c1 = await ContextHashCache.open(store, ctx);
  assert.equal(await c1.get(f, lstatSync(f)), undefined);
  await c1.set(f, lstatSync(f), D);
  assert.equal(await c1.get(f, lstatSync(f)), D);
  await c1.save();
  const c2 = await ContextHashCache.open(store, ctx);
  assert.equal(await c2.get(f, lstatSync(f)), D);
  const other = await ContextHashCache.open(store, join(ctx, '..'));
  assert.equal(await other.get(f, lstatSync(f)), undefined, 'another context has its own cache');
});

const changes: { name: string; change(f: string): void }[] = [
  { name: 'content appended', change: (f) => appendFileSync(f, 'more') },
  {
    name: 'content rewritten with the same size and the old mtime (ctime still moves)',
    change: (f) => {
      const st = statSync(f);
      writeFileSync(f, 'owt');
      utimesSync(f, st.atime, st.mtime);
    },
  },
  { name: 'mtime changed', change: (f) => utimesSync(f, 1, 1) },
  {
    name: 'replaced by another file (another inode)',
    change: (f) => {
      writeFileSync(`${f}.new`, 'one');
      renameSync(`${f}.new`, f);
    },
  },
];

for (const c of changes) {
  test(`a changed file misses: ${c.name}`, async () => {
    const { store, ctx } = await setup();
    const f = join(ctx, 'f');
    writeFileSync(f, 'one');
    const before = lstatSync(f);
    const cache = await ContextHashCache.open(store, ctx);
    await cache.set(f, before, D);
    await cache.save();
    await new Promise((r) => setTimeout(r, 15)); // let the clock move past the file's ctime
    c.change(f);
    const reopened = await ContextHashCache.open(store, ctx);
    assert.equal(await reopened.get(f, lstatSync(f)), undefined);
  });
}

test('many directories: each is kept in its own file, written back when dropped from memory and on save', async () => {
  const { store, ctx } = await setup();
  const files: string[] = [];
  for (let d = 0; d < 40; d++) {
    mkdirSync(join(ctx, `d${d}`));
    for (let i = 0; i < 3; i++) {
      const f = join(ctx, `d${d}`, `f${i}`);
      writeFileSync(f, `${d}/${i}`);
      files.push(f);
    }
  }
  const cache = await ContextHashCache.open(store, ctx);
  for (const f of files) {
    assert.equal(await cache.get(f, lstatSync(f)), undefined);
    await cache.set(f, lstatSync(f), D);
  }
  // set again for the first directory, long dropped from memory: it is loaded again, not lost
  await cache.set(files[0], lstatSync(files[0]), E);
  await cache.save();
  const cacheDir = join(store, 'context-hashes');
  const [ctxDir] = readdirSync(cacheDir);
  assert.equal(readdirSync(join(cacheDir, ctxDir)).length, 40, 'one file per directory');
  const reopened = await ContextHashCache.open(store, ctx);
  assert.equal(await reopened.get(files[0], lstatSync(files[0])), E);
  for (const f of files.slice(1)) assert.equal(await reopened.get(f, lstatSync(f)), D, f);
});

/** What a stamp is in the cache (as hash-cache.ts writes it): "ino size mtime ctime ". */
const stampOf = (f: string) => {
  const st = lstatSync(f);
  return `${st.ino} ${st.size} ${st.mtimeMs} ${st.ctimeMs} `;
};

/**
 * A damaged directory file: each case is rejected by one check only (named), everything else about
 * it would let the cached digest E through.
 */
const damages: { name: string; check: string; content(ctx: string, f: string): string }[] = [
  { name: 'truncated JSON', check: "load()'s catch", content: () => '{"dir":' },
  { name: 'the file of another directory', check: 'parsed.dir === dir', content: (_ctx, f) => JSON.stringify({ dir: '/elsewhere', entries: { f: stampOf(f) + E } }) },
  { name: 'an entry that is not a string', check: "load()'s typeof check", content: (ctx, f) => JSON.stringify({ dir: ctx, entries: { f: { length: stampOf(f).length + 64 } } }) },
  { name: 'a digest of the wrong length', check: "get()'s length check", content: (ctx, f) => JSON.stringify({ dir: ctx, entries: { f: stampOf(f) + E.slice(0, 40) } }) },
];

for (const d of damages) {
  test(`a damaged directory file is a miss, and is rewritten: ${d.name} (${d.check})`, async () => {
    const { store, ctx } = await setup();
    const f = join(ctx, 'f');
    writeFileSync(f, 'x');
    const c1 = await ContextHashCache.open(store, ctx);
    await c1.set(f, lstatSync(f), D);
    await c1.save();
    const cacheDir = join(store, 'context-hashes');
    const ctxDir = join(cacheDir, readdirSync(cacheDir)[0]);
    const shard = join(ctxDir, readdirSync(ctxDir)[0]);
    writeFileSync(shard, d.content(ctx, f));
    const c = await ContextHashCache.open(store, ctx);
    assert.equal(await c.get(f, lstatSync(f)), undefined);
    await c.set(f, lstatSync(f), D);
    await c.save();
    assert.equal(JSON.parse(readFileSync(shard, 'utf8')).dir, ctx);
    assert.equal(await (await ContextHashCache.open(store, ctx)).get(f, lstatSync(f)), D);
  });
}

test('the single-file cache of earlier versions is removed on open', async () => {
  const { store, ctx } = await setup();
  const c = await ContextHashCache.open(store, ctx);
  await c.save();
  const cacheDir = join(store, 'context-hashes');
  const id = readdirSync(cacheDir)[0];
  writeFileSync(join(cacheDir, `${id}.json`), '{}');
  await ContextHashCache.open(store, ctx);
  assert.deepEqual(readdirSync(cacheDir), [id]);
  rmSync(join(cacheDir, id), { recursive: true });
});

test("a dead writer's temp file is swept on open; a live writer's is left alone", async () => {
  const { store, ctx } = await setup();
  const c = await ContextHashCache.open(store, ctx);
  await c.save();
  const root = join(store, 'context-hashes', readdirSync(join(store, 'context-hashes'))[0]);
  const live = `${'b'.repeat(32)}.${selfIdentity()}.0123456789ab.tmp`;
  const dead = `${'b'.repeat(32)}.999999999.1.0123456789ab.tmp`; // no such pid
  const old = `${'b'.repeat(32)}.12345-deadbeef.tmp`; // the earlier "<pid>-<hex>" form
  for (const name of [live, dead, old]) writeFileSync(join(root, name), '{');
  await ContextHashCache.open(store, ctx);
  const left = readdirSync(root);
  assert.ok(left.includes(live), 'the live writer keeps its temp file');
  assert.ok(!left.includes(dead) && !left.includes(old), `swept: ${left.join(', ')}`);
});
