/**
 * `jettison run`: an imported busybox image runs with its Cmd, Env, User and WorkingDir, each overridable;
 * exit codes pass through; layers are unpacked once and reused; nothing is left mounted.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../support/cli.ts';
import { busyboxRootfs } from '../../support/images.ts';
import { openStore, importRootfsFile } from '../../../src/store/index.ts';
import { cleanupDir, mountsUnder, runcContainers, tempDir } from './helpers.ts';
import { spawnJettison } from '../../fixtures/build/harness.ts';

let dir: string;
let root: string;
const cli = (...args: string[]) => runCli(['--root', root, 'run', ...args]);

before(async () => {
  dir = tempDir('worker-run-cli');
  root = join(dir, 'store');
  const store = openStore(root);
  await importRootfsFile(store, await busyboxRootfs(), 'bb:test', {
    config: { Cmd: ['/bin/sh', '-c', 'echo "$GREETING from $(pwd) as $(id -un)"'], Env: ['GREETING=hello', 'PATH=/bin:/usr/bin'], WorkingDir: '/srv', User: 'www' },
  });
  await importRootfsFile(store, await busyboxRootfs(), 'bb:entry', { config: { Entrypoint: ['/bin/echo', 'entry'], Cmd: ['default'] } });
});
after(() => cleanupDir(dir));

const cases: [string, string[], { code: number; stdout: string }][] = [
  ["the image's Cmd, Env, WorkingDir and User", ['bb:test'], { code: 0, stdout: 'hello from /srv as www\n' }],
  ['a command replaces Cmd', ['bb:test', 'id', '-u'], { code: 0, stdout: '1000\n' }],
  ['-e, -w and -u override', ['-e', 'GREETING=hi', '-w', '/tmp', '-u', 'root', 'bb:test'], { code: 0, stdout: 'hi from /tmp as root\n' }],
  ['Entrypoint with the default Cmd', ['bb:entry'], { code: 0, stdout: 'entry default\n' }],
  ['Entrypoint with a command', ['bb:entry', 'a', 'b'], { code: 0, stdout: 'entry a b\n' }],
  ['--entrypoint replaces it (and drops Cmd)', ['--entrypoint', '/bin/echo', 'bb:entry', 'x'], { code: 0, stdout: 'x\n' }],
  ['the exit code passes through', ['--rm', 'bb:test', 'sh', '-c', 'exit 7'], { code: 7, stdout: '' }],
  ['--network none', ['--network', 'none', 'bb:test', 'ls', '/sys/class/net'], { code: 0, stdout: 'lo\n' }],
];
for (const [name, args, expected] of cases) {
  test(name, async () => {
    const r = await cli(...args);
    assert.equal(r.stdout, expected.stdout, r.stderr);
    assert.equal(r.code, expected.code, r.stderr);
  });
}

test('-i passes stdin', async () => {
  const r = await runCli(['--root', root, 'run', '-i', 'bb:test', 'cat'], { stdin: 'piped\n' });
  assert.equal(r.stdout, 'piped\n');
});

test('an unknown image is an error', async () => {
  const r = await cli('nope:latest');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /No such image: nope:latest/);
});

test('layers are unpacked once, and nothing stays mounted or running', async () => {
  const layers = join(root, 'worker', 'layers');
  // Both images share the one busybox layer.
  assert.equal(readdirSync(layers).length, 1);
  assert.deepEqual(mountsUnder(join(root, 'worker')), []);
  assert.deepEqual(readdirSync(join(root, 'worker', 'snapshots')), []);
  assert.deepEqual(readdirSync(join(root, 'worker', 'exec')), []);
});

test('Ctrl-C (SIGINT) during jettison run: exit 130, the container killed, nothing left mounted or running', async () => {
  const p = spawnJettison(['--root', root, 'run', '--rm', 'bb:test', 'sh', '-c', 'echo started; sleep 60']);
  await p.waitFor(/started/, 60_000);
  p.child.kill('SIGINT');
  const exit = await p.exited;
  assert.equal(exit.code, 130, p.output());
  assert.deepEqual(mountsUnder(root), []);
  assert.deepEqual(runcContainers(join(root, 'worker', 'runtime', 'runc')), []);
});
