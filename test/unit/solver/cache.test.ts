// The persistent build cache: round trips, verification, crash safety (killed child processes),
// concurrent writers, GC roots, and explanations of misses (a table).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sha256 } from '../../../src/image/digest.ts';
import { BuildCache, cacheBlobRoots, solverCache, STEP_HISTORY, type CachedResult } from '../../../src/solver/cache.ts';
import type { ExecOp } from '../../../src/solver/ops.ts';
import { solve, type SolverEvent } from '../../../src/solver/solve.ts';
import { vertex, type Vertex } from '../../../src/solver/vertex.ts';
import { recordVertex, resultFor } from './fixtures/cache-writer.ts';

const WRITER = fileURLToPath(new URL('./fixtures/cache-writer.ts', import.meta.url));
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempRoot(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'jettison-cache-'));
  dirs.push(d);
  return d;
}

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out;
}

/** Spawns the writer and resolves with the child once `until` matches a line of its output. */
function writer(args: string[], until: (line: string) => boolean) {
  const child = spawn(process.execPath, [WRITER, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const reached = new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        lines.push(line);
        if (until(line)) resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`writer exited (${code}) before the expected output; got ${JSON.stringify(lines)}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  return { child, lines, reached, exited };
}

test('put/get round trip; a record for another key or a damaged record is a miss', async () => {
  const cache = new BuildCache(await tempRoot());
  const v = recordVertex('round');
  assert.equal(await cache.get(v.key), undefined);
  const rec = await cache.put(v, resultFor('round'));
  const got = await cache.get(v.key);
  assert.deepEqual(got?.result, resultFor('round'));
  assert.equal(got?.key, v.key);
  assert.deepEqual(got?.components, rec.components);

  const path = (await allFiles(join(cache.dir, 'entries')))[0];
  const text = await readFile(path, 'utf8');
  await writeFile(path, text.slice(0, text.length / 2));
  assert.equal(await cache.get(v.key), undefined, 'truncated');
  const tampered = JSON.parse(text);
  tampered.components.inputs = [sha256('other')];
  await writeFile(path, JSON.stringify(tampered));
  assert.equal(await cache.get(v.key), undefined, 'components do not give the key');
  const other = await cache.put(recordVertex('other'), resultFor('other'));
  await writeFile(path, JSON.stringify(other));
  assert.equal(await cache.get(v.key), undefined, 'record of another key');
  await writeFile(path, text);
  assert.ok(await cache.get(v.key));
  assert.equal(await cache.delete(v.key), true);
  assert.equal(await cache.get(v.key), undefined);
});

test('a record written by an earlier version, with per-file digests in `files`, still reads (the field is ignored)', async () => {
  const cache = new BuildCache(await tempRoot());
  const v = recordVertex('old');
  await cache.put(v, resultFor('old'));
  const path = (await allFiles(join(cache.dir, 'entries')))[0];
  const record = JSON.parse(await readFile(path, 'utf8'));
  assert.equal(record.files, undefined, 'no longer written');
  await writeFile(path, JSON.stringify({ ...record, files: { 'COPY src/': { 'src/main.c': sha256('main') } } }));
  assert.deepEqual((await cache.get(v.key))?.result, resultFor('old'));
  await writeFile(path, JSON.stringify({ ...record, buildArgs: undefined }));
  assert.equal(await cache.get(v.key), undefined, 'a record must still be complete otherwise');
});

test('invalid results are refused', async () => {
  const cache = new BuildCache(await tempRoot());
  await assert.rejects(cache.put(recordVertex('x'), { layers: [{ descriptor: { mediaType: 'm', digest: 'nope', size: 1 }, diffID: sha256('d') }] }), /invalid cache result/);
});

test('crash: a writer killed just before committing leaves every earlier record readable and nothing partial', async () => {
  const root = await tempRoot();
  const w = writer(['pause', root, '5'], (l) => l.startsWith('paused '));
  await w.reached;
  const temp = w.lines.at(-1)!.slice('paused '.length);
  w.child.kill('SIGKILL');
  await w.exited;
  const cache = new BuildCache(root);
  for (let i = 0; i < 5; i++) assert.deepEqual((await cache.get(recordVertex(`r${i}`).key))?.result, resultFor(`r${i}`));
  assert.equal(await cache.get(recordVertex('r5').key), undefined);
  assert.ok((await allFiles(cache.dir)).includes(temp), 'the temporary file is left behind');
  const seen = [];
  for await (const r of cache.records()) seen.push(r.name);
  assert.deepEqual(seen.sort(), ['r0', 'r1', 'r2', 'r3', 'r4']);
  assert.equal(await cache.sweep(0), 1);
  assert.ok(!(await allFiles(cache.dir)).includes(temp));
});

test('crash: a writer killed at an arbitrary moment leaves only complete records', async () => {
  for (const after of [2, 5]) {
    const root = await tempRoot();
    const w = writer(['loop', root], (l) => l === `ok ${after}`);
    await w.reached;
    w.child.kill('SIGKILL');
    await w.exited;
    const cache = new BuildCache(root);
    const confirmed = w.lines.filter((l) => l.startsWith('ok ')).map((l) => Number(l.slice(3)));
    for (const i of confirmed) assert.ok(await cache.get(recordVertex(`r${i}`).key), `r${i} was confirmed`);
    for (const f of await allFiles(join(cache.dir, 'entries'))) {
      if (f.split('/').at(-1)!.startsWith('.tmp-')) continue;
      const text = await readFile(f, 'utf8');
      assert.doesNotThrow(() => JSON.parse(text), `${f} is complete`);
    }
  }
});

test('concurrent writers (separate processes) sharing keys all succeed', async () => {
  const root = await tempRoot();
  const ws = ['a', 'b', 'c'].map((id) => writer(['many', root, id, '12'], (l) => l === 'done'));
  await Promise.all(ws.map((w) => w.reached));
  assert.deepEqual(await Promise.all(ws.map((w) => w.exited)), [0, 0, 0]);
  const cache = new BuildCache(root);
  for (let i = 0; i < 12; i++) {
    assert.deepEqual((await cache.get(recordVertex(`shared${i}`).key))?.result, resultFor(`shared${i}`));
    for (const id of ['a', 'b', 'c']) assert.ok(await cache.get(recordVertex(`${id}-${i}`).key));
  }
  assert.ok(!(await allFiles(cache.dir)).some((f) => f.includes('.tmp-')));
  // the step index of the shared stage keeps only the newest STEP_HISTORY records
  const stepDirs = await readdir(join(cache.dir, 'steps'));
  for (const d of stepDirs) assert.ok((await readdir(join(cache.dir, 'steps', d))).length <= STEP_HISTORY + 3);
});

test('GC roots: every layer and blob a record refers to', async () => {
  const root = await tempRoot();
  const cache = new BuildCache(root);
  await cache.put(recordVertex('g1'), resultFor('g1'));
  await cache.put(recordVertex('g2'), resultFor('g2'));
  const roots = await cacheBlobRoots(root);
  const expected = ['g1', 'g2'].flatMap((n) => [sha256(`layer ${n}`), sha256(`config ${n}`)]).sort();
  assert.deepEqual(roots, expected);
  assert.deepEqual(await cacheBlobRoots(await tempRoot()), []);
});

// ---- explanations ------------------------------------------------------------------------------

const platform = { architecture: 'amd64', os: 'linux' };
const alpine = vertex({ op: { kind: 'image', digest: sha256('alpine 1'), platform }, name: '[build 1/3] FROM alpine' });
const alpine2 = vertex({ op: { kind: 'image', digest: sha256('alpine 2'), platform }, name: '[build 1/3] FROM alpine' });
const srcFiles = sha256('src files');

interface Build {
  base?: Vertex;
  /** The digest of the files COPY src/ reads (file-by-file explanations from listings: explain-listing.test.ts). */
  src?: string;
  env?: string[];
  instruction?: string;
  args?: string[];
  cwd?: string;
}
/** A two-step stage: COPY src/ (a content digest), then RUN make with env. */
function build(b: Build = {}): { copy: Vertex; run: Vertex } {
  const copy = vertex({
    op: { kind: 'file', actions: [{ action: 'copy', input: 1, src: ['src/'], dest: '/src/' }] },
    inputs: [b.base ?? alpine, vertex({ op: { kind: 'context', name: 'context' } })],
    contents: [{ label: 'COPY src/', digest: b.src ?? srcFiles }],
    name: '[build 2/3] COPY src/ /src/',
    step: { scope: 'Dockerfile', stage: 'build', index: 2, total: 3, instruction: 'COPY src/ /src/' },
  });
  const op: ExecOp = { kind: 'exec', args: b.args ?? ['/bin/sh', '-c', 'make'], env: b.env ?? ['PATH=/bin', 'VERSION=1'], cwd: b.cwd ?? '/src' };
  const run = vertex({
    op,
    inputs: [copy],
    name: `[build 3/3] ${b.instruction ?? 'RUN make'}`,
    step: { scope: 'Dockerfile', stage: 'build', index: 3, total: 3, instruction: b.instruction ?? 'RUN make' },
    buildArgs: ['VERSION'],
  });
  return { copy, run };
}

const result: CachedResult = { layers: [] };

const explainCases: { name: string; now: Build; step: 'copy' | 'run'; reasons: string[] }[] = [
  { name: 'unchanged step', now: {}, step: 'run', reasons: [] },
  { name: 'the copied files changed (no listing to name them)', now: { src: sha256('src files v2') }, step: 'copy', reasons: ['COPY src/ changed'] },
  { name: 'the base image changed', now: { base: alpine2 }, step: 'copy', reasons: ['base image changed'] },
  { name: 'the step before changed', now: { src: sha256('src files v2') }, step: 'run', reasons: ['previous step changed: [build 2/3] COPY src/ /src/'] },
  { name: 'a build arg changed', now: { env: ['PATH=/bin', 'VERSION=2'] }, step: 'run', reasons: ['build arg VERSION changed'] },
  { name: 'an env var changed', now: { env: ['PATH=/usr/bin', 'VERSION=1'] }, step: 'run', reasons: ['environment variable PATH changed'] },
  { name: 'a build arg and the workdir changed', now: { env: ['PATH=/bin'], cwd: '/' }, step: 'run', reasons: ['build arg VERSION changed', 'working directory changed'] },
  { name: 'the instruction changed', now: { instruction: 'RUN make -j4', args: ['/bin/sh', '-c', 'make -j4'] }, step: 'run', reasons: ['instruction changed (was "RUN make")'] },
];

for (const c of explainCases) {
  test(`explain: ${c.name}`, async () => {
    const cache = new BuildCache(await tempRoot());
    const before = build();
    await cache.put(before.copy, result);
    await cache.put(before.run, result);
    const now = build(c.now)[c.step];
    const e = await cache.explain(now);
    assert.deepEqual(e.reasons, c.reasons);
    if (now.key === before[c.step].key) assert.equal(e.previous, undefined);
    else assert.equal(e.previous?.key, before[c.step].key);
  });
}

test('explain: no earlier build of the step → no reasons, no previous', async () => {
  const cache = new BuildCache(await tempRoot());
  assert.deepEqual(await cache.explain(build().run), { reasons: [] });
});

test('explain: picks the closest earlier build, not the latest', async () => {
  const cache = new BuildCache(await tempRoot());
  const t = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s));
  const v1 = build({ env: ['PATH=/bin', 'VERSION=1'] }).run;
  const v2 = build({ env: ['PATH=/usr/bin', 'VERSION=9'], cwd: '/x' }).run;
  await cache.put(v1, result, t(1));
  await cache.put(v2, result, t(2));
  const e = await cache.explain(build({ env: ['PATH=/bin', 'VERSION=2'] }).run);
  assert.equal(e.previous?.key, v1.key);
  assert.deepEqual(e.reasons, ['build arg VERSION changed']);
});

test('explain: a step moved to another index is still found by its instruction', async () => {
  const cache = new BuildCache(await tempRoot());
  const at = (index: number, version: string) =>
    vertex({ op: { kind: 'exec', args: ['make'], env: [`VERSION=${version}`], cwd: '/' }, inputs: [alpine], name: 'RUN make', step: { stage: 'build', index, instruction: 'RUN make' }, buildArgs: ['VERSION'] });
  await cache.put(at(3, '1'), result);
  assert.deepEqual((await cache.explain(at(4, '2'))).reasons, ['build arg VERSION changed']);
});

test('solverCache: second solve is served from the cache; a miss carries its explanation', async () => {
  const cache = new BuildCache(await tempRoot());
  const layer = (n: string): CachedResult => ({ layers: [{ descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(n), size: 1 }, diffID: sha256(n) }] });
  let runs = 0;
  const execute = async (v: Vertex) => (runs++, layer(v.name));
  await solve([build().run], { execute, cache: solverCache(cache) });
  assert.equal(runs, 4);
  runs = 0;
  const r = await solve([build().run], { execute, cache: solverCache(cache) });
  assert.equal(runs, 0);
  assert.deepEqual(r.targets[0], layer('[build 3/3] RUN make'));

  const events: SolverEvent[] = [];
  await solve([build({ env: ['PATH=/bin', 'VERSION=3'] }).run], { execute, cache: solverCache(cache), onEvent: (e) => events.push(e) });
  assert.equal(runs, 1);
  const started = events.find((e) => e.type === 'vertex.started');
  assert.deepEqual(started?.type === 'vertex.started' && started.cacheMiss, ['build arg VERSION changed']);
  const rejected = await solve([build().run], { execute, cache: solverCache(cache, { verify: async () => false }) });
  assert.equal(rejected.stats.cached, 0);
});

test('GC roots: the store\'s prune keeps blobs the cache refers to once registered', async () => {
  const { openStore, prune } = await import('../../../src/store/index.ts');
  const { registerCacheGcRoots } = await import('../../../src/solver/gc-roots.ts');
  const root = await tempRoot();
  const store = openStore(root);
  const kept = await store.putBytes('layer bytes', 'application/vnd.oci.image.layer.v1.tar');
  const loose = await store.putBytes('unreferenced', 'application/octet-stream');
  await new BuildCache(root).put(recordVertex('gc'), { layers: [{ descriptor: kept, diffID: kept.digest }] });
  await store.releaseLease();
  const unregister = registerCacheGcRoots();
  try {
    const r = await prune(store);
    assert.deepEqual(r.removed, [loose.digest]);
    assert.ok(await store.has(kept.digest));
  } finally {
    unregister();
  }
  assert.deepEqual((await prune(store)).removed, [kept.digest]);
});
