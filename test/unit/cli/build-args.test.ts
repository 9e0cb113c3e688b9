/** `jettison build` command lines → build() options: a table, parsed exactly as the CLI parses them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBuildArgs } from '../../../src/cli/commands/build.ts';

const io = { cwd: '/work', env: { TOKEN_ARG: 'from-env', JETTISON_ROOT: '/store' } as NodeJS.ProcessEnv };

const cases: [string, string[], Record<string, unknown> | RegExp][] = [
  ['defaults', ['.'], { context: '.', tags: [], noCache: false, noCacheFilter: [], network: 'host', progress: 'auto', outputs: [{ type: 'image' }], root: '/store' }],
  ['-f, -t repeated, --target', ['-f', 'x/Dockerfile', '-t', 'a:1', '-t', 'b:2', '--target', 'Build', 'ctx'], { dockerfile: 'x/Dockerfile', tags: ['a:1', 'b:2'], target: 'Build', context: 'ctx' }],
  ['--build-arg K=V and a bare K from the environment', ['--build-arg', 'A=1', '--build-arg', 'B==2', '--build-arg', 'TOKEN_ARG', '--build-arg', 'UNSET', '.'], { buildArgs: { A: '1', B: '=2', TOKEN_ARG: 'from-env' } }],
  ['--no-cache', ['--no-cache', '.'], { noCache: true }],
  ['--no-cache-filter repeated', ['--no-cache-filter', 'build', '--no-cache-filter', 'test', '.'], { noCacheFilter: ['build', 'test'], noCache: false }],
  ['--secret forms', ['--secret', 'id=a,src=/f', '--secret', 'id=b,env=VAR', '--secret', 'id=c,type=env', '--secret', 'id=d', '.'],
    { secrets: [{ id: 'a', src: '/f' }, { id: 'b', env: 'VAR' }, { id: 'c', env: 'c' }, { id: 'd', src: 'd' }] }],
  ['-o specs and --push', ['-o', 'type=oci,dest=o.tar', '-o', 'out/', '--push', '-t', 'r/x:1', '.'],
    { outputs: [{ type: 'oci', dest: 'o.tar', attrs: {} }, { type: 'local', dest: 'out/' }, { type: 'registry' }] }],
  ['--progress and -q', ['--progress', 'plain', '.'], { progress: 'plain' }],
  ['-q wins', ['-q', '--progress', 'tty', '.'], { progress: 'quiet' }],
  ['--label', ['--label', 'a=b', '--label', 'c=d=e', '.'], { labels: { a: 'b', c: 'd=e' } }],
  ['--label K without a value is an empty label (as buildx)', ['--label', 'flag', '.'], { labels: { flag: '' } }],
  ['--build-context NAME without a value is an error', ['--build-context', 'src', '.'], /invalid --build-context "src": expected KEY=VALUE/],
  ['--build-context', ['--build-context', 'src=../src', '--build-context', 'base=docker-image://busybox', '.'], { buildContexts: { src: '../src', base: 'docker-image://busybox' } }],
  ['--network none, --jobs, --pull, --platform, --runtime', ['--network', 'none', '--jobs', '3', '--pull', '--platform', 'linux/amd64', '--runtime', 'runc', '.'],
    { network: 'none', jobs: 3, pull: true, platform: 'linux/amd64', runtime: 'runc' }],
  ['a bad --network', ['--network', 'bridge', '.'], /invalid --network "bridge": expected host or none/],
  ['a bad --jobs', ['--jobs', '0', '.'], /invalid --jobs "0"/],
  ['a bad --progress', ['--progress', 'fancy', '.'], /invalid progress mode fancy/],
  ['-o compression=zstd', ['-o', 'type=image,compression=zstd', '.'], { compression: 'zstd' }],
  ['-o type=image,compression=uncompressed', ['-o', 'type=image,compression=uncompressed', '.'], { compression: 'none' }],
  ['compression= on type=oci or registry is the export\'s, not the store\'s', ['-o', 'type=oci,dest=o.tar,compression=zstd', '-o', 'type=registry,compression=uncompressed', '.'], { compression: undefined }],
  ['a bad compression on type=registry', ['-o', 'type=registry,compression=lz4', '.'], /invalid compression "lz4"/],
  ['no compression given keeps the default', ['.'], { compression: undefined }],
  ['a bad compression', ['-o', 'type=image,compression=lz4', '.'], /invalid compression "lz4"/],
  ['a bad output type', ['-o', 'type=zip,dest=x', '.'], /invalid output type "zip"/],
  ['an output without dest', ['-o', 'type=oci', '.'], /needs dest=/],
  ['a --secret without id', ['--secret', 'src=/f', '.'], /id is required/],
  ['no context', [], /missing required argument 'context'/],
];

for (const [name, argv, expected] of cases) {
  test(`build ${name}`, () => {
    if (expected instanceof RegExp) {
      assert.throws(() => parseBuildArgs(argv, io), expected);
      return;
    }
    const opts = parseBuildArgs(argv, io) as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(expected)) assert.deepEqual(opts[k], v, k);
  });
}
