// The scheduler: parallelism, bounds, dedupe, failure, cancellation, cache resolution, logs.
// Observed through events and counters, never timing: executions are held open by deferreds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SolveError } from '../../../src/errors.ts';
import { sha256 } from '../../../src/image/digest.ts';
import { defaultJobs, solve, SolveFailure, type ExecuteContext, type SolverCache, type SolverEvent } from '../../../src/solver/solve.ts';
import { vertex, type Vertex } from '../../../src/solver/vertex.ts';

const platform = { architecture: 'amd64', os: 'linux' };
const img = (name: string) => vertex({ op: { kind: 'image', digest: sha256(name), platform }, name: `FROM ${name}` });
const run = (name: string, inputs: Vertex[], stage = 's') =>
  vertex({ op: { kind: 'exec', args: [name], env: [], cwd: '/' }, inputs, name, step: { stage, index: 1, instruction: `RUN ${name}` } });

/** An executor whose executions stay open until released; records what ran and what was running. */
class Harness {
  running = new Set<string>();
  maxRunning = 0;
  started: string[] = [];
  calls = new Map<string, number>();
  aborted: string[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];
  private gates = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  auto = new Set<string>();
  failing = new Set<string>();

  execute = (v: Vertex, ctx: ExecuteContext<string>): Promise<string> => {
    this.calls.set(v.name, (this.calls.get(v.name) ?? 0) + 1);
    this.started.push(v.name);
    this.running.add(v.name);
    this.maxRunning = Math.max(this.maxRunning, this.running.size);
    for (const w of [...this.waiters]) if (this.started.length >= w.n) w.resolve();
    const result = `${v.name}(${ctx.inputs.join(',')})`;
    return new Promise<string>((resolve, reject) => {
      let finished = false;
      const finish = (err?: Error) => {
        if (finished) return;
        finished = true;
        this.running.delete(v.name);
        if (err) reject(err);
        else resolve(result);
      };
      ctx.signal.addEventListener('abort', () => {
        if (finished) return;
        this.aborted.push(v.name);
        finish(new Error(`${v.name} aborted`));
      }, { once: true });
      if (this.failing.has(v.name)) queueMicrotask(() => finish(new Error(`process "${v.name}" did not complete successfully: exit code: 1`)));
      else if (this.auto.has(v.name) || this.auto.has('*')) queueMicrotask(() => finish());
      else this.gates.set(v.name, { resolve: () => finish(), reject: (e) => finish(e) });
    });
  };
  /** Resolves once `n` executions have started in total. */
  startedCount(n: number): Promise<void> {
    if (this.started.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }
  release(name: string): void {
    const g = this.gates.get(name);
    assert.ok(g, `${name} is not waiting`);
    this.gates.delete(name);
    g.resolve();
  }
  fail(name: string): void {
    const g = this.gates.get(name)!;
    this.gates.delete(name);
    g.reject(new Error(`process "${name}" did not complete successfully: exit code: 1`));
  }
}

function events() {
  const list: SolverEvent[] = [];
  return { list, onEvent: (e: SolverEvent) => list.push(e), of: (type: SolverEvent['type']) => list.filter((e) => e.type === type).map((e) => e.vertex?.name) };
}

class MemoryCache implements SolverCache<string> {
  map = new Map<string, string>();
  lookups: string[] = [];
  records: string[] = [];
  async lookup(v: Vertex) {
    this.lookups.push(v.name);
    return this.map.get(v.key);
  }
  async record(v: Vertex, r: string) {
    this.records.push(v.name);
    this.map.set(v.key, r);
  }
  async explain(v: Vertex) {
    return [`${v.name} is new`];
  }
}

test('diamond: independent branches run in parallel, dependents after their inputs', async () => {
  const h = new Harness();
  const a = img('a');
  const b = run('b', [a]);
  const c = run('c', [a]);
  const d = vertex({ op: { kind: 'merge' }, inputs: [b, c], name: 'd' });
  const ev = events();
  const p = solve([d], { execute: h.execute, jobs: 4, onEvent: ev.onEvent });
  await h.startedCount(1);
  assert.deepEqual(h.started, ['FROM a']);
  h.release('FROM a');
  await h.startedCount(3);
  assert.deepEqual([...h.running].sort(), ['b', 'c']);
  h.release('c');
  h.release('b');
  await h.startedCount(4);
  h.release('d');
  const report = await p;
  assert.equal(report.targets[0], 'd(b(FROM a()),c(FROM a()))');
  assert.equal(report.stats.maxConcurrency, 2);
  assert.deepEqual(ev.of('vertex.done'), ['FROM a', 'c', 'b', 'd']);
  assert.deepEqual(report.notNeeded, []);
});

test('bounded: never more than `jobs` executions at once', async () => {
  for (const jobs of [1, 2, 3, 7]) {
    const h = new Harness();
    h.auto.add('*');
    const root = img('root');
    const leaves = Array.from({ length: 12 }, (_, i) => run(`leaf${i}`, [root]));
    const top = vertex({ op: { kind: 'merge' }, inputs: leaves, name: 'top' });
    const report = await solve([top], { execute: h.execute, jobs });
    assert.equal(h.maxRunning, Math.min(jobs, 12), `jobs=${jobs}`);
    assert.equal(report.stats.maxConcurrency, Math.min(jobs, 12));
    assert.equal(report.stats.ran, 14);
  }
});

test('the default parallelism is the CPU count, at least 2', () => {
  assert.ok(defaultJobs() >= 2);
});

test('dedupe: a vertex reached by two paths (even as distinct objects) runs once', async () => {
  const h = new Harness();
  h.auto.add('*');
  const base = img('base');
  const shared1 = run('shared', [base]);
  const shared2 = run('shared', [img('base')]);
  assert.notEqual(shared1, shared2);
  const left = run('left', [shared1]);
  const right = run('right', [shared2]);
  const report = await solve([left, right, shared1], { execute: h.execute, jobs: 4 });
  assert.equal(h.calls.get('shared'), 1);
  assert.equal(h.calls.get('FROM base'), 1);
  assert.equal(report.stats.vertices, 4);
  assert.deepEqual(report.targets, ['left(shared(FROM base()))', 'right(shared(FROM base()))', 'shared(FROM base())']);
});

test('failure: dependents never start, nothing new starts, running siblings are aborted', async () => {
  const h = new Harness();
  const base = img('base');
  const bad = run('bad', [base]);
  const slow = run('slow', [base]);
  const later = run('later', [base]);
  const after = run('after', [bad]);
  const top = vertex({ op: { kind: 'merge' }, inputs: [after, slow, later], name: 'top' });
  const ev = events();
  const p = solve([top], { execute: h.execute, jobs: 2, onEvent: ev.onEvent });
  await h.startedCount(1);
  h.release('FROM base');
  await h.startedCount(3);
  assert.deepEqual([...h.running].sort(), ['bad', 'slow']);
  h.fail('bad');
  const err = await p.then(() => assert.fail('should fail'), (e: unknown) => e);
  assert.ok(err instanceof SolveFailure && err instanceof SolveError);
  assert.equal(err.message, 'failed to solve: process "bad" did not complete successfully: exit code: 1');
  assert.equal(err.vertex, 'bad');
  assert.deepEqual(h.aborted, ['slow']);
  assert.equal(h.calls.get('after'), undefined);
  assert.equal(h.calls.get('later'), undefined);
  assert.deepEqual(err.report.skipped.map((v) => v.name).sort(), ['after', 'later', 'top']);
  const errors = ev.list.filter((e) => e.type === 'vertex.error');
  assert.deepEqual(errors.map((e) => [e.vertex!.name, e.type === 'vertex.error' && e.canceled]), [['bad', false], ['slow', true]]);
});

test('failure with onFailure "wait": running siblings finish and are recorded', async () => {
  const h = new Harness();
  const cache = new MemoryCache();
  const base = img('base');
  const bad = run('bad', [base]);
  const slow = run('slow', [base]);
  const top = vertex({ op: { kind: 'merge' }, inputs: [bad, slow], name: 'top' });
  const p = solve([top], { execute: h.execute, jobs: 2, onFailure: 'wait', cache });
  await h.startedCount(1);
  h.release('FROM base');
  await h.startedCount(3);
  h.fail('bad');
  // slow is still running: the solve must wait for it
  await new Promise((r) => setImmediate(r));
  assert.ok(h.running.has('slow'));
  h.release('slow');
  await assert.rejects(p, /failed to solve: process "bad"/);
  assert.deepEqual(h.aborted, []);
  assert.deepEqual(cache.records.sort(), ['FROM base', 'slow']);
});

test('cancellation: aborting the signal aborts running work and rejects as canceled', async () => {
  const h = new Harness();
  const controller = new AbortController();
  const base = img('base');
  const a = run('a', [base]);
  const b = run('b', [a]);
  const p = solve([b], { execute: h.execute, signal: controller.signal });
  await h.startedCount(1);
  h.release('FROM base');
  await h.startedCount(2);
  controller.abort();
  const err = await p.then(() => assert.fail('should fail'), (e: unknown) => e);
  assert.ok(err instanceof SolveFailure);
  assert.equal(err.canceled, true);
  assert.equal(err.code, 'CANCELED');
  assert.equal(err.message, 'failed to solve: Canceled: context canceled');
  assert.deepEqual(h.aborted, ['a']);
  assert.equal(h.calls.get('b'), undefined);
});

test('cancellation before start runs nothing', async () => {
  const h = new Harness();
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(solve([run('a', [img('x')])], { execute: h.execute, signal: controller.signal }), /context canceled/);
  assert.equal(h.started.length, 0);
});

test('cache: a cached target needs none of its inputs; they are reported as not needed', async () => {
  const h = new Harness();
  h.auto.add('*');
  const cache = new MemoryCache();
  const base = img('base');
  const a = run('a', [base]);
  const b = run('b', [a]);
  await solve([b], { execute: h.execute, cache });
  assert.deepEqual(cache.records.sort(), ['FROM base', 'a', 'b']);

  const h2 = new Harness();
  const ev = events();
  cache.lookups = [];
  const report = await solve([b], { execute: h2.execute, cache, onEvent: ev.onEvent });
  assert.equal(h2.started.length, 0);
  assert.deepEqual(cache.lookups, ['b']);
  assert.deepEqual(ev.of('vertex.cached'), ['b']);
  assert.deepEqual(report.notNeeded.map((v) => v.name).sort(), ['FROM base', 'a']);
  assert.equal(report.targets[0], 'b(a(FROM base()))');

  // A new step on top: only it runs, built on the cached result.
  const c = run('c', [b]);
  const h3 = new Harness();
  h3.auto.add('*');
  const ev3 = events();
  const r3 = await solve([c], { execute: h3.execute, cache, onEvent: ev3.onEvent });
  assert.deepEqual(h3.started, ['c']);
  assert.equal(r3.targets[0], 'c(b(a(FROM base())))');
  const started = ev3.list.find((e) => e.type === 'vertex.started');
  assert.deepEqual(started?.type === 'vertex.started' && started.cacheMiss, ['c is new']);
});

test('cache: noCache skips lookups but records; noCacheFilter forces a stage and its dependents', async () => {
  const cache = new MemoryCache();
  const base = img('base');
  const deps = run('deps', [base], 'deps');
  const build = run('build', [deps], 'build');
  const other = run('other', [base], 'other');
  const final = vertex({ op: { kind: 'merge' }, inputs: [build, other], name: 'final', step: { stage: 'final', index: 1, instruction: 'COPY' } });
  const h1 = new Harness();
  h1.auto.add('*');
  await solve([final], { execute: h1.execute, cache });

  const h2 = new Harness();
  h2.auto.add('*');
  cache.lookups = [];
  cache.records = [];
  const r2 = await solve([final], { execute: h2.execute, cache, noCache: true });
  assert.deepEqual(cache.lookups, []);
  assert.equal(h2.started.length, 5);
  assert.equal(cache.records.length, 5);
  assert.equal(r2.stats.cached, 0);

  const h3 = new Harness();
  h3.auto.add('*');
  const r3 = await solve([final], { execute: h3.execute, cache, noCacheFilter: ['build'] });
  assert.deepEqual(h3.started.sort(), ['build', 'final']);
  assert.deepEqual(r3.cached.map((v) => v.name).sort(), ['deps', 'other']);
  assert.deepEqual(r3.notNeeded.map((v) => v.name), ['FROM base']);
});

test('logs: chunks become lines per stream, split UTF-8 survives, a partial last line is flushed', async () => {
  const ev = events();
  const v = run('logger', [img('x')]);
  const euro = Buffer.from('€');
  await solve([v], {
    jobs: 2,
    onEvent: ev.onEvent,
    execute: async (vx, ctx) => {
      if (vx.name !== 'logger') return 'base';
      ctx.log('stdout', 'one\ntw');
      ctx.log('stderr', 'err1\r\n');
      ctx.log('stdout', 'o\n');
      ctx.log('stdout', euro.subarray(0, 1));
      ctx.log('stdout', euro.subarray(1));
      ctx.log('stdout', ' tail');
      ctx.status({ id: 'transferring', current: 5, total: 10 });
      return 'done';
    },
  });
  const logs = ev.list.filter((e) => e.type === 'vertex.log').map((e) => e.type === 'vertex.log' && `${e.stream}:${e.line}`);
  assert.deepEqual(logs, ['stdout:one', 'stderr:err1', 'stdout:two', 'stdout:€ tail']);
  assert.equal(ev.list.filter((e) => e.type === 'vertex.status').length, 1);
  const order = ev.list.filter((e) => e.vertex?.name === 'logger').map((e) => e.type);
  assert.equal(order[0], 'vertex.started');
  assert.equal(order.at(-1), 'vertex.done');
});

test('a large DAG of no-op work completes with every vertex once', async () => {
  const layers: Vertex[][] = [[img('root')]];
  for (let l = 1; l < 20; l++) {
    const prev = layers[l - 1];
    layers.push(Array.from({ length: 50 }, (_, i) => run(`n${l}-${i}`, [prev[i % prev.length], prev[(i * 7) % prev.length]])));
  }
  const top = vertex({ op: { kind: 'merge' }, inputs: layers.at(-1)!, name: 'top' });
  let calls = 0;
  const report = await solve([top], { execute: async () => (calls++, 'x'), jobs: 8 });
  assert.equal(calls, 1 + 19 * 50 + 1);
  assert.equal(report.stats.ran, calls);
  assert.ok(report.stats.maxConcurrency <= 8 && report.stats.maxConcurrency >= 2);
});

test('reportCachedChain: a cached chain is reported whole, inputs first, with every result', async () => {
  const h = new Harness();
  h.auto.add('*');
  const cache = new MemoryCache();
  const base = img('base');
  const a = run('a', [base]);
  const b = run('b', [a]);
  await solve([b], { execute: h.execute, cache });
  cache.map.delete(base.key); // a record can be gone (pruned): the vertex is then just not needed

  const h2 = new Harness();
  const ev = events();
  const report = await solve([b], { execute: h2.execute, cache, onEvent: ev.onEvent, reportCachedChain: true });
  assert.equal(h2.started.length, 0);
  assert.deepEqual(ev.of('vertex.cached'), ['a', 'b']);
  assert.deepEqual(report.cached.map((v) => v.name).sort(), ['a', 'b']);
  assert.deepEqual(report.notNeeded.map((v) => v.name), ['FROM base']);
  assert.equal(report.results.get(a.key), 'a(FROM base())');

  // A forced stage is not looked up through the chain.
  const h3 = new Harness();
  h3.auto.add('*');
  const r3 = await solve([b], { execute: h3.execute, cache, noCache: true, reportCachedChain: true });
  assert.deepEqual(h3.started.sort(), ['FROM base', 'a', 'b']);
  assert.equal(r3.cached.length, 0);
});

test('cache.finish: called once when the solve ends (done, failed, canceled) with every vertex; its failure is a warning', async () => {
  const a = img('a');
  const b = run('b', [a]);
  const c = run('c', [a]);
  const top = run('top', [b, c]);
  const outcomes: { name: string; setup(h: Harness): void; signal?: AbortSignal; fails: boolean }[] = [
    { name: 'done', setup: (h) => h.auto.add('*'), fails: false },
    { name: 'failed', setup: (h) => (h.auto.add('*'), h.failing.add('b')), fails: true },
    { name: 'canceled', setup: () => undefined, signal: AbortSignal.abort(), fails: true },
  ];
  for (const o of outcomes) {
    const h = new Harness();
    o.setup(h);
    const finished: string[][] = [];
    const cache: SolverCache<string> = {
      lookup: async () => undefined,
      record: async () => undefined,
      finish: async (vertices) => void finished.push(vertices.map((v) => v.name)),
    };
    const p = solve([top], { execute: h.execute, cache, ...(o.signal ? { signal: o.signal } : {}) });
    if (o.fails) await assert.rejects(p, SolveFailure, o.name);
    else await p;
    assert.deepEqual(finished.map((names) => [...names].sort()), [['FROM a', 'b', 'c', 'top']], o.name);
  }
  const h = new Harness();
  h.auto.add('*');
  const events: SolverEvent[] = [];
  const broken: SolverCache<string> = { lookup: async () => undefined, record: async () => undefined, finish: async () => Promise.reject(new Error('EACCES: permission denied')) };
  await solve([top], { execute: h.execute, cache: broken, onEvent: (e) => events.push(e) });
  assert.deepEqual(events.filter((e) => e.type === 'warning').map((e) => e.type === 'warning' && e.message), ['build cache: EACCES: permission denied']);
});
