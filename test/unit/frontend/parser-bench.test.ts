/**
 * The parse benchmark's input and the benchmark harness (no timing assertions: speed is what
 * `npm run bench` reports). The generated Dockerfiles must have exactly the instructions claimed;
 * the harness must sample, order and judge goals correctly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchmarks, generateDockerfile } from '../../../bench/parse.bench.ts';
import { formatTable, goalMs, measure } from '../../../bench/harness.ts';
import { parseDockerfile } from '../../../src/frontend/dockerfile/parser/index.ts';

test('generated Dockerfiles have exactly n instructions of every kind', () => {
  for (const n of [1, 12, 1000]) {
    const df = parseDockerfile(generateDockerfile(n));
    assert.equal(df.instructions.length, n);
    assert.equal(df.warnings.length, 0);
  }
  const kinds = new Set(parseDockerfile(generateDockerfile(24)).instructions.map((i) => i.keyword));
  assert.deepEqual([...kinds].sort(), ['arg', 'cmd', 'copy', 'env', 'expose', 'from', 'healthcheck', 'label', 'run', 'user', 'workdir']);
  assert.ok(parseDockerfile(generateDockerfile(24)).instructions.some((i) => i.heredocs.length === 1));
});

test('the parse bench file lists 1k, 5k, 10k and parse+plan with the 50 ms goal', () => {
  assert.deepEqual(
    benchmarks.map((b) => [b.name, b.goal]),
    [
      ['parse 1,000 instructions', undefined],
      ['parse 5,000 instructions', undefined],
      ['parse 10,000 instructions', undefined],
      ['parse+plan 5,000 instructions', 50],
      ['format tree 5,000 instructions', undefined],
    ],
  );
});

test('goals: numbers are milliseconds, "< N ms" and "< N s" are checked, others only shown', () => {
  const table: [number | string | undefined, number | undefined][] = [
    [50, 50],
    ['< 0.5 s', 500],
    ['<20ms warm', 20],
    ['≥ 60 MB/s', undefined],
    ['time ≤ skopeo copy', undefined],
    [undefined, undefined],
  ];
  for (const [goal, want] of table) assert.equal(goalMs(goal), want, String(goal));
});

test('measure runs setup once, passes its result, samples, and tears down', async () => {
  const seen: unknown[] = [];
  let setups = 0;
  let teardowns = 0;
  const m = await measure(
    {
      name: 'count',
      goal: '< 1 s',
      setup: () => {
        setups++;
        return 'ctx';
      },
      run: (ctx) => seen.push(ctx),
      teardown: () => teardowns++,
    },
    { budgetMs: 10, minIterations: 7, maxIterations: 20 },
  );
  assert.equal(setups, 1);
  assert.equal(teardowns, 1);
  assert.ok(seen.every((c) => c === 'ctx'));
  assert.ok(m.iterations >= 7 && m.iterations <= 20);
  assert.ok(seen.length > m.iterations, 'warm-up runs are not sampled');
  assert.ok(m.median <= m.p95);
  assert.equal(m.met, true);
  const missed = await measure({ name: 'slow', goal: 0, run: () => {} }, { budgetMs: 1, minIterations: 3, maxIterations: 3 });
  assert.equal(missed.met, false);
  const table = formatTable([m, missed]).split('\n');
  assert.match(table[0], /^benchmark\s+iterations\s+median ms\s+p95 ms\s+goal$/);
  assert.match(table[1], /^count\s+\d+\s+[\d.]+\s+[\d.]+\s+< 1 s ok$/);
  assert.match(table[2], /^slow\s+3\s+[\d.]+\s+[\d.]+\s+< 0 ms MISSED$/);
});
