/**
 * The published CLI: scripts/bundle.ts bundles src/cli/main.ts into one CommonJS file, and
 * bin/jettison.cjs runs it (through dist/loader.cjs). Built here into a temporary package laid out as
 * the published one (bin/, dist/jettison.cjs, dist/loader.cjs) and run as real processes: each command line
 * must print what the sources print (table below), error classes keep their names, a command that
 * reads the store works, and the bin keeps (and reuses, and replaces) one code cache per command,
 * in directories it makes 0700 whatever the umask.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { bundleCli } from '../../../scripts/bundle.ts';
import { cacheKey, trustedCacheDir } from '../../../src/cli/compile-cache.ts';

const REPO = join(import.meta.dirname, '..', '..', '..');
let pkg = '';
let cacheDir = '';

before(async () => {
  pkg = mkdtempSync(join(tmpdir(), 'jettison-bundle-test-'));
  cacheDir = join(pkg, 'compile-cache');
  mkdirSync(join(pkg, 'bin'));
  copyFileSync(join(REPO, 'bin', 'jettison.cjs'), join(pkg, 'bin', 'jettison.cjs'));
  writeFileSync(join(pkg, 'package.json'), '{ "type": "module" }\n');
  await bundleCli(join(pkg, 'dist', 'jettison.cjs'));
});

after(() => {
  if (pkg) rmSync(pkg, { recursive: true, force: true });
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs node with `cmd`; given `umask`, under that umask (set by sh, as a login shell would). */
function run(cmd: string[], env: NodeJS.ProcessEnv = {}, umask?: string): Run {
  // Node treats NODE_DISABLE_COMPILE_CACHE as set even when it is empty.
  const { NODE_DISABLE_COMPILE_CACHE: _off, ...inherited } = process.env;
  const [file, args] = umask === undefined ? [process.execPath, cmd] : ['sh', ['-c', `umask ${umask} && exec "$@"`, 'sh', process.execPath, ...cmd]];
  const r = spawnSync(file, args, {
    encoding: 'utf8',
    cwd: pkg,
    env: { ...inherited, NODE_COMPILE_CACHE: cacheDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const bin = (args: string[], env?: NodeJS.ProcessEnv, umask?: string): Run => run([join(pkg, 'bin', 'jettison.cjs'), ...args], env, umask);
const sources = (args: string[], env?: NodeJS.ProcessEnv, umask?: string): Run => run([join(REPO, 'src', 'cli', 'main.ts'), ...args], env, umask);

/** Command lines whose output and exit status the bundle must share with the sources. */
const same: string[][] = [
  ['--version'],
  ['-v'],
  ['--help'],
  [],
  ['help', 'build'],
  ['build', '--help'],
  ['images', '--help'],
  ['cekit', '--help'],
  ['no-such-command'],
  ['build'],
  ['build', '--network', 'bogus', '.'],
  ['--root'],
];

for (const args of same) {
  test(`bin ${JSON.stringify(args)} prints what the sources print`, () => {
    const want = sources(args);
    const got = bin(args);
    assert.equal(got.stdout, want.stdout);
    assert.equal(got.stderr, want.stderr);
    assert.equal(got.status, want.status);
  });
}

test('errors keep their class names in the (minified) bundle, and --debug stacks point into the sources', () => {
  const file = join(pkg, 'bad.Dockerfile');
  writeFileSync(file, 'FROM busybox\nRUN --mount=type=bogus true\n');
  const r = bin(['--debug', 'plan', '-f', file]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`^error: ${file}:2:1: unsupported mount type "bogus"\\nDockerfileError: `));
  assert.match(r.stderr, /\n {4}at errorAt \(\S*\/src\/frontend\/dockerfile\/instructions\/parse\.ts:\d+:\d+\)/);
});

test('a store command runs from the bundle: images on an empty root, inspect of a missing image', () => {
  const root = join(pkg, 'root');
  const images = bin(['--root', root, 'images']);
  assert.equal(images.status, 0, images.stderr);
  assert.deepEqual(images.stdout.split(/\s+/).filter(Boolean), ['REPOSITORY', 'TAG', 'IMAGE', 'ID', 'CREATED', 'SIZE']);
  const inspect = bin(['--root', root, 'inspect', 'nosuch:1']);
  assert.equal(inspect.status, 1);
  assert.match(inspect.stderr, /No such image: nosuch:1/);
});

/** The bundle's code caches: file name → [size, mtime]. */
function codeCaches(): Map<string, [number, number]> {
  const dir = join(cacheDir, 'jettison-bundle');
  const out = new Map<string, [number, number]>();
  for (const name of readdirSafe(dir)) {
    const st = statSync(join(dir, name));
    out.set(name, [st.size, st.mtimeMs]);
  }
  return out;
}

test('the bin keeps a code cache per command, made after the command ran, and reuses it', async () => {
  rmSync(cacheDir, { recursive: true, force: true });
  assert.equal(bin(['--version'], { NODE_DISABLE_COMPILE_CACHE: '1' }).status, 0);
  assert.deepEqual([...codeCaches().keys()], [], 'nothing written when caching is off');

  assert.equal(bin(['--version']).status, 0);
  const first = codeCaches();
  assert.deepEqual([...first.keys()].map((n) => n.replace(/^[0-9a-f]{8}-[0-9a-f]{8}-/, '')), ['other.v8']);
  const [size] = [...first.values()][0];
  // Made after the run, it holds the functions that ran, not just the top level (~170 KB).
  assert.ok(size > 250_000, `cache of ${size} bytes`);

  await new Promise((r) => setTimeout(r, 20));
  assert.equal(bin(['--version']).stdout, sources(['--version']).stdout);
  assert.deepEqual(codeCaches(), first, 'a cache V8 accepted is not written again');

  assert.equal(bin(['--root', join(pkg, 'root'), 'images']).status, 0);
  assert.deepEqual([...codeCaches().keys()].map((n) => n.replace(/^[0-9a-f]{8}-[0-9a-f]{8}-/, '')).sort(), ['images.v8', 'other.v8']);
});

test('a command that fails writes no code cache; the same command done right does', () => {
  rmSync(cacheDir, { recursive: true, force: true });
  const root = join(pkg, 'root');
  const mistyped = bin(['--root', root, 'images', '--no-such-flag']);
  assert.equal(mistyped.status, 2, mistyped.stderr);
  const failed = bin(['--root', root, 'inspect', 'nosuch:1']);
  assert.equal(failed.status, 1, failed.stderr);
  assert.deepEqual([...codeCaches().keys()], []);
  assert.equal(bin(['--root', root, 'images']).status, 0);
  assert.deepEqual([...codeCaches().keys()].map((n) => n.replace(/^[0-9a-f]{8}-[0-9a-f]{8}-/, '')), ['images.v8']);
});

test('a changed bundle gets new caches and its old ones are removed', async () => {
  rmSync(cacheDir, { recursive: true, force: true });
  assert.equal(bin(['--version']).status, 0);
  const before = [...codeCaches().keys()];
  const file = join(pkg, 'dist', 'jettison.cjs');
  writeFileSync(file, `${readFileSync(file, 'utf8')}\n// changed\n`);
  assert.equal(bin(['--version']).status, 0);
  const now = [...codeCaches().keys()];
  assert.equal(now.length, 1);
  assert.notDeepEqual(now, before);
  assert.equal(now[0].slice(0, 9), before[0].slice(0, 9), 'same place, other content');
});

test('a damaged code cache is not used: the command runs as usual and the cache is written again', async () => {
  rmSync(cacheDir, { recursive: true, force: true });
  const want = bin(['--help']);
  assert.equal(want.status, 0);
  const [name] = [...codeCaches().keys()];
  const path = join(cacheDir, 'jettison-bundle', name);
  for (const damage of [(b: Buffer) => b.subarray(0, b.length >> 1), (b: Buffer) => (b[b.length >> 1] ^= 0xff, b), () => Buffer.alloc(0)]) {
    const damaged = damage(readFileSync(path));
    writeFileSync(path, damaged);
    const got = bin(['--help']);
    assert.deepEqual([got.status, got.stdout, got.stderr], [0, want.stdout, want.stderr]);
    const again = readFileSync(path);
    assert.ok(!again.equals(damaged), 'written again');
    assert.equal(again.readUInt32BE(0), crc32(again.subarray(4)), 'a whole cache, its checksum first');
  }
});

test('under umask 002 the cache is made 0700, so the next run trusts it and uses it (bin and sources)', () => {
  // $XDG_CACHE_HOME, not $NODE_COMPILE_CACHE: with that set, Node makes the directory itself before jettison runs.
  const xdg = join(pkg, 'xdg-umask');
  rmSync(xdg, { recursive: true, force: true });
  const env = { NODE_COMPILE_CACHE: undefined, XDG_CACHE_HOME: xdg };
  const cache = join(xdg, 'jettison', 'node-compile-cache');
  const bundleCaches = (): Map<string, number> =>
    new Map(readdirSafe(join(cache, 'jettison-bundle')).map((n) => [n, statSync(join(cache, 'jettison-bundle', n)).mtimeMs]));
  const version = sources(['--version']).stdout;

  const first = bin(['--version'], env, '002');
  assert.deepEqual([first.status, first.stdout], [0, version], first.stderr);
  const written = bundleCaches();
  assert.equal(written.size, 1, 'the code cache is written');
  // Every directory of the tree is 0700 (the ones jettison made and Node's own), every file 0600.
  const modes: string[] = [];
  const walk = (p: string): void => {
    const st = statSync(p);
    modes.push(`${st.isDirectory() ? 'd' : 'f'} ${(st.mode & 0o7777).toString(8)} ${p.slice(xdg.length)}`);
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
  };
  walk(xdg);
  assert.ok(modes.length >= 5, modes.join('\n'));
  for (const m of modes) assert.match(m, /^(d 700|f 600) /, modes.join('\n'));
  assert.ok(trustedCacheDir(join(cache, 'jettison-bundle')));

  // Trusted, so the second run loads it, and a cache V8 accepted is not written again.
  const second = bin(['--version'], env, '002');
  assert.deepEqual([second.status, second.stdout], [0, version], second.stderr);
  assert.deepEqual(bundleCaches(), written);

  // Node's module cache, from the sources: the second run reads what the first wrote.
  const debug = { ...env, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' };
  assert.equal(sources(['--version'], debug, '002').status, 0);
  const again = sources(['--version'], debug, '002');
  assert.equal(again.status, 0);
  // Node 24 logs the type-stripping cache; Node 22 logs the compiled module's cache being read.
  assert.match(
    again.stderr,
    /retrieving transpile cache for StrippedTypeScript \S+\/src\/errors\.ts\.\.\.success|reading cache from \S+ for ESM file:\/\/\S+\/src\/errors\.ts\.\.\.\[[^\]]*\]\.\.\. success/,
  );
});

function readdirSafe(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}

const keys: [argv: string[], key: string][] = [
  [['build', '.'], 'build'],
  [['--root', '/x', 'images'], 'images'],
  [['--root=/x', 'images'], 'images'],
  [['--debug', '--insecure-registry', 'h', '--registry-mirror', 'a=b', 'push', 'x'], 'push'],
  [['--help'], 'other'],
  [[], 'other'],
  [['../evil/path'], 'other'],
  [['BUILD'], 'other'],
  // An unknown option before the command: commander runs no command (main.ts loads them all).
  [['--foo', 'build'], 'other'],
  [['--help', 'build'], 'other'],
  [['--root', 'build'], 'other'],
];

for (const [argv, key] of keys) {
  test(`cacheKey(${JSON.stringify(argv)}) = ${key}`, () => {
    assert.equal(cacheKey(argv), key);
  });
}
