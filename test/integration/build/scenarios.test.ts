/**
 * End-to-end `jettison build` scenarios against base images served by a local registry (docker.io mirrored
 * to it), each in a fresh store: a C program in a busybox httpd image, a Go build with a cache mount FROM
 * scratch, parallel stages, a build base image given by a build arg, a test stage with a writable bind mount,
 * a failing test stage; then the exporters (oci, docker, local), --iidfile and --metadata-file, and caching
 * (a fully cached rebuild, --no-cache, an edited context file).
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BaseImages } from '../../support/base-images.ts';
import { freePort } from '../../support/registry.ts';
import { copyFixture, FS_STEP, jettison, jsonEvents, mountsUnder, plainSteps, show, spawnJettison, treeHash, vertexLogs, vertexStates, type JsonEvent, withBaseImages } from '../../fixtures/build/harness.ts';

let base: BaseImages;
let dir: string;

withBaseImages('scenarios', (b, d) => {
  base = b;
  dir = d;
});

/** A fresh store root and a copy of a fixture for one scenario. */
function setup(name: string, fixture: string): { root: string; ctx: string; work: string } {
  const work = join(dir, name);
  mkdirSync(work);
  return { root: join(work, 'root'), ctx: copyFixture(fixture, join(work, 'ctx')), work };
}

const build = (root: string, args: string[]) => jettison(root, base.mirrorArgs, ['build', ...args]);

function inspect(root: string, name: string): Promise<Record<string, any>> {
  return jettison(root, [], ['inspect', name]).then((r) => {
    assert.equal(r.code, 0, show(r));
    return (JSON.parse(r.stdout) as Record<string, any>[])[0];
  });
}

function buildDone(events: JsonEvent[]): JsonEvent {
  const done = events.filter((e) => e.type === 'build.done');
  assert.equal(done.length, 1, `one build.done event expected, got ${done.length}`);
  return done[0];
}

/** Names of the file-system steps (RUN/COPY/ADD/WORKDIR) in the events. */
function fsSteps(events: JsonEvent[]): Map<string, string> {
  return new Map([...vertexStates(events)].filter(([name]) => FS_STEP.test(name)));
}

const LONG = { timeout: 15 * 60_000 };

