/**
 * The store under kill -9 and concurrency: writer processes (ingest + tag, and compressing layers to
 * their remembered variants) and pruning processes run at once on one store and are killed at random
 * moments, many times; after each round fsck (which checks every variant record against its blobs)
 * must find nothing wrong and the store must work normally.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { compressLayer, fsck, openStore, prune, readImage } from '../../../src/store/index.ts';
import { MediaType } from '../../../src/image/types.ts';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'worker.ts');

function start(root: string, mode: 'write' | 'prune' | 'compress', seed: number, count?: number): ChildProcess & { rounds: () => number; done: Promise<number | null> } {
  const args = [WORKER, root, mode, String(seed), ...(count ? [String(count)] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let rounds = 0;
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (rounds += (b.toString().match(/ok/g) ?? []).length));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const done = new Promise<number | null>((resolve) =>
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL' && code !== 0) process.stderr.write(`worker ${mode} failed (${code}):\n${err}\n`);
      resolve(code);
    }),
  );
  return Object.assign(child, { rounds: () => rounds, done });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Waits until the workers have started working (one of them finished a round; at most 20 s, for a loaded
 * machine), then a random 0–maxMs more: the kill lands in the work, not in Node's start-up.
 */
async function killPoint(children: { rounds: () => number }[], maxMs: number): Promise<void> {
  for (let waited = 0; waited < 20_000 && children.every((c) => c.rounds() === 0); waited += 10) await sleep(10);
  await sleep(Math.floor(Math.random() * maxMs));
}

/**
 * `rounds` times: two `mode` workers (and, every `pruneEvery` rounds, a pruner) on the store at `root`,
 * all killed with SIGKILL at a random point in their work, then the store checked (storeWorks).
 * Returns how many rounds of work the workers finished before being killed.
 */
async function killRounds(root: string, o: { rounds: number; mode: 'write' | 'compress'; pruneEvery: number; maxMs: number }): Promise<number> {
  let progressed = 0;
  for (let i = 0; i < o.rounds; i++) {
    const children = [start(root, o.mode, i * 3 + 1), start(root, o.mode, i * 3 + 2)];
    if (i % o.pruneEvery === 0) children.push(start(root, 'prune', i * 3 + 3));
    await killPoint(children, o.maxMs);
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(children.map((c) => c.done));
    progressed += children.reduce((n, c) => n + c.rounds(), 0);
    await storeWorks(root, `round ${i}`);
  }
  return progressed;
}

async function storeWorks(root: string, label: string): Promise<void> {
  const s = openStore(root);
  const r = await fsck(s);
  assert.deepEqual(r.problems, [], `${label}: fsck problems`);
  assert.deepEqual(readdirSync(s.tmpDir), [], `${label}: temp files left`);
  for (const rec of await s.listRefs()) {
    const img = await readImage(s, rec.name);
    assert.equal(img.manifest.layers.length, 1);
    assert.equal(await s.has(img.manifest.layers[0].digest), true);
  }
  const d = await s.ingest(Readable.from([Buffer.from(`probe ${label}`)]), { mediaType: MediaType.OciLayerTar });
  assert.equal((await s.readBytes(d.digest)).toString(), `probe ${label}`);
  await s.releaseLease();
}

test('kill -9 at random moments of ingest, tag and prune leaves a consistent, usable store', { timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'jettison-crash-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'store');
  const progressed = await killRounds(root, { rounds: 30, mode: 'write', pruneEvery: 3, maxMs: 700 });
  assert.ok(progressed > 10, `the workers made progress (${progressed} rounds) before being killed`);
  // After all that, prune leaves exactly what the refs reach, and fsck is still clean.
  const s = openStore(root);
  await prune(s);
  await storeWorks(root, 'after prune');
});

test('kill -9 in the middle of compressing layers and pruning never leaves a variant record that lies', { timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'jettison-crash-variants-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'store');
  const progressed = await killRounds(root, { rounds: 20, mode: 'compress', pruneEvery: 2, maxMs: 900 });
  assert.ok(progressed > 5, `the workers made progress (${progressed} rounds) before being killed`);
  const records = readdirSync(join(root, 'variants'));
  assert.ok(records.length > 0, 'some compressions completed');
  // fsck checked each record against its blobs; a record whose blobs are both there is used as it is.
  const s = openStore(root);
  let used = 0;
  for (const name of records) {
    const rec = JSON.parse(readFileSync(join(root, 'variants', name), 'utf8')) as { digest: string; size: number };
    const source = `sha256:${name.slice(0, 64)}`;
    const size = await s.size(source);
    if (size === undefined || !(await s.has(rec.digest))) continue;
    const r = await compressLayer(s, { mediaType: MediaType.OciLayerTar, digest: source, size }, 'gzip');
    assert.deepEqual({ reused: r.reused, digest: r.descriptor.digest, size: r.descriptor.size }, { reused: true, ...rec });
    used++;
  }
  await s.releaseLease();
  t.diagnostic(`${progressed} rounds, ${records.length} variant records, ${used} with both blobs present`);
});

test('processes ingesting, tagging and pruning at once leave every ref complete', { timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'jettison-concurrent-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'store');
  const writers = [1, 2, 3].map((seed) => start(root, 'write', seed, 25));
  const pruner = start(root, 'prune', 9, 40);
  const codes = await Promise.all([...writers, pruner].map((c) => c.done));
  assert.deepEqual(codes, [0, 0, 0, 0]);
  assert.equal(writers.reduce((n, c) => n + c.rounds(), 0), 75);
  await storeWorks(root, 'concurrent');
  // Two store instances ingesting the same content at once both succeed and store it once.
  const same = await Promise.all([1, 2].map(() => openStore(root).ingest(Readable.from([Buffer.alloc(1 << 20, 1)]))));
  assert.equal(same[0].digest, same[1].digest);
});
