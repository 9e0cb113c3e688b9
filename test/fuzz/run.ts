#!/usr/bin/env node
/**
 * `npm run fuzz [-- --seconds N] [--seed S] [--replay I]`: fuzzes the Dockerfile parser for N
 * seconds (default 60) from a random seed (printed, so a run can be repeated with --seed). A
 * failing or hanging case is written to a file and can be replayed with --seed S --replay I.
 * Exits 1 when any case failed, hung, or took longer than --slow-ms (default 2000).
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { caseAt, checkOne, loadCorpus, type FuzzCase } from './parser-fuzz.ts';
import { runWatched } from './watchdog.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    seed: { type: 'string' },
    replay: { type: 'string' },
    'slow-ms': { type: 'string', default: '2000' },
    'stall-ms': { type: 'string', default: '30000' },
  },
});

const seed = values.seed !== undefined ? Number(values.seed) >>> 0 : Math.floor(Math.random() * 2 ** 32);

function save(c: FuzzCase, iteration: number): string {
  const file = join(tmpdir(), `jettison-fuzz-${seed}-${iteration}.Dockerfile`);
  writeFileSync(file, typeof c.input === 'string' ? Buffer.from(c.input, 'utf8') : c.input);
  return file;
}

if (values.replay !== undefined) {
  const iteration = Number(values.replay);
  const c = caseAt(seed, iteration, loadCorpus());
  console.log(`seed ${seed} iteration ${iteration} (${c.kind}), ${c.input.length} ${typeof c.input === 'string' ? 'characters' : 'bytes'}:`);
  console.log(JSON.stringify(typeof c.input === 'string' ? c.input : Buffer.from(c.input).toString('latin1')).slice(0, 4000));
  const problem = checkOne(c.input);
  console.log(problem ?? 'ok');
  process.exit(problem === null ? 0 : 1);
}

const seconds = Number(values.seconds);
const slowMs = Number(values['slow-ms']);
console.log(`fuzzing the Dockerfile parser for ${seconds} s, seed ${seed}`);
const started = Date.now();
const r = await runWatched({ seed, deadline: started + seconds * 1000 }, Number(values['stall-ms']));
const elapsed = (Date.now() - started) / 1000;
console.log(`${r.iterations} cases in ${elapsed.toFixed(1)} s; slowest: iteration ${r.slowest.iteration} (${r.slowest.kind}), ${r.slowest.ms.toFixed(1)} ms`);

let bad = 0;
const corpus = loadCorpus();
for (const f of r.failures) {
  bad++;
  if (bad <= 20) {
    const file = save(caseAt(seed, f.iteration, corpus), f.iteration);
    console.log(`FAIL iteration ${f.iteration} (${f.kind}): ${f.problem}\n  input: ${file}\n  replay: npm run fuzz -- --seed ${seed} --replay ${f.iteration}`);
  }
}
if (r.hang) {
  bad++;
  console.log(`HANG iteration ${r.hang.iteration} (${r.hang.kind}): ${r.hang.problem}\n  input: ${save(r.hang.case, r.hang.iteration)}`);
}
if (r.slowest.ms > slowMs && !r.hang) {
  bad++;
  console.log(`SLOW iteration ${r.slowest.iteration}: ${r.slowest.ms.toFixed(0)} ms > ${slowMs} ms\n  input: ${save(caseAt(seed, r.slowest.iteration, corpus), r.slowest.iteration)}`);
}
console.log(bad === 0 ? 'no failures' : `${bad} failure(s)`);
process.exit(bad === 0 ? 0 : 1);