test('1. C program from a gcc stage served by busybox httpd as nobody; final image a few MB, builder hundreds', LONG, async () => {
  const { root, ctx } = setup('s1', 'c-httpd');
  const r = await build(root, ['--progress', 'json', '-t', 'c-httpd:1', ctx]);
  assert.equal(r.code, 0, show(r));

  // Sizes from the build summary: the builder stage is jettisoned and hundreds of MB, the final a few MB.
  const stages = buildDone(jsonEvents(r)).stages ?? [];
  const builder = stages.find((s) => s.name === 'builder');
  const final = stages.find((s) => s.final);
  assert.ok(builder && final, `stages in build.done: ${JSON.stringify(stages)}`);
  assert.equal(builder.jettisoned, true);
  assert.ok(builder.size > 100e6, `builder stage ${builder.size} bytes`);
  assert.ok(final.size < 10e6, `final stage ${final.size} bytes`);
  // …and from `jettison images --format json`.
  const images = await jettison(root, [], ['images', '--format', 'json']);
  const row = images.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { Name: string; SizeBytes: number }).find((x) => x.Name === 'docker.io/library/c-httpd:1');
  assert.ok(row, images.stdout);
  assert.ok(row.SizeBytes < 10e6 && row.SizeBytes > 500e3, `image size ${row.SizeBytes}`);

  const img = await inspect(root, 'c-httpd:1');
  assert.equal(img.Config.User, '65534');
  assert.deepEqual(img.Config.ExposedPorts, { '8080/tcp': {} });
  assert.deepEqual(img.Config.Entrypoint, ['busybox', 'httpd', '-f', '-h', '/www']);
  assert.deepEqual(img.Config.Cmd, ['-p', '8080']);

  // Run it in the background on a free port (host network) and fetch the page the C program wrote.
  const port = await freePort();
  const server = spawnJettison(['--root', root, 'run', '--rm', 'c-httpd:1', '-p', String(port)]);
  try {
    let body = '';
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/`);
        body = await res.text();
        if (res.status === 200) break;
      } catch {
        /* not listening yet */
      }
      if (server.child.exitCode !== null) assert.fail(`jettison run exited: ${server.output()}`);
      if (Date.now() > deadline) assert.fail(`no HTTP answer on ${port}: ${server.output()}`);
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.match(body, /made by a C program/);
    assert.match(body, /compiler: gcc 12\./);
    assert.match(body, /fib\(30\) = 832040/);
  } finally {
    server.child.kill('SIGINT');
    await server.exited;
  }
  assert.deepEqual(mountsUnder(root), []);
});

test('2. Go build with a cache mount, FROM scratch: the second build after an edit reuses the Go build cache', LONG, async () => {
  const { root, ctx } = setup('s2', 'go-scratch');
  const RUN = /^\[build \d+\/\d+\] RUN --mount=type=cache/;
  // A package compiled by `go build -x` shows as a compile command with "-p <import path>".
  const compiles = (logs: string[], pkg: string) => logs.filter((l) => /\/compile /.test(l) && l.includes(` -p ${pkg} `)).length;

  const first = await build(root, ['--progress', 'json', '-t', 'go-hello:1', ctx]);
  assert.equal(first.code, 0, show(first));
  const logs1 = vertexLogs(jsonEvents(first), RUN);
  assert.ok(logs1.includes('go cache: cold'), logs1.slice(0, 20).join('\n'));
  assert.ok(compiles(logs1, 'example.com/hello/greet') >= 1, 'the first build compiles the greet package');
  const ran1 = await jettison(root, [], ['run', '--rm', 'go-hello:1']);
  assert.equal(ran1.stdout, 'hello, SCRATCH v1\n', show(ran1));
  const img = await inspect(root, 'go-hello:1');
  assert.equal(img.RootFS.Layers.length, 1, 'FROM scratch + one COPY is one layer');

  writeFileSync(join(ctx, 'main.go'), readFileSync(join(ctx, 'main.go'), 'utf8').replace('"v1"', '"v2"'));
  const second = await build(root, ['--progress', 'json', '-t', 'go-hello:2', ctx]);
  assert.equal(second.code, 0, show(second));
  const events2 = jsonEvents(second);
  const logs2 = vertexLogs(events2, RUN);
  assert.ok(logs2.some((l) => /^go cache: warm \(\d+\)$/.test(l)), `the cache mount kept the first build's marker:\n${logs2.slice(0, 5).join('\n')}`);
  assert.equal(compiles(logs2, 'example.com/hello/greet'), 0, 'greet comes from the Go build cache');
  assert.ok(compiles(logs2, 'main') >= 1, 'the edited main package is compiled');
  const states = fsSteps(events2);
  assert.equal([...states].find(([n]) => n.includes('COPY greet/'))?.[1], 'cached', JSON.stringify([...states]));
  const ran2 = await jettison(root, [], ['run', '--rm', 'go-hello:2']);
  assert.equal(ran2.stdout, 'hello, SCRATCH v2\n', show(ran2));
});

/** Builds the parallel fixture and checks from the JSON events that all three RUNs started before any ended. */
async function parallelStages(name: string, extra: string[]): Promise<void> {
  const { root, ctx, work } = setup(name, 'parallel');
  const out = join(work, 'out');
  const r = await build(root, ['--progress', 'json', ...extra, '-o', `type=local,dest=${out}`, ctx]);
  assert.equal(r.code, 0, show(r));
  const events = jsonEvents(r);
  const runs = ['A', 'B', 'C'].map((x) => {
    const started = events.findIndex((e) => e.type === 'vertex.started' && e.name?.endsWith(`RUN sleep 3 && echo ${x} > /x`));
    assert.ok(started >= 0, `RUN of stage ${x} started: ${events.map((e) => e.name).filter(Boolean).join(' | ')}`);
    const id = events[started].id;
    const done = events.findIndex((e) => e.type === 'vertex.done' && e.id === id);
    assert.ok(done > started, `RUN of stage ${x} done`);
    return { started, done };
  });
  const lastStart = Math.max(...runs.map((x) => x.started));
  const firstDone = Math.min(...runs.map((x) => x.done));
  assert.ok(lastStart < firstDone, `every RUN starts before the first one is done (event indexes): ${JSON.stringify(runs)}`);
  for (const x of ['a', 'b', 'c']) assert.equal(readFileSync(join(out, x), 'utf8'), `${x.toUpperCase()}\n`);
}

