/**
 * `jettison cekit build` end to end: real descriptors and modules, base images from a local registry
 * (docker.io mirrored to it), runc, overlayfs, `jettison run`.
 *
 *  1. examples/cekit: a builder that apt-get installs gcc and libc6-dev and compiles with a module, a
 *     busybox final image that takes the binary through an image-content artifact: it runs, and holds
 *     no toolchain.
 *  2. FROM scratch, entrypoint = an image-content artifact (dest /bin, target entrypoint), a static
 *     binary; an unused builder (whose script fails) is not built.
 *  3. A wrong artifact checksum: fails before anything is pulled or built; no image in the store.
 *  4. Squash: base layers + exactly one; --no-squash keeps one per step; rebuilds stay cached.
 *  5. `cekit generate --context` + `jettison build` = `cekit build --no-squash` (same image ID with
 *     SOURCE_DATE_EPOCH, in separate stores).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { baseImages, stopBaseImages, type BaseImages } from '../../support/base-images.ts';
import { cleanupDir, FS_STEP, jettison, jsonEvents, plainSteps, REPO, show, tempDir, vertexStates, type JsonEvent } from '../../fixtures/build/harness.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const EXAMPLE = join(REPO, 'examples', 'cekit', 'image.yaml');
const LONG = { timeout: 15 * 60_000 };

let base: BaseImages;
let dir: string;

/** Makes `repo:to` name the same manifest as `repo:from` in the test registry (the example pins tags it lacks). */
async function aliasTag(repo: string, from: string, to: string): Promise<void> {
  const accept = [
    'application/vnd.oci.image.manifest.v1+json',
    'application/vnd.docker.distribution.manifest.v2+json',
    'application/vnd.oci.image.index.v1+json',
  ].join(', ');
  const got = await fetch(`${base.registry}/v2/${repo}/manifests/${from}`, { headers: { accept } });
  assert.equal(got.status, 200, `GET ${repo}:${from}`);
  const body = Buffer.from(await got.arrayBuffer());
  const put = await fetch(`${base.registry}/v2/${repo}/manifests/${to}`, {
    method: 'PUT',
    headers: { 'content-type': got.headers.get('content-type') ?? 'application/vnd.oci.image.manifest.v1+json' },
    body,
  });
  assert.equal(put.status, 201, `PUT ${repo}:${to}: ${await put.text()}`);
}

before(async () => {
  base = await baseImages();
  await aliasTag('library/debian', 'bookworm', 'bookworm-slim');
  await aliasTag('library/busybox', 'latest', '1.36');
  dir = tempDir('cekit');
});
after(async () => {
  await stopBaseImages();
  if (dir) cleanupDir(dir);
});

function newRoot(name: string): string {
  const work = join(dir, name);
  mkdirSync(work);
  return join(work, 'root');
}

const cekit = (root: string, args: string[], env?: NodeJS.ProcessEnv) => jettison(root, base.mirrorArgs, ['cekit', ...args], { cwd: REPO, ...(env ? { env } : {}) });

async function inspect(root: string, name: string): Promise<Record<string, any>> {
  const r = await jettison(root, [], ['inspect', name]);
  assert.equal(r.code, 0, show(r));
  return (JSON.parse(r.stdout) as Record<string, any>[])[0];
}

function buildDone(events: JsonEvent[]): JsonEvent {
  const done = events.filter((e) => e.type === 'build.done');
  assert.equal(done.length, 1, `one build.done event expected, got ${done.length}`);
  return done[0];
}

/** RUN/COPY/ADD/WORKDIR steps in the events and how each ended. */
function fsSteps(events: JsonEvent[]): Map<string, string> {
  return new Map([...vertexStates(events)].filter(([name]) => FS_STEP.test(name)));
}

/** Every path under `root` (relative), directories included. */
function walk(root: string): string[] {
  const out: string[] = [];
  const rec = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      out.push(relative(root, p));
      if (lstatSync(p).isDirectory()) rec(p);
    }
  };
  rec(root);
  return out;
}

