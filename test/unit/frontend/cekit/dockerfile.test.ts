/**
 * Every generated Dockerfile (golden cases and the example) parses, plans and lints cleanly with the
 * Dockerfile frontend; a builder is a stage the final image depends on. Skipped while the frontend
 * is not in the tree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from '../../../../src/frontend/cekit/index.ts';
import { listCases } from '../../../support/golden.ts';

const frontendPath = resolve(fileURLToPath(import.meta.url), '../../../../../src/frontend/dockerfile/index.ts');
type Frontend = typeof import('../../../../src/frontend/dockerfile/index.ts');
let frontend: Frontend | undefined;
try {
  frontend = existsSync(frontendPath) ? ((await import(frontendPath)) as Frontend) : undefined;
} catch {
  frontend = undefined;
}

const example = resolve(fileURLToPath(import.meta.url), '../../../../../examples/cekit/image.yaml');

async function dockerfiles(): Promise<{ name: string; text: string }[]> {
  const out = listCases('cekit')
    .filter((c) => existsSync(join(c.dir, 'Dockerfile')))
    .map((c) => ({ name: c.name, text: readFileSync(join(c.dir, 'Dockerfile'), 'utf8') }));
  out.push({ name: 'examples/cekit', text: (await generate(example, { displayRoot: resolve(example, '..') })).dockerfile });
  return out;
}

test('generated Dockerfiles parse, plan and lint with the Dockerfile frontend', { skip: frontend ? false : 'no Dockerfile frontend yet' }, async () => {
  const fe = frontend!;
  const all = await dockerfiles();
  assert.ok(all.length >= 10);
  for (const { name, text } of all) {
    const df = fe.parseDockerfile(text, { file: `${name}/Dockerfile` });
    const plan = fe.planBuild(df, {});
    const froms = text.split('\n').filter((l) => l.startsWith('FROM ')).length;
    assert.equal(plan.stages.length, froms, name);
    assert.equal(plan.build[plan.build.length - 1], froms - 1, `${name}: the final image is the target`);
    assert.deepEqual(fe.lintDockerfile(df, {}).warnings, [], name);
  }
});

test('the example: the final image takes the binary from the builder stage', async () => {
  const r = await generate(example, { displayRoot: resolve(example, '..') });
  assert.match(r.dockerfile, /^FROM debian:bookworm-slim AS builder$/m);
  assert.match(r.dockerfile, /^FROM busybox:1\.36$/m);
  assert.match(r.dockerfile, /^COPY --from=builder \/build\/hello \/tmp\/artifacts\/hello$/m);
  assert.ok(r.dockerfile.indexOf("START module 'toolchain") < r.dockerfile.indexOf("START module 'compile"), 'dependencies first');
  assert.deepEqual(r.tags, ['example/hello:1.0', 'example/hello:latest']);
  assert.equal(r.squash, true);
  assert.deepEqual(r.warnings, []);
  if (frontend) {
    const plan = frontend.planBuild(frontend.parseDockerfile(r.dockerfile, { file: 'Dockerfile' }), {});
    assert.deepEqual(plan.build, [0, 1], 'the builder is built first because the final image copies from it');
  }
});
