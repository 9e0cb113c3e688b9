/** `jettison cekit …` end to end through the CLI, with real files. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'jettison-cekit-cli-'));
const env = { JETTISON_ROOT: join(dir, 'root') };
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'image.yaml'), 'name: example/cli\nversion: 1.0\nfrom: busybox\nenvs:\n  - name: A\n    value: original\nosbs:\n  repository: {name: x}\n');
writeFileSync(join(dir, 'o.yaml'), 'envs:\n  - name: A\n    value: from-file\n');

test('validate reports the tags and warnings', async () => {
  const r = await runCli(['cekit', 'validate'], { cwd: dir, env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'image.yaml: valid (1 image, tags example/cli:1.0, example/cli:latest)\n');
  assert.equal(r.stderr, "warning: image.yaml:8:3: key osbs in image 'example/cli' has no effect in jettison (ignored)\n");
});

test('--overrides and --overrides-file apply in command-line order, the last winning', async () => {
  const a = await runCli(['cekit', 'generate', '--overrides-file', 'o.yaml', '--overrides', '{envs: [{name: A, value: inline}]}'], { cwd: dir, env });
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /A="inline"/);
  const b = await runCli(['cekit', 'generate', '--overrides', '{envs: [{name: A, value: inline}]}', '--overrides-file', 'o.yaml'], { cwd: dir, env });
  assert.match(b.stdout, /A="from-file"/);
});

test('generate -o writes the file; --context writes the build context', async () => {
  const r = await runCli(['cekit', 'generate', '-o', 'Dockerfile.out', '--context', 'ctx'], { cwd: dir, env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(readFileSync(join(dir, 'Dockerfile.out'), 'utf8'), /^FROM busybox$/m);
  assert.equal(readFileSync(join(dir, 'ctx', 'Dockerfile'), 'utf8'), readFileSync(join(dir, 'Dockerfile.out'), 'utf8'));
});

test('errors exit 1 with FILE:LINE:COL', async () => {
  writeFileSync(join(dir, 'bad.yaml'), 'name: x\nversion: 1\nfrom: busybox\nlabels:\n  - name: a\n');
  const r = await runCli(['cekit', 'validate', '--descriptor', 'bad.yaml'], { cwd: dir, env });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'error: bad.yaml:5:5: key labels[0].value: required key missing in image descriptor, expected a string or a number\n');
});

test('cache add and cache ls', async () => {
  writeFileSync(join(dir, 'thing.zip'), 'zip');
  const add = await runCli(['cekit', 'cache', 'add', 'thing.zip'], { cwd: dir, env });
  assert.equal(add.code, 0, add.stderr);
  assert.match(add.stdout, /^[0-9a-f]{64} {2}thing\.zip\n$/);
  assert.ok(existsSync(join(env.JETTISON_ROOT, 'cekit', 'artifacts', add.stdout.slice(0, 64))));
  const ls = await runCli(['cekit', 'cache', 'ls'], { cwd: dir, env });
  assert.match(ls.stdout, /^thing\.zip\n {2}size: {3}3\n {2}md5: {4}[0-9a-f]{32}\n/);
  const json = await runCli(['cekit', 'cache', 'ls', '--json'], { cwd: dir, env });
  assert.equal(JSON.parse(json.stdout)[0].names[0], 'thing.zip');
});
