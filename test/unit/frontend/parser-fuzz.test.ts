/**
 * Bounded fuzzing of the Dockerfile parser (fixed seed, 2,000 cases; `npm run fuzz` runs it for
 * longer with a random seed): parseDockerfile only ever returns a well-formed tree or throws a
 * DockerfileError naming FILE:LINE:COL, and never hangs (a worker thread watched for progress).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DockerfileError } from '../../../src/errors.ts';
import { parseDockerfile, type Dockerfile } from '../../../src/frontend/dockerfile/parser/index.ts';
import { checkOne, loadCorpus } from '../../fuzz/parser-fuzz.ts';
import { runWatched } from '../../fuzz/watchdog.ts';

const SEED = 0x5eed_d0c;

test('the fuzz corpus has the golden cases (and the conformance files when present)', () => {
  assert.ok(loadCorpus().length >= 60);
});

test('the fuzz property accepts trees and DockerfileErrors, and catches anything else', () => {
  assert.equal(checkOne('FROM a\n'), null);
  assert.equal(checkOne('FROM a\nENV x\n'), null);
  assert.equal(checkOne(''), null);
  const good = parseDockerfile('FROM a\nRUN b\n');
  const broken: [string, () => Dockerfile, RegExp][] = [
    ['a TypeError', () => { throw new TypeError('boom'); }, /^threw TypeError: boom/],
    ['an error without position', () => { throw new DockerfileError({ file: '', line: 0, column: 0 }, 'x'); }, /without FILE:LINE:COL/],
    ['no instructions', () => ({ ...good, instructions: [] }), /no instructions/],
    ['an upper-case keyword', () => ({ ...good, instructions: [{ ...good.instructions[0], keyword: 'FROM' }] }), /not lower-cased/],
    ['overlapping ranges', () => ({ ...good, instructions: [good.instructions[0], good.instructions[0]] }), /overlapping/],
    ['a bad column', () => ({ ...good, instructions: [{ ...good.instructions[0], column: 0 }] }), /bad column/],
  ];
  for (const [what, parse, want] of broken) assert.match(checkOne('x', parse) ?? 'null', want, what);
});

test('parser fuzz: 2,000 mutated, token-soup, random-byte and large inputs', { timeout: 300_000 }, async () => {
  const r = await runWatched({ seed: SEED, iterations: 2000 }, 60_000);
  assert.equal(r.hang, undefined, r.hang ? `hang at iteration ${r.hang.iteration} (${r.hang.kind}): ${JSON.stringify(r.hang.case.input).slice(0, 2000)}` : '');
  assert.equal(r.iterations, 2000);
  assert.deepEqual(r.failures, []);
});

test('the watchdog stops a hanging parse and names the case', { timeout: 60_000 }, async () => {
  const r = await runWatched({ seed: SEED, iterations: 100, simulateHangAt: 17 }, 1000);
  assert.equal(r.hang?.iteration, 17);
  assert.match(r.hang?.problem ?? '', /hang/);
  assert.ok(r.hang?.case.input.length !== undefined);
});
