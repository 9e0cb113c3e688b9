/**
 * Build flags whose behaviour (not just their parsing) the issue names: --pull, --no-cache-filter, the
 * build-wide --network none, --platform of another architecture, and the fallback snapshotter being
 * named in the output. Base images come from the local registry that stands in for docker.io.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BaseImages } from '../../support/base-images.ts';
import { jettison, mkdirp, plainSteps, show, withBaseImages } from '../../fixtures/build/harness.ts';

let base: BaseImages;
let work: string;

withBaseImages('jettison-flags-', (b, d) => {
  base = b;
  work = d;
});

function context(name: string, dockerfile: string): string {
  const dir = mkdirp(join(work, name));
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

test('--pull takes the base image from the registry even when the store has one by that name', async () => {
  const root = join(work, 'pull-root');
  // A local image that shadows docker.io/library/busybox:latest and carries a marker.
  const shadow = context('shadow', 'FROM busybox\nRUN touch /local-marker\n');
  let r = await jettison(root, base.mirrorArgs, ['build', '-q', '-t', 'busybox:latest', shadow]);
  assert.equal(r.code, 0, show(r));
  const probe = context('pull-probe', 'FROM busybox\nRUN test ! -e /local-marker\n');
  r = await jettison(root, base.mirrorArgs, ['build', '--progress', 'plain', probe]);
  assert.notEqual(r.code, 0, `without --pull the shadowing local image is used:\n${show(r)}`);
  r = await jettison(root, base.mirrorArgs, ['build', '--progress', 'plain', '--pull', probe]);
  assert.equal(r.code, 0, `--pull fetched the registry's busybox (no marker):\n${show(r)}`);
});

test('--no-cache-filter re-runs that stage and what depends on it, and nothing else', async () => {
  const root = join(work, 'filter-root');
  const ctx = context(
    'filter',
    'FROM busybox AS a\nRUN echo a > /a\nFROM busybox AS b\nRUN echo b > /b\nFROM busybox\nCOPY --from=a /a /a\nCOPY --from=b /b /b\n',
  );
  let r = await jettison(root, base.mirrorArgs, ['build', '-q', ctx]);
  assert.equal(r.code, 0, show(r));
  r = await jettison(root, base.mirrorArgs, ['build', '--progress', 'plain', '--no-cache-filter', 'b', ctx]);
  assert.equal(r.code, 0, show(r));
  const status = new Map(plainSteps(r.stderr).map((s) => [s.name, s.status]));
  assert.equal(status.get('[a 2/2] RUN echo a > /a'), 'CACHED', show(r));
  assert.match(status.get('[b 2/2] RUN echo b > /b') ?? '', /^DONE/, show(r));
  assert.match(status.get('[stage-2 3/3] COPY --from=b /b /b') ?? '', /^DONE/, 'a dependent of b re-runs');
});

test('--network none gives every RUN a network namespace with only loopback', async () => {
  const root = join(work, 'net-root');
  const ctx = context('net', 'FROM busybox\nRUN ls /sys/class/net > /ifaces\n');
  const r = await jettison(root, base.mirrorArgs, ['build', '--network', 'none', '-o', `type=local,dest=${join(work, 'net-out')}`, ctx]);
  assert.equal(r.code, 0, show(r));
  const { readFileSync } = await import('node:fs');
  assert.equal(readFileSync(join(work, 'net-out', 'ifaces'), 'utf8'), 'lo\n');
});

test('--platform of another architecture is a clear error, before anything is pulled or run', async () => {
  const root = join(work, 'platform-root');
  const ctx = context('platform', 'FROM busybox\nRUN true\n');
  const other = process.arch === 'arm64' ? 'linux/amd64' : 'linux/arm64';
  const r = await jettison(root, base.mirrorArgs, ['build', '--progress', 'plain', '--platform', other, ctx]);
  assert.equal(r.code, 1, show(r));
  assert.match(r.stderr, new RegExp(`platform ${other} is not supported: jettison builds for the host platform`));
  assert.doesNotMatch(r.stderr, /load metadata|RUN true/);
});

test('the copy snapshotter, when chosen, is named in the output and builds the same files', async () => {
  const root = join(work, 'copy-root');
  const ctx = context('copysnap', 'FROM busybox\nRUN echo hi > /hi && rm /bin/vi\n');
  const r = await jettison(root, base.mirrorArgs, ['build', '--progress', 'plain', '-o', `type=local,dest=${join(work, 'copy-out')}`, ctx], {
    env: { JETTISON_SNAPSHOTTER: 'copy' },
  });
  assert.equal(r.code, 0, show(r));
  assert.match(r.stderr, /using the copy snapshotter: forced by JETTISON_SNAPSHOTTER/);
  const { existsSync, readFileSync } = await import('node:fs');
  assert.equal(readFileSync(join(work, 'copy-out', 'hi'), 'utf8'), 'hi\n');
  assert.equal(existsSync(join(work, 'copy-out', 'bin', 'vi')), false, 'the deletion is a whiteout in the layer');
});
