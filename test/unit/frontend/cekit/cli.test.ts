/** `jettison cekit …` end to end through the CLI, with real files. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

// `cekit build` fails these before the build engine starts, so they need no root, runc or registry.
test('build: a wrong checksum fails before anything is built; the prepared context is removed', async () => {
  mkdirSync(join(dir, 'b'), { recursive: true });
  writeFileSync(join(dir, 'b', 'data.txt'), 'data\n');
  writeFileSync(
    join(dir, 'b', 'image.yaml'),
    'name: example/bad\nversion: 1\nfrom: busybox\nartifacts:\n  - path: data.txt\n    md5: 0123456789abcdef0123456789abcdef\n    sha1: 6667b2d1aab6a00caa5aee5af8ad9f1465e567ab\n',
  );
  const r = await runCli(['cekit', 'build', '--descriptor', 'b/image.yaml', '--progress', 'plain'], { cwd: dir, env });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /\nERROR: failed to solve: artifact 'data\.txt' \(b\/image\.yaml:5:5\) \(md5\): digest mismatch: expected 0123456789abcdef0123456789abcdef, got 6137cde4893c59f76f005a8123d8e8e6\n$/,
  );
  assert.match(r.stderr, /^#1 \[cekit\] generate image\.yaml and fetch artifacts\n/);
  assert.doesNotMatch(r.stderr, /#2|RUN|FROM|load metadata/);
  const contexts = join(env.JETTISON_ROOT, 'cekit', 'contexts');
  const left = existsSync(contexts) ? readdirSync(contexts).filter((k) => existsSync(join(contexts, k, 'context'))) : [];
  assert.deepEqual(left, []);
  const images = await runCli(['images', '--format', 'json'], { cwd: dir, env });
  assert.equal(images.code, 0, images.stderr);
  assert.equal(images.stdout, '');
});

test('build: descriptor errors keep FILE:LINE:COL; --context keeps the prepared context', async () => {
  const bad = await runCli(['cekit', 'build', '--descriptor', 'bad.yaml', '--progress', 'quiet'], { cwd: dir, env });
  assert.equal(bad.code, 1);
  assert.ok(
    bad.stderr.endsWith('\nERROR: failed to solve: bad.yaml:5:5: key labels[0].value: required key missing in image descriptor, expected a string or a number\n'),
    bad.stderr,
  );
  const kept = await runCli(['cekit', 'build', '--descriptor', 'b/image.yaml', '--context', 'kept', '--progress', 'quiet'], { cwd: dir, env });
  assert.equal(kept.code, 1);
  // The failing artifact is never written; the directory the user asked for stays.
  assert.ok(existsSync(join(dir, 'kept')));
  assert.ok(!existsSync(join(dir, 'kept', 'artifacts', 'data.txt', 'data.txt')));
});

test('build: bad flags are usage errors', async () => {
  const r = await runCli(['cekit', 'build', '--progress', 'loud'], { cwd: dir, env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /loud/);
  const arg = await runCli(['cekit', 'build', '--build-arg', '=x'], { cwd: dir, env });
  assert.equal(arg.code, 1);
  assert.match(arg.stderr, /invalid --build-arg "=x": expected KEY=VALUE/);
});
