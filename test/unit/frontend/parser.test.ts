/**
 * Golden cases for the Dockerfile parser: test/cases/parser/<case>/Dockerfile, with either `tree`
 * (the conformance notation) and `details` (directives, line ranges, columns, heredocs, warnings),
 * or `error` (the exact DockerfileError message). `npm run baseline:accept parser` rewrites them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileError } from '../../../src/errors.ts';
import { formatTree, goQuote, parseDockerfile, type Dockerfile, type Instruction } from '../../../src/frontend/dockerfile/parser/index.ts';
import { expectBaseline, listCases } from '../../support/golden.ts';

function describe(inst: Instruction, indent: string, label = ''): string[] {
  const out = [`${indent}${label}${inst.range.start}-${inst.range.end}:${inst.column} ${inst.keyword}${inst.json ? ' json' : ''}`];
  for (const h of inst.heredocs) {
    out.push(`${indent}  heredoc ${goQuote(h.name)} expand=${h.expand} chomp=${h.chomp} fd=${h.fileDescriptor} content=${goQuote(h.content)}`);
  }
  if (inst.trigger) out.push(...describe(inst.trigger, `${indent}  `, 'trigger '));
  return out;
}

/** Everything the tree notation leaves out. */
function details(df: Dockerfile): string {
  const lines = [`escape ${df.escapeToken}`];
  for (const [k, v] of Object.entries(df.directives)) lines.push(`directive ${k} ${goQuote(v)}`);
  for (const inst of df.instructions) lines.push(...describe(inst, ''));
  for (const w of df.warnings) lines.push(`warning ${w.line}: ${goQuote(w.message)}`);
  return `${lines.join('\n')}\n`;
}

const cases = listCases('parser');

test('the parser golden suite has cases', () => {
  assert.ok(cases.length >= 50, `only ${cases.length} cases in test/cases/parser`);
});

for (const c of cases) {
  test(`parser case ${c.name}`, () => {
    const input = readFileSync(join(c.dir, 'Dockerfile'));
    const errorFile = join(c.dir, 'error');
    let df: Dockerfile;
    try {
      df = parseDockerfile(input, { file: 'Dockerfile' });
    } catch (err) {
      assert.ok(err instanceof DockerfileError, `expected a DockerfileError, got ${String(err)}`);
      assert.ok(!existsSync(join(c.dir, 'tree')), `the parse failed but the case has a tree baseline: ${err.message}`);
      assert.match(err.message, /^Dockerfile:\d+:\d+: /);
      expectBaseline(errorFile, `${err.message}\n`);
      return;
    }
    assert.ok(!existsSync(errorFile), `the parse succeeded but the case expects: ${existsSync(errorFile) ? readFileSync(errorFile, 'utf8') : ''}`);
    expectBaseline(join(c.dir, 'tree'), formatTree(df));
    expectBaseline(join(c.dir, 'details'), details(df));
  });
}