test('3. three independent stages run in parallel (all three RUNs start before any ends), --jobs 3', LONG, () => parallelStages('s3', ['--jobs', '3']));

test(
  '3b. …and with the default --jobs, as BuildKit (no limit by default)',
  LONG,
  () => parallelStages('s3b', []),
);

test('4. a stage pushed as an image replaces the stage: with the build arg set, build-base is not built', LONG, async () => {
  const { root, ctx } = setup('s4', 'build-base');
  const ref = `${base.host}/x/build-base:1`;
  const pushed = await build(root, ['--progress', 'plain', '--target', 'build-base', '-t', ref, '--push', ctx]);
  assert.equal(pushed.code, 0, show(pushed));
  assert.match(pushed.stderr + pushed.stdout, /RUN echo "building build-base"/);
  const tags = (await (await fetch(`${base.registry}/v2/x/build-base/tags/list`)).json()) as { tags: string[] };
  assert.deepEqual(tags.tags, ['1']);

  const root2 = join(dir, 's4', 'root2');
  const out = join(dir, 's4', 'out');
  const r = await build(root2, ['--progress', 'json', '--build-arg', `build_base_image=${ref}`, '-o', `type=local,dest=${out}`, ctx]);
  assert.equal(r.code, 0, show(r));
  const events = jsonEvents(r);
  const names = events.map((e) => e.name).filter((n): n is string => n !== undefined);
  assert.ok(!names.some((n) => n.includes('building build-base')), `build-base's RUN must not appear: ${names.join(' | ')}`);
  assert.ok(!events.some((e) => e.type === 'vertex.log' && e.line === 'building build-base'));
  // BuildKit names it "[build 1/2] FROM 127.0.0.1:PORT/x/build-base:1@sha256:…"; the engine "FROM …" for now.
  assert.ok(names.some((n) => /^(\[build 1\/2\] )?FROM /.test(n) && n.includes(`${base.host}/x/build-base:1`)), names.join(' | '));
  assert.equal(vertexStates(events).get('[build 2/2] RUN echo "building build" && cat /base-marker > /built'), 'done');
  assert.equal(readFileSync(join(out, 'built'), 'utf8'), 'from build-base\n');
});

test('5. --target test: a writable bind mount of the context; writes discarded, context untouched, final stage not built', LONG, async () => {
  const { root, ctx, work } = setup('s5', 'bind-test');
  const before = treeHash(ctx);
  const out = join(work, 'out');
  const r = await build(root, ['--progress', 'json', '--target', 'test', '-o', `type=local,dest=${out}`, ctx]);
  assert.equal(r.code, 0, show(r));
  const events = jsonEvents(r);
  assert.ok(vertexLogs(events, /RUN --mount=type=bind/).includes('2 tests passed'), show(r));
  assert.equal(treeHash(ctx), before, 'the build context is unchanged');
  assert.equal(readFileSync(join(ctx, 'tests', 'fixture.txt'), 'utf8'), 'fixture data\n');
  // Nothing the tests wrote under /test is in the test stage's file system.
  assert.ok(!existsSync(join(out, 'test', 'results')), 'results/ written through the bind mount must be discarded');
  assert.ok(!existsSync(join(out, 'test', 'lib.sh')));
  assert.equal(readFileSync(join(out, 'app', 'lib.sh'), 'utf8'), readFileSync(join(ctx, 'lib.sh'), 'utf8'));
  // The final stage was not built: its RUN is never mentioned.
  assert.ok(!events.some((e) => e.name?.includes('final stage ran') || e.line?.includes('final stage ran')), show(r));
  assert.ok(!existsSync(join(out, 'final')));
});

