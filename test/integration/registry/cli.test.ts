/**
 * The pull, push, login and logout commands as a user runs them, against real registries: output
 * lines, the Docker config file login writes (mode 0600, Docker's keys), mirrors from the flag and
 * from jettison's config file (with fallback to the registry when a mirror fails).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openStore } from '../../../src/store/index.ts';
import { runCli } from '../../support/cli.ts';
import { startRegistry, type TestRegistry } from '../../support/registry.ts';
import { makeImage, tempDir } from './helpers.ts';

interface Env {
  dir: string;
  root: string;
  env: NodeJS.ProcessEnv;
  cleanup: () => Promise<void>;
}

async function userEnv(): Promise<Env> {
  const d = await tempDir('jettison-cli-');
  return {
    dir: d.path,
    root: join(d.path, 'root'),
    env: { DOCKER_CONFIG: join(d.path, 'docker'), JETTISON_CONFIG: join(d.path, 'jettison.json'), JETTISON_ROOT: join(d.path, 'root') },
    cleanup: d.cleanup,
  };
}

describe('login and logout', () => {
  for (const auth of ['basic', 'token'] as const) {
    test(`${auth} auth: login checks the password, writes ~/.docker/config.json 0600, logout removes it`, async () => {
      const reg = await startRegistry({ auth });
      const u = await userEnv();
      try {
        const cfgFile = join(u.dir, 'docker', 'config.json');
        const bad = await runCli(['login', '-u', reg.username!, '--password-stdin', reg.host], { env: u.env, stdin: 'nope\n' });
        assert.equal(bad.code, 1);
        assert.match(bad.stderr, new RegExp(`^error: login attempt to http://${reg.host.replace(/\./g, '\\.')}/v2/ failed`));
        await assert.rejects(stat(cfgFile), /ENOENT/, 'nothing saved on failure');

        const ok = await runCli(['login', '-u', reg.username!, '--password-stdin', reg.host], { env: u.env, stdin: `${reg.password}\n` });
        assert.equal(ok.code, 0, ok.stderr);
        assert.equal(ok.stdout, 'Login Succeeded\n');
        assert.equal((await stat(cfgFile)).mode & 0o777, 0o600);
        const saved = JSON.parse(await readFile(cfgFile, 'utf8'));
        assert.deepEqual(saved, { auths: { [reg.host]: { auth: Buffer.from(`${reg.username}:${reg.password}`).toString('base64') } } });

        // The saved credentials are used: push works without flags.
        const store = openStore(u.root);
        await makeImage(store, `${reg.host}/logged/in:1`, [{ f: 'x' }]);
        const push = await runCli(['push', `${reg.host}/logged/in:1`], { env: u.env });
        assert.equal(push.code, 0, push.stderr);

        const out = await runCli(['logout', reg.host], { env: u.env });
        assert.equal(out.stdout, `Removing login credentials for ${reg.host}\n`);
        assert.deepEqual(JSON.parse(await readFile(cfgFile, 'utf8')), { auths: {} });
        const again = await runCli(['logout', reg.host], { env: u.env });
        assert.equal(again.stdout, `Not logged in to ${reg.host}\n`);
        const denied = await runCli(['push', `${reg.host}/logged/in:1`], { env: u.env });
        assert.equal(denied.code, 1);
        assert.match(denied.stderr, /^error: (failed to push|failed to authorize)/);
      } finally {
        await u.cleanup();
        await reg.stop();
      }
    });
  }

  test('usage errors as Docker words them; -p warns and keeps other config fields', async () => {
    const reg = await startRegistry({ auth: 'basic' });
    const u = await userEnv();
    try {
      const both = await runCli(['login', '-u', 'a', '-p', 'b', '--password-stdin', reg.host], { env: u.env, stdin: 'x' });
      assert.match(both.stderr, /--password and --password-stdin are mutually exclusive/);
      const noUser = await runCli(['login', '--password-stdin', reg.host], { env: u.env, stdin: 'x' });
      assert.match(noUser.stderr, /Must provide --username with --password-stdin/);
      const noTty = await runCli(['login', reg.host], { env: u.env });
      assert.match(noTty.stderr, /Cannot perform an interactive login from a non TTY device/);

      const cfgFile = join(u.dir, 'docker', 'config.json');
      await mkdir(join(u.dir, 'docker'), { recursive: true });
      await writeFile(cfgFile, JSON.stringify({ auths: { 'other.example': { auth: 'dTpw' } }, psFormat: 'table' }), { mode: 0o644 });
      const r = await runCli(['login', '-u', reg.username!, '-p', reg.password!, `http://${reg.host}/`], { env: u.env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /WARNING! Using --password via the CLI is insecure/);
      const saved = JSON.parse(await readFile(cfgFile, 'utf8'));
      assert.equal(saved.psFormat, 'table');
      assert.equal(saved.auths['other.example'].auth, 'dTpw');
      assert.ok(saved.auths[reg.host].auth);
      assert.equal((await stat(cfgFile)).mode & 0o777, 0o600);
    } finally {
      await u.cleanup();
      await reg.stop();
    }
  });
});

describe('pull and push commands, mirrors', () => {
  let upstream: TestRegistry;
  let mirror: TestRegistry;
  before(async () => {
    [upstream, mirror] = await Promise.all([startRegistry(), startRegistry()]);
  });
  after(async () => {
    await upstream?.stop();
    await mirror?.stop();
  });

  test('push and pull print one line per layer when stdout is not a terminal', async () => {
    const u = await userEnv();
    try {
      const img = await makeImage(openStore(u.root), `${upstream.host}/cli/app:1`, [{ a: '1' }, { b: '2' }]);
      const push = await runCli(['push', `${upstream.host}/cli/app:1`], { env: u.env });
      assert.equal(push.code, 0, push.stderr);
      const short = (d: string): string => d.slice(7, 19);
      assert.deepEqual(push.stdout.split('\n').filter(Boolean).sort(), [
        `${short(img.layers[0].digest)}: Pushed`,
        `${short(img.layers[1].digest)}: Pushed`,
        `1: digest: ${img.manifest.digest} size: ${img.manifest.size}`,
        `The push refers to repository [${upstream.host}/cli/app]`,
      ].sort());

      const v = await userEnv();
      try {
        const pull = await runCli(['pull', `${upstream.host}/cli/app:1`], { env: v.env });
        assert.equal(pull.code, 0, pull.stderr);
        const lines = pull.stdout.split('\n');
        assert.equal(lines[0], '1: Pulling from cli/app');
        assert.deepEqual(lines.slice(1, 3).sort(), [`${short(img.layers[0].digest)}: Pull complete`, `${short(img.layers[1].digest)}: Pull complete`].sort());
        assert.deepEqual(lines.slice(3), [
          `Digest: ${img.manifest.digest}`,
          `Status: Downloaded newer image for ${upstream.host}/cli/app:1`,
          `${upstream.host}/cli/app:1`,
          '',
        ]);
        const again = await runCli(['pull', '-q', `${upstream.host}/cli/app:1`], { env: v.env });
        assert.equal(again.stdout, `${upstream.host}/cli/app:1\n`);
        const missing = await runCli(['pull', `${upstream.host}/cli/nothing`], { env: v.env });
        assert.equal(missing.code, 1);
        assert.equal(missing.stderr, `error: ${upstream.host}/cli/nothing:latest: not found\n`);
      } finally {
        await v.cleanup();
      }
    } finally {
      await u.cleanup();
    }
  });

  test('FROM-style names resolve through a mirror given by flag or config file', async () => {
    const u = await userEnv();
    try {
      // The mirror serves library/busybox, as Docker's mirror protocol has it.
      const img = await makeImage(openStore(u.root), `${mirror.host}/library/busybox:latest`, [{ 'bin/busybox': 'not really\n' }]);
      assert.equal((await runCli(['push', `${mirror.host}/library/busybox:latest`], { env: u.env })).code, 0);

      const v = await userEnv();
      try {
        const viaFlag = await runCli(['--registry-mirror', `docker.io=${mirror.url}`, 'pull', 'busybox'], { env: v.env });
        assert.equal(viaFlag.code, 0, viaFlag.stderr);
        assert.match(viaFlag.stdout, /^Using default tag: latest\nlatest: Pulling from library\/busybox\n/);
        const rec = await openStore(v.root).getRef('docker.io/library/busybox:latest');
        assert.equal(rec?.target.digest, img.manifest.digest);
      } finally {
        await v.cleanup();
      }

      const w = await userEnv();
      try {
        await writeFile(w.env.JETTISON_CONFIG as string, JSON.stringify({ registryMirrors: { 'docker.io': [mirror.url] } }));
        const viaFile = await runCli(['pull', '-q', 'docker.io/library/busybox'], { env: w.env });
        assert.equal(viaFile.code, 0, viaFile.stderr);
        assert.equal(viaFile.stdout, 'docker.io/library/busybox:latest\n');
      } finally {
        await w.cleanup();
      }
    } finally {
      await u.cleanup();
    }
  });

  test('a dead or empty mirror falls back to the registry itself', async () => {
    const u = await userEnv();
    try {
      const img = await makeImage(openStore(u.root), `${upstream.host}/fallback/app:1`, [{ f: 'fallback' }]);
      assert.equal((await runCli(['push', `${upstream.host}/fallback/app:1`], { env: u.env })).code, 0);
      const v = await userEnv();
      try {
        // First mirror refuses connections, second does not have the image.
        const r = await runCli(
          ['--registry-mirror', `${upstream.host}=http://127.0.0.1:9`, '--registry-mirror', `${upstream.host}=${mirror.url}`, 'pull', '-q', `${upstream.host}/fallback/app:1`],
          { env: v.env },
        );
        assert.equal(r.code, 0, r.stderr);
        assert.equal((await openStore(v.root).getRef(`${upstream.host}/fallback/app:1`))?.target.digest, img.manifest.digest);
      } finally {
        await v.cleanup();
      }
    } finally {
      await u.cleanup();
    }
  });

  test('a pull-through cache registry works as a mirror', async () => {
    const cache = await startRegistry({ proxyRemote: upstream.url });
    const u = await userEnv();
    try {
      const img = await makeImage(openStore(u.root), `${upstream.host}/cached/app:1`, [{ f: 'cached' }]);
      assert.equal((await runCli(['push', `${upstream.host}/cached/app:1`], { env: u.env })).code, 0);
      const v = await userEnv();
      try {
        const r = await runCli(['--registry-mirror', `docker.io=${cache.url}`, 'pull', '-q', 'cached/app:1'], { env: v.env });
        assert.equal(r.code, 0, r.stderr);
        assert.equal((await openStore(v.root).getRef('docker.io/cached/app:1'))?.target.digest, img.manifest.digest);
      } finally {
        await v.cleanup();
      }
    } finally {
      await u.cleanup();
      await cache.stop();
    }
  });

  test('a malformed mirror flag is a usage error', async () => {
    const r = await runCli(['--registry-mirror', 'docker.io', 'pull', 'busybox'], { env: { JETTISON_CONFIG: '/nonexistent/x.json' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /invalid --registry-mirror "docker\.io": expected REGISTRY=MIRROR/);
  });
});
