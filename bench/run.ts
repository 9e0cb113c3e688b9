#!/usr/bin/env node
/**
 * `npm run bench [-- NAME…] [--budget-ms N] [--check] [--json]`: runs every bench/*.bench.ts (or
 * bench/NAME.bench.ts for each NAME given) and prints name, iterations, median, p95 and goal.
 * `npm run bench -- build SCENARIO…` runs only those build scenarios (ids as in build.bench.ts:
 * cached, gcc-edit, steps30, …): names that are not bench files are handed to build.bench.ts through
 * $JETTISON_BENCH_SCENARIOS.
 * A bench file exports its list as `benchmarks`, `benches` or default (see harness.ts).
 * --check exits 1 when a median misses its goal (benchmarks are noisy on shared machines, so
 * this is opt-in); --json prints the measurements as JSON instead of the table.
 */
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { formatTable, measure, type Benchmark, type Measurement } from './harness.ts';

const DIR = dirname(fileURLToPath(import.meta.url));

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'budget-ms': { type: 'string', default: '2000' },
    'min-iterations': { type: 'string', default: '10' },
    'max-iterations': { type: 'string', default: '1000' },
    check: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

const all = readdirSync(DIR)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort();
const fileOf = (p: string): string => `${basename(p).replace(/\.bench\.ts$/, '')}.bench.ts`;
const wanted = positionals.filter((p) => all.includes(fileOf(p))).map(fileOf);
const scenarioNames = positionals.filter((p) => !all.includes(fileOf(p)));
if (scenarioNames.length > 0) {
  if (!wanted.includes('build.bench.ts') || wanted.length > 1) {
    console.error(`no benchmark file ${scenarioNames.map((n) => `bench/${fileOf(n)}`).join(', ')} (have: ${all.join(', ') || 'none'}); build scenarios go after "build" alone`);
    process.exit(2);
  }
  process.env.JETTISON_BENCH_SCENARIOS = scenarioNames.join(',');
}

const rows: Measurement[] = [];
for (const file of wanted.length ? wanted : all) {
  const mod = (await import(pathToFileURL(join(DIR, file)).href)) as Record<string, unknown>;
  const list = [mod.benchmarks, mod.benches, mod.default].find(Array.isArray) as Benchmark[] | undefined;
  if (!list) {
    console.error(`bench/${file} exports no list of benchmarks (benchmarks, benches or default)`);
    process.exit(2);
  }
  for (const b of list) {
    rows.push(
      await measure(b, {
        budgetMs: Number(values['budget-ms']),
        minIterations: Number(values['min-iterations']),
        maxIterations: Number(values['max-iterations']),
      }),
    );
    if (!values.json) process.stderr.write(`  ${b.name}: done\n`);
  }
}

console.log(values.json ? JSON.stringify(rows, null, 2) : formatTable(rows));
if (values.check && rows.some((r) => r.met === false)) process.exit(1);
