/**
 * `jettison check`: golden suite test/cases/lint/<case>/{Dockerfile,warnings} (the text output),
 * plus exit codes, the error=true directive, JSON output and the lint API directly.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { lintDockerfile, parseDockerfile } from '../../../src/frontend/dockerfile/index.ts';
import { runCli } from '../../support/cli.ts';
import { expectBaseline, listCases } from '../../support/golden.ts';

describe('check (golden)', () => {
  const cases = listCases('lint');
  it('has cases', () => assert.ok(cases.length > 0));
  for (const c of cases) {
    it(c.name, async () => {
      const r = await runCli(['check'], { cwd: c.dir });
      assert.equal(r.code, 0, r.stderr);
      expectBaseline(join(c.dir, 'warnings'), r.stdout);
    });
  }
});

describe('check command', () => {
  it('fails on warnings with # check=error=true', async () => {
    const r = await runCli(['check', '-f', '-'], { stdin: '# check=error=true\nFROM busybox as b\nCMD x\n' });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: lint violation found for rules: FromAsCasing, JSONArgsRecommended\n');
  });
  it('passes with # check=error=true and no warnings', async () => {
    const r = await runCli(['check', '-f', '-'], { stdin: '# check=error=true\nFROM busybox\nCMD ["x"]\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Check complete, no warnings found.\n');
  });
  it('treats a base from a build arg without default as a warning, and accepts the arg', async () => {
    const df = 'ARG IMAGE\nFROM $IMAGE\nRUN true\n';
    const a = await runCli(['check', '-f', '-'], { stdin: df });
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /InvalidDefaultArgInFrom: Default value for ARG \$IMAGE results in empty or invalid base image name/);
    const b = await runCli(['check', '-f', '-', '--build-arg', 'IMAGE=busybox'], { stdin: df });
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /InvalidDefaultArgInFrom/);
  });
  it('prints JSON with --format json', async () => {
    const r = await runCli(['check', '-f', '-', '--format', 'json'], { stdin: 'FROM busybox as b\n' });
    assert.equal(r.code, 0);
    const j = JSON.parse(r.stdout);
    assert.equal(j.error, null);
    assert.deepEqual(j.warnings.map((w: { rule: string; line: number; url: string }) => [w.rule, w.line, w.url]), [
      ['FromAsCasing', 1, 'https://docs.docker.com/go/dockerfile/rule/from-as-casing/'],
    ]);
    const bad = await runCli(['check', '-f', '-', '--format', 'json'], { stdin: 'FROM busybox\nFORM x\n' });
    assert.equal(bad.code, 1);
    assert.deepEqual(JSON.parse(bad.stdout).error, { message: 'Dockerfile:2:1: unknown instruction: FORM (did you mean from?)', file: 'Dockerfile', line: 2, column: 1 });
  });
  it('rejects an unknown format', async () => {
    const r = await runCli(['check', '-f', '-', '--format', 'xml'], { stdin: 'FROM busybox\n' });
    assert.equal(r.code, 2);
  });
});

describe('lint API', () => {
  it('reports UndefinedVar on image bases when the base config is supplied', () => {
    const df = parseDockerfile('FROM node:22\nWORKDIR /app/$NODE_VERSION/$NOPE\n', { file: 'Dockerfile' });
    assert.deepEqual(lintDockerfile(df).warnings, []);
    const w = lintDockerfile(df, { baseConfig: () => ({ Env: ['NODE_VERSION=22.1.0'] }) }).warnings;
    assert.deepEqual(w.map((x) => x.message), ["Usage of undefined variable '$NOPE'"]);
  });
  it('suggests a close variable name', () => {
    const df = parseDockerfile('FROM scratch\nENV VERSION=1\nLABEL v=$VERSON\n', { file: 'Dockerfile' });
    assert.deepEqual(lintDockerfile(df).warnings.map((x) => x.message), ["Usage of undefined variable '$VERSON' (did you mean $VERSION?)"]);
  });
});
