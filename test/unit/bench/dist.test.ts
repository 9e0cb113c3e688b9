/**
 * The build bench times the published bin, so it rebuilds dist/ first when dist/ is missing or older
 * than anything it is made from (distStale), and runs the sources only when asked (jettisonFrom).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { distStale, jettisonFrom } from '../../../bench/support/builders.ts';

function repo(t: { after: (fn: () => void) => void }): { dir: string; write: (rel: string, age: number) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'jettison-dist-stale-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (rel: string, age: number): void => {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, rel);
    const when = new Date(Date.now() - age * 1000);
    utimesSync(p, when, when);
  };
  return { dir, write };
}

const OUTPUTS = ['dist/jettison.cjs', 'dist/loader.cjs', 'dist/cli/main.js'];

// [case, inputs (path, seconds ago), age of dist/'s files (none: no dist/), the one left out, expected]
const cases: [name: string, inputs: [string, number][], outputAge: number | undefined, missing: string | undefined, expected: string | undefined][] = [
  ['no dist at all', [['src/cli/main.ts', 100]], undefined, undefined, 'missing dist/jettison.cjs'],
  ['no loader', [['src/cli/main.ts', 100]], 10, 'dist/loader.cjs', 'missing dist/loader.cjs'],
  ['no compiled modules (tsc never ran)', [['src/cli/main.ts', 100]], 10, 'dist/cli/main.js', 'missing dist/cli/main.js'],
  ['built after the last edit', [['src/cli/main.ts', 100], ['src/store/local.ts', 50]], 10, undefined, undefined],
  ['a source edited after the build, deep in src/', [['src/cli/main.ts', 100], ['src/image/tar/writer.ts', 5]], 10, undefined, 'older than the sources'],
  ['package.json edited after the build', [['src/cli/main.ts', 100], ['package.json', 5]], 10, undefined, 'older than the sources'],
  ['the bundle script edited after the build', [['src/cli/main.ts', 100], ['scripts/bundle.ts', 5]], 10, undefined, 'older than the sources'],
  ['a test edited after the build (not an input)', [['src/cli/main.ts', 100], ['test/unit/x.test.ts', 5]], 10, undefined, undefined],
];

for (const [name, inputs, outputAge, missing, expected] of cases) {
  test(`distStale: ${name} → ${expected ?? 'current'}`, (t) => {
    const r = repo(t);
    for (const [rel, age] of inputs) r.write(rel, age);
    if (outputAge !== undefined) for (const o of OUTPUTS) if (o !== missing) r.write(o, outputAge);
    assert.equal(distStale(r.dir), expected);
  });
}

test('jettisonFrom: the bin unless JETTISON_BENCH_FROM=sources; anything else is an error', () => {
  assert.equal(jettisonFrom({}), 'bin');
  assert.equal(jettisonFrom({ JETTISON_BENCH_FROM: 'bin' }), 'bin');
  assert.equal(jettisonFrom({ JETTISON_BENCH_FROM: 'sources' }), 'sources');
  assert.throws(() => jettisonFrom({ JETTISON_BENCH_FROM: 'src' }), /JETTISON_BENCH_FROM must be bin or sources/);
});