/** The entries of each layer of an image, from `jettison save` (docker archive, uncompressed layers). */
function layerEntries(root: string, name: string, work: string): string[][] {
  const archive = join(work, `${name.replace(/[/:]/g, '_')}.tar`);
  execFileSync(process.execPath, [join(REPO, 'src', 'cli', 'main.ts'), '--root', root, 'save', '-o', archive, name]);
  const manifest = JSON.parse(execFileSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' })) as { Layers: string[] }[];
  return manifest[0].Layers.map((l) =>
    execFileSync('sh', ['-c', 'tar -xOf "$1" "$2" | tar -t', 'sh', archive, l], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n').filter(Boolean),
  );
}

test('1. examples/cekit: apt-get toolchain in a builder, the binary in busybox through an image artifact; it runs, no gcc in it', LONG, async () => {
  const root = newRoot('t1');
  const fs = join(dir, 't1', 'fs');
  const r = await cekit(root, ['build', '--descriptor', EXAMPLE, '--progress', 'json', '-o', 'type=image', '-o', `type=local,dest=${fs}`]);
  assert.equal(r.code, 0, show(r));
  const events = jsonEvents(r);

  // The builder ran apt-get (packages) and the compile module's script; the final image copied from it.
  const steps = [...fsSteps(events).keys()];
  assert.ok(steps.some((s) => /^\[builder \d+\/\d+\] RUN apt-get update/.test(s)), steps.join('\n'));
  assert.ok(steps.some((s) => /^\[builder \d+\/\d+\] RUN \[ "sh", "-x", "\/tmp\/scripts\/compile\/build.sh" \]/.test(s)), steps.join('\n'));
  assert.ok(steps.some((s) => /COPY --from=builder \/build\/hello \/tmp\/artifacts\/hello/.test(s)), steps.join('\n'));
  const stages = buildDone(events).stages ?? [];
  const builder = stages.find((s) => s.name === 'builder');
  const final = stages.find((s) => s.final);
  assert.ok(builder && final, JSON.stringify(stages));
  assert.equal(builder.jettisoned, true);
  assert.ok(builder.size > 50e6, `builder ${builder.size} bytes`);
  assert.ok(final.size < 5e6, `final ${final.size} bytes`);

  // Default tags, CEKit's: name:version and name:latest.
  const img = await inspect(root, 'example/hello:1.0');
  const latest = await inspect(root, 'example/hello:latest');
  assert.equal(latest.Id, img.Id);
  assert.deepEqual(img.Config.Cmd, ['/usr/local/bin/hello']);
  assert.equal(img.Config.User, '1000');
  assert.equal(img.Config.Labels.summary, 'Prints a greeting');

  // The application is there; the builder's toolchain, headers and module scripts are not.
  const paths = walk(fs);
  assert.ok(paths.includes('usr/local/bin/hello'), 'usr/local/bin/hello');
  assert.ok(paths.includes('bin/busybox'), 'busybox base');
  const toolchain = paths.filter((p) => /(^|\/)(gcc[^/]*|cc1|ld|as|stdio\.h|libc\.a)$/.test(p) || p.startsWith('usr/include') || p.startsWith('usr/lib/gcc'));
  assert.deepEqual(toolchain, []);
  assert.ok(!existsSync(join(fs, 'tmp', 'scripts')) && !existsSync(join(fs, 'tmp', 'artifacts')));
  assert.ok(!existsSync(join(fs, 'build')), 'the builder\'s /build dir is not in the final image');

  const run = await jettison(root, [], ['run', '--rm', 'example/hello:1.0']);
  assert.equal(run.code, 0, show(run));
  assert.equal(run.stdout, 'Hello from jettison\n');
});

test('2. FROM scratch: the entrypoint is an image-content artifact (a static binary); unused builders are not built', LONG, async () => {
  const root = newRoot('t2');
  const r = await cekit(root, ['build', '--descriptor', join(FIXTURES, 'scratch-entrypoint', 'image.yaml'), '--progress', 'json']);
  assert.equal(r.code, 0, show(r));
  const events = jsonEvents(r);
  const names = [...vertexStates(events).keys()];
  assert.ok(!names.some((n) => /\bunused\b|busybox/.test(n)), `the unused builder was touched:\n${names.join('\n')}`);
  assert.doesNotMatch(r.stderr + r.stdout, /the unused builder was built/);
  const stages = buildDone(events).stages ?? [];
  const unused = stages.find((s) => s.name === 'unused') as { size: number; skipped?: string } | undefined;
  assert.equal(unused?.size, 0, JSON.stringify(stages));
  assert.match(unused?.skipped ?? '', /not used by target/);

  const img = await inspect(root, 'test/scratch-app:2.0');
  assert.deepEqual(img.Config.Entrypoint, ['/bin/entrypoint']);
  assert.deepEqual(img.Config.Cmd, ['from', 'scratch']);
  assert.equal(img.RootFS.Layers.length, 1, 'scratch + one layer');
  const entries = layerEntries(root, 'test/scratch-app:2.0', join(dir, 't2'));
  assert.deepEqual(entries, [['bin/', 'bin/entrypoint']]);

  const run = await jettison(root, [], ['run', '--rm', 'test/scratch-app:2.0']);
  assert.equal(run.code, 0, show(run));
  assert.equal(run.stdout, 'static entrypoint /bin/entrypoint: from scratch\n');
  const args = await jettison(root, [], ['run', '--rm', 'test/scratch-app:2.0', 'a', 'b']);
  assert.equal(args.stdout, 'static entrypoint /bin/entrypoint: a b\n');
});

test('3. a wrong artifact checksum fails before anything is pulled or built, naming the artifact and both digests', LONG, async () => {
  const root = newRoot('t3');
  for (const progress of ['plain', 'json']) {
    const r = await cekit(root, ['build', '--descriptor', join(FIXTURES, 'checksum', 'image.yaml'), '--progress', progress]);
    assert.equal(r.code, 1, show(r));
    const out = r.stdout + r.stderr;
    assert.match(
      r.stderr,
      /ERROR: failed to solve: artifact 'data\.txt' \(.*checksum\/image\.yaml:9:5\) \(sha256\): digest mismatch: expected badc0ffee0{52}bad, got 6667b2d1aab6a00caa5aee5af8ad9f1465e567abf1c209d15727d57b3e8f6e5f/,
    );
    assert.doesNotMatch(out, /RUN|COPY|load metadata|FROM /, out);
    if (progress === 'json') assert.match(buildDone(jsonEvents(r)).error ?? '', /digest mismatch/);
  }
  const images = await jettison(root, [], ['images', '--format', 'json']);
  assert.equal(images.code, 0, show(images));
  assert.equal(images.stdout.trim(), '', 'no image in the store');
  const contexts = join(root, 'cekit', 'contexts');
  for (const key of existsSync(contexts) ? readdirSync(contexts) : []) {
    assert.ok(!existsSync(join(contexts, key, 'context')), 'the prepared context is removed');
  }
});

test('4. squash: base + exactly one layer, --no-squash one per step; rebuilds are fully cached either way', LONG, async () => {
  const root = newRoot('t4');
  const work = join(dir, 't4');
  const descriptor = join(FIXTURES, 'layers', 'image.yaml');
  const busybox = await (async () => {
    const p = await jettison(root, base.mirrorArgs, ['pull', 'busybox']);
    assert.equal(p.code, 0, show(p));
    return (await inspect(root, 'busybox')).RootFS.Layers as string[];
  })();

  const squashed = await cekit(root, ['build', '--descriptor', descriptor, '--progress', 'json']);
  assert.equal(squashed.code, 0, show(squashed));
  assert.ok([...fsSteps(jsonEvents(squashed)).values()].every((s) => s === 'done'));
  const s = await inspect(root, 'test/layers:1.0');
  assert.deepEqual(s.RootFS.Layers.slice(0, busybox.length), busybox);
  assert.equal(s.RootFS.Layers.length, busybox.length + 1, 'base layers + one');
  // The squashed layer holds the result, not the intermediate module files the last RUN removed.
  const [, own] = layerEntries(root, 'test/layers:1.0', work);
  assert.ok(own.includes('srv/one.txt') && own.includes('srv/two.txt') && own.includes('srv/notes.txt'), own.join('\n'));
  assert.deepEqual(own.filter((e) => /^tmp\/(scripts|artifacts)\/./.test(e)), []);
  const history = s.History as { empty_layer?: boolean; comment?: string }[];
  assert.equal(history.filter((h) => !h.empty_layer).length, busybox.length + 1);

  const again = await cekit(root, ['build', '--descriptor', descriptor, '--progress', 'json']);
  assert.equal(again.code, 0, show(again));
  const againSteps = fsSteps(jsonEvents(again));
  assert.ok(againSteps.size > 0, 'cached steps are reported');
  assert.deepEqual([...againSteps.values()].filter((x) => x !== 'cached'), [], JSON.stringify([...againSteps]));
  assert.deepEqual((await inspect(root, 'test/layers:1.0')).RootFS.Layers, s.RootFS.Layers, 'a cached squash gives the same layer');

  const kept = await cekit(root, ['build', '--no-squash', '-t', 'test/layers:kept', '--descriptor', descriptor, '--progress', 'json']);
  assert.equal(kept.code, 0, show(kept));
  const keptSteps = fsSteps(jsonEvents(kept));
  assert.deepEqual([...keptSteps.values()].filter((x) => x !== 'cached'), [], 'the steps a squashed build ran are cached for --no-squash');
  const k = await inspect(root, 'test/layers:kept');
  assert.equal(k.RootFS.Layers.length, busybox.length + 6, 'COPY one, COPY artifact, RUN one, COPY two, RUN two, RUN rm (WORKDIR /srv exists)');
  assert.equal((await inspect(root, 'test/layers:latest')).Id, s.Id, '-t replaces the default tags');
  const keptLayers = layerEntries(root, 'test/layers:kept', work).slice(busybox.length);
  assert.ok(keptLayers.some((l) => l.includes('tmp/scripts/one/install.sh')), 'unsquashed layers keep the module files');

  const run = await jettison(root, [], ['run', '--rm', 'test/layers:1.0']);
  assert.equal(run.code, 0, show(run));
  assert.equal(run.stdout, 'module one was here\nmodule two was here\nnotes travel as an artifact\n');
  const runKept = await jettison(root, [], ['run', '--rm', 'test/layers:kept']);
  assert.equal(runKept.stdout, run.stdout);
});

test('5. cekit generate + jettison build gives the image cekit build --no-squash gives (separate stores)', LONG, async () => {
  const env = { SOURCE_DATE_EPOCH: '1700000000' };
  const rootA = newRoot('t5a');
  const rootB = newRoot('t5b');
  const ctx = join(dir, 't5a', 'ctx');
  const descriptor = join(FIXTURES, 'layers', 'image.yaml');
  const built = await cekit(rootA, ['build', '--no-squash', '--descriptor', descriptor, '--progress', 'plain'], env);
  assert.equal(built.code, 0, show(built));

  const gen = await cekit(rootB, ['generate', '--no-squash', '--descriptor', descriptor, '--context', ctx]);
  assert.equal(gen.code, 0, show(gen));
  const plain = await jettison(rootB, base.mirrorArgs, ['build', '-t', 'test/layers:1.0', '--progress', 'plain', ctx], { env });
  assert.equal(plain.code, 0, show(plain));

  const a = await inspect(rootA, 'test/layers:1.0');
  const b = await inspect(rootB, 'test/layers:1.0');
  assert.deepEqual(b.Config, a.Config);
  assert.deepEqual(b.History, a.History);
  assert.deepEqual(b.RootFS, a.RootFS);
  assert.equal(b.Id, a.Id, 'the same image ID');

  // The build in store B ran every step itself: nothing was shared with store A.
  const runs = plainSteps(plain.stderr).filter((x) => / RUN /.test(x.name));
  assert.equal(runs.length, 3, plain.stderr);
  assert.ok(runs.every((x) => x.status.startsWith('DONE')), plain.stderr);
});

test('6. independent builders run at the same time; the final image gets a file from each', LONG, async () => {
  const root = newRoot('t6');
  const r = await cekit(root, ['build', '--descriptor', join(FIXTURES, 'parallel', 'image.yaml'), '--progress', 'json']);
  assert.equal(r.code, 0, show(r));
  const events = jsonEvents(r);
  const span = (stage: string): { start: number; end: number } => {
    const named = events.find((e) => e.type === 'vertex.started' && new RegExp(`^\\[${stage} \\d+/\\d+\\] RUN `).test(e.name ?? ''));
    assert.ok(named, `no RUN step of ${stage}`);
    const start = events.indexOf(named);
    const end = events.findIndex((e) => e.id === named.id && e.type === 'vertex.done');
    assert.ok(end > start, `${stage}'s RUN did not finish`);
    return { start, end };
  };
  const left = span('left');
  const right = span('right');
  // Event order, not time: each RUN started before the other one finished.
  assert.ok(left.start < right.end && right.start < left.end, `left ${JSON.stringify(left)}, right ${JSON.stringify(right)}`);
  const run = await jettison(root, [], ['run', '--rm', 'test/parallel:1']);
  assert.equal(run.code, 0, show(run));
  assert.equal(run.stdout, 'made on the left\nmade on the right\n');
});