test('6. a failing test stage fails the build, naming the stage, Dockerfile line, command and exit code', LONG, async () => {
  const { root, ctx } = setup('s6', 'failing-tests');
  const r = await build(root, ['--progress', 'plain', '-t', 'fails:1', ctx]);
  assert.notEqual(r.code, 0, show(r));
  const all = r.stdout + r.stderr;
  assert.match(all, /test_addition: PASS/);
  assert.match(all, /test_division: FAIL \(expected 4, got 3\)/);
  assert.match(all, /\[test \d+\/\d+\] RUN sh \/tests\.sh/, 'the step, with its stage');
  assert.match(all, /Dockerfile:7\b/, 'the Dockerfile line');
  // BuildKit's wording: process "/bin/sh -c sh /tests.sh" did not complete successfully: exit code: 3
  assert.match(all, /process "\/bin\/sh -c sh \/tests\.sh" did not complete successfully: exit code: 3/);
  const images = await jettison(root, [], ['images', '--format', 'json']);
  assert.ok(!images.stdout.includes('fails'), 'no image is tagged');
});

describe('exporters and caching (a small busybox build)', () => {
  let root: string;
  let ctx: string;
  let work: string;
  let iid: string;
  const expected = 'alpha\nstep one\nbravo\nstep two\n';

  before(async () => {
    ({ root, ctx, work } = setup('plus', 'small'));
    const r = await build(root, ['--progress', 'plain', '-t', 'small:1', '--iidfile', join(work, 'iid'), '--metadata-file', join(work, 'meta.json'), ctx]);
    assert.equal(r.code, 0, show(r));
    iid = readFileSync(join(work, 'iid'), 'utf8');
  });

  test('the image runs, --iidfile holds its ID, --metadata-file its digests and name', async () => {
    const ran = await jettison(root, [], ['run', '--rm', 'small:1']);
    assert.equal(ran.stdout, expected, show(ran));
    const img = await inspect(root, 'small:1');
    assert.match(iid, /^sha256:[a-f0-9]{64}$/);
    assert.equal(iid, img.Id);
    const meta = JSON.parse(readFileSync(join(work, 'meta.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(meta['containerimage.config.digest'], img.Id);
    assert.equal(meta['containerimage.digest'], img.Descriptor.digest);
    assert.match(String(meta['image.name']), /(^|,)docker\.io\/library\/small:1($|,)/);
    assert.equal(img.Config.Labels['com.example.fixture'], 'small');
  });

  test('a rebuild with nothing changed shows every step CACHED and gives the same image', async () => {
    const r = await build(root, ['--progress', 'plain', '-t', 'small:1', '--iidfile', join(work, 'iid2'), ctx]);
    assert.equal(r.code, 0, show(r));
    const steps = plainSteps(r.stderr + r.stdout).filter((s) => FS_STEP.test(s.name));
    assert.equal(steps.length, 6, JSON.stringify(steps)); // WORKDIR, COPY, RUN, COPY, RUN, COPY --from
    for (const s of steps) assert.equal(s.status, 'CACHED', `${s.name}: ${s.status}`);
    assert.equal(readFileSync(join(work, 'iid2'), 'utf8'), iid);
  });

  test('--no-cache runs every step again', async () => {
    const r = await build(root, ['--progress', 'json', '--no-cache', '-t', 'small:nocache', ctx]);
    assert.equal(r.code, 0, show(r));
    const steps = fsSteps(jsonEvents(r));
    assert.equal(steps.size, 6, JSON.stringify([...steps]));
    for (const [name, state] of steps) assert.equal(state, 'done', name);
    const ran = await jettison(root, [], ['run', '--rm', 'small:nocache']);
    assert.equal(ran.stdout, expected);
  });

  test('editing one context file re-runs from the COPY that reads it, not before', async () => {
    const edited = join(work, 'ctx-edited');
    execFileSync('cp', ['-a', ctx, edited]);
    writeFileSync(join(edited, 'b.txt'), 'bravo, edited\n');
    const r = await build(root, ['--progress', 'json', '-t', 'small:edited', edited]);
    assert.equal(r.code, 0, show(r));
    const steps = [...fsSteps(jsonEvents(r))];
    const state = (re: RegExp) => steps.find(([n]) => re.test(n))?.[1];
    // Steps before the COPY of b.txt do not run (BuildKit lists them CACHED; a step the cache made unnecessary
    // may also be left out); that COPY and everything after it run.
    const table: [RegExp, 'not run' | 'done'][] = [
      [/\] WORKDIR \/work$/, 'not run'],
      [/\] COPY a\.txt \.$/, 'not run'],
      [/\] RUN cat a\.txt > out\.txt/, 'not run'],
      [/\] COPY b\.txt \.$/, 'done'],
      [/\] RUN cat b\.txt >> out\.txt/, 'done'],
      [/\] COPY --from=build \/work\/out\.txt \/out\.txt$/, 'done'],
    ];
    for (const [re, want] of table) {
      if (want === 'done') assert.equal(state(re), 'done', `${re}: ${JSON.stringify(steps)}`);
      else assert.ok(state(re) === undefined || state(re) === 'cached', `${re} must not run: ${JSON.stringify(steps)}`);
    }
    const ran = await jettison(root, [], ['run', '--rm', 'small:edited']);
    assert.equal(ran.stdout, 'alpha\nstep one\nbravo, edited\nstep two\n');
  });

  test('-o type=oci,dest=… is an OCI layout tar that umoci unpacks', async () => {
    const tar = join(work, 'oci.tar');
    const r = await build(root, ['--progress', 'quiet', '-t', 'small:1', '-o', `type=oci,dest=${tar}`, ctx]);
    assert.equal(r.code, 0, show(r));
    const layout = join(work, 'oci-layout');
    mkdirSync(layout);
    execFileSync('tar', ['-xf', tar, '-C', layout]);
    assert.deepEqual(JSON.parse(readFileSync(join(layout, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { annotations?: Record<string, string> }[] };
    const tag = index.manifests[0]?.annotations?.['org.opencontainers.image.ref.name'];
    assert.ok(tag, `index.json names the image: ${JSON.stringify(index)}`);
    const bundle = join(work, 'oci-bundle');
    execFileSync('umoci', ['unpack', '--image', `${layout}:${tag}`, bundle], { stdio: 'pipe' });
    assert.equal(readFileSync(join(bundle, 'rootfs', 'out.txt'), 'utf8'), expected);
    assert.ok(lstatSync(join(bundle, 'rootfs', 'bin', 'busybox')).isFile());
  });

  test('-o type=docker,dest=… is a docker archive skopeo inspects', async () => {
    const tar = join(work, 'docker.tar');
    const r = await build(root, ['--progress', 'quiet', '-t', 'small:1', '-o', `type=docker,dest=${tar}`, ctx]);
    assert.equal(r.code, 0, show(r));
    const info = JSON.parse(execFileSync('skopeo', ['inspect', `docker-archive:${tar}`], { encoding: 'utf8' })) as { Labels: Record<string, string>; Layers: string[] };
    assert.equal(info.Labels['com.example.fixture'], 'small');
    const img = await inspect(root, 'small:1');
    assert.equal(info.Layers.length, img.RootFS.Layers.length);
  });

  test('-o type=local,dest=DIR writes the final file tree', async () => {
    const out = join(work, 'local');
    const r = await build(root, ['--progress', 'quiet', '-o', `type=local,dest=${out}`, ctx]);
    assert.equal(r.code, 0, show(r));
    assert.equal(readFileSync(join(out, 'out.txt'), 'utf8'), expected);
    assert.ok(lstatSync(join(out, 'bin', 'busybox')).isFile());
    assert.ok(!readdirSync(out).includes('work'), 'the build stage is not in the final tree');
  });
});
