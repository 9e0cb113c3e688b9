/**
 * `jettison plan`: golden suite test/cases/plans/<case>/{Dockerfile,args?,plan.json,plan.txt}, run
 * through the CLI (args holds extra command-line words, one per line), plus the JSON contract the
 * build engine and scripts rely on.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../../support/cli.ts';
import { expectBaseline, listCases } from '../../support/golden.ts';

const argsOf = (dir: string) => (existsSync(join(dir, 'args')) ? readFileSync(join(dir, 'args'), 'utf8').split('\n').filter(Boolean) : []);

describe('plan (golden)', () => {
  const cases = listCases('plans');
  it('has cases', () => assert.ok(cases.length > 0));
  for (const c of cases) {
    it(`${c.name} --json`, async () => {
      const r = await runCli(['plan', ...argsOf(c.dir), '--json'], { cwd: c.dir });
      assert.equal(r.code, 0, r.stderr);
      const json = JSON.parse(r.stdout);
      // The contract: stages[{index,name,from,dependsOn}], target, build (dependencies first).
      for (const s of json.stages) {
        assert.equal(typeof s.index, 'number');
        assert.ok(s.name === null || typeof s.name === 'string');
        assert.equal(typeof s.from, 'string');
        for (const d of s.dependsOn) assert.ok(d < s.index, 'a stage only depends on earlier stages');
      }
      assert.ok(json.build.includes(json.target));
      for (const [i, s] of json.build.entries()) {
        for (const d of json.stages[s].dependsOn) assert.ok(json.build.indexOf(d) >= 0 && json.build.indexOf(d) < i);
      }
      expectBaseline(join(c.dir, 'plan.json'), r.stdout);
    });
    it(`${c.name} (text)`, async () => {
      const r = await runCli(['plan', ...argsOf(c.dir)], { cwd: c.dir });
      assert.equal(r.code, 0, r.stderr);
      expectBaseline(join(c.dir, 'plan.txt'), r.stdout);
    });
  }
});

describe('plan command', () => {
  const dir = join(import.meta.dirname, '../../cases/plans/multistage');
  it('reads -f relative to the working directory and from stdin', async () => {
    const a = await runCli(['plan', '-f', 'test/cases/plans/multistage/Dockerfile', '--json'], { cwd: join(import.meta.dirname, '../../..') });
    const b = await runCli(['plan', '-f', '-', '--json'], { cwd: dir, stdin: readFileSync(join(dir, 'Dockerfile')) });
    assert.equal(a.code, 0, a.stderr);
    assert.deepEqual(JSON.parse(a.stdout).build, JSON.parse(b.stdout).build);
  });
  it('fails with FILE:LINE:COL for an invalid Dockerfile', async () => {
    const r = await runCli(['plan', '-f', '-'], { cwd: dir, stdin: 'FROM busybox\nCOPY x\n' });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: Dockerfile:2:1: COPY requires at least two arguments, but only one was provided. Destination could not be determined\n');
  });
  it('fails for a missing Dockerfile', async () => {
    const r = await runCli(['plan'], { cwd: join(dir, '..') });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ENOENT/);
  });
});
