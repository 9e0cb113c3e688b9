/**
 * RUN execution in the busybox rootfs with real runc and overlayfs: output, exit codes, env, cwd, USER,
 * networking, host files, capabilities, stdin, runtime errors and cancellation.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createWorker, commitChanges, type Worker } from '../../../src/worker/index.ts';
import { JettisonError } from '../../../src/errors.ts';
import { busyboxLayerDir, cleanupDir, mountsUnder, run, runcContainers, sh, tempDir } from './helpers.ts';

let dir: string;
let worker: Worker;
let layer: string;

before(async () => {
  dir = tempDir('worker-exec');
  layer = await busyboxLayerDir(dir);
  worker = await createWorker({ root: join(dir, 'store') });
});

after(async () => {
  await worker?.close();
  cleanupDir(dir);
});

/** Runs `proc` in a fresh snapshot of the busybox layer, releasing it afterwards. */
async function once(proc: Parameters<Worker['exec']>[1], opts: Parameters<typeof run>[3] = {}) {
  const snap = await worker.prepare([layer]);
  try {
    return await run(worker, snap, proc, opts);
  } finally {
    await worker.release(snap);
  }
}

test('echo hi prints hi', async () => {
  const r = await once({ args: ['echo', 'hi'] });
  assert.deepEqual(r, { exitCode: 0, stdout: 'hi\n', stderr: '' });
});

describe('exit codes', () => {
  const cases: [string, string, number][] = [
    ['success', 'true', 0],
    ['false', 'false', 1],
    ['explicit exit 3', 'exit 3', 3],
    ['command not found', 'no-such-command', 127],
    // The shell is pid 1 of its namespace (immune to its own signals): kill a child.
    ['child killed by SIGKILL', "sh -c 'kill -9 $$'; exit $?", 137],
  ];
  for (const [name, script, code] of cases) {
    test(name, async () => {
      assert.equal((await once({ args: sh(script) })).exitCode, code);
    });
  }
});

test('stdout and stderr are separate streams', async () => {
  const r = await once({ args: sh('echo out; echo err >&2') });
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
});

test('env is passed, PATH defaults, HOME comes from passwd', async () => {
  const r = await once({ args: sh('echo "$FOO|$PATH|$HOME"'), env: ['FOO=bar baz'] });
  assert.equal(r.stdout, 'bar baz|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|/root\n');
  const r2 = await once({ args: sh('echo "$PATH"'), env: ['PATH=/bin'] });
  assert.equal(r2.stdout, '/bin\n');
});

test('secret env reaches the process', async () => {
  const r = await once({ args: sh('echo "$TOKEN"'), secretEnv: { TOKEN: 's3cr3t' } });
  assert.equal(r.stdout, 's3cr3t\n');
});

test('a missing cwd is created and kept in the diff (like WORKDIR)', async () => {
  const snap = await worker.prepare([layer]);
  try {
    const r = await run(worker, snap, { args: ['pwd'], cwd: '/app/src' });
    assert.equal(r.stdout, '/app/src\n');
    const changes = [];
    for await (const c of commitChanges(await worker.commit(snap))) changes.push(c);
    assert.deepEqual(changes, [
      { path: '/app', kind: 'add' },
      { path: '/app/src', kind: 'add' },
    ]);
  } finally {
    await worker.release(snap);
  }
});

describe('USER', () => {
  const cases: [string, string | undefined, string][] = [
    ['default is root', undefined, '0 0 0'],
    ['by name, with supplementary groups from /etc/group', 'www', '1000 1000 1000 50 100'],
    ['by uid found in passwd', '1000', '1000 1000 1000 50 100'],
    ['uid:gid taken as is', '1000:50', '1000 50 50'],
    ['name:group', 'www:staff', '1000 50 50'],
    ['nobody', 'nobody', '65534 65534 65534 100'],
    ['uid not in passwd gets gid 0', '4242', '4242 0 0'],
    ['root:root', 'root:root', '0 0 0'],
  ];
  for (const [name, user, expected] of cases) {
    test(name, async () => {
      const r = await once({ args: sh('echo $(id -u) $(id -g) $(id -G)'), user });
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.stdout.trim(), expected);
    });
  }
  test('an unknown user name is an error naming it', async () => {
    await assert.rejects(once({ args: ['true'], user: 'ghost' }), (err: unknown) => {
      assert.ok(err instanceof JettisonError);
      assert.equal(err.message, 'unable to find user ghost: no matching entries in passwd file');
      return true;
    });
  });
  test('an unknown group name is an error naming it', async () => {
    await assert.rejects(once({ args: ['true'], user: 'www:ghosts' }), /unable to find group ghosts: no matching entries in group file/);
  });
});

test('network none has only a loopback interface, and it is up', async () => {
  const r = await once({ args: sh('ls /sys/class/net; ip link show lo'), network: 'none' });
  assert.equal(r.exitCode, 0, r.stderr);
  const [first, ...rest] = r.stdout.split('\n');
  assert.equal(first, 'lo');
  assert.match(rest.join('\n'), /<LOOPBACK,UP,LOWER_UP>/);
});

test('host network sees the host interfaces', async () => {
  const r = await once({ args: sh('ls /sys/class/net') });
  assert.deepEqual(r.stdout.trim().split('\n').sort(), readdirSync('/sys/class/net').sort());
  assert.ok(readdirSync('/sys/class/net').length > 1, 'the host has more than lo');
});

test("/etc/resolv.conf and /etc/hosts are the host's, read-only", async () => {
  const r = await once({ args: sh('cat /etc/resolv.conf; echo ---; cat /etc/hosts; echo x >> /etc/hosts || echo ro') });
  assert.equal(r.stdout, `${readFileSync('/etc/resolv.conf', 'utf8')}---\n${readFileSync('/etc/hosts', 'utf8')}ro\n`);
});

test('hostname defaults to buildkitsandbox and can be set', async () => {
  assert.equal((await once({ args: ['hostname'] })).stdout, 'buildkitsandbox\n');
  assert.equal((await once({ args: ['hostname'], hostname: 'builder' })).stdout, 'builder\n');
});

test("capabilities are BuildKit's default set", async () => {
  const r = await once({ args: sh('grep CapEff /proc/self/status') });
  assert.equal(r.stdout.trim().split(/\s+/)[1], '00000000a80425fb');
});

test('/proc, /dev and /sys are there; /sys is read-only', async () => {
  const r = await once({ args: sh('test -c /dev/null && test -d /dev/pts && test -d /dev/shm && test -r /proc/self/status && ! touch /sys/x 2>/dev/null && echo ok') });
  assert.equal(r.stdout, 'ok\n', r.stderr);
});

test('stdin is passed when given', async () => {
  assert.equal((await once({ args: ['cat'] }, { stdin: 'hello\n' })).stdout, 'hello\n');
  assert.equal((await once({ args: ['cat'] })).stdout, '');
});

test('a missing executable is an error from the runtime', async () => {
  await assert.rejects(once({ args: ['/no/such/binary'] }), (err: unknown) => {
    assert.ok(err instanceof JettisonError);
    assert.equal(err.code, 'RUNTIME');
    assert.match(err.message, /no such file or directory/);
    return true;
  });
});

test('busybox httpd serves /var/www (network none: loopback only)', async () => {
  const r = await once({
    args: sh('httpd -p 127.0.0.1:8080 -h /var/www -u www && sleep 0.3 && wget -qO- http://127.0.0.1:8080/'),
    network: 'none',
  });
  assert.equal(r.stdout, '<h1>hello from busybox httpd</h1>\n', r.stderr);
});

test('an AbortSignal kills the container and leaves no mount, container or bundle behind', async () => {
  const snap = await worker.prepare([layer]);
  const ac = new AbortController();
  const out: string[] = [];
  const p = worker.exec(snap, { args: sh('echo started; sleep 60'), mounts: [{ type: 'secret', target: '/run/s', data: 'x' }] }, {
    signal: ac.signal,
    onStdout: (c) => {
      out.push(c.toString());
      if (out.join('').includes('started')) ac.abort(new Error('cancelled by test'));
    },
  });
  await assert.rejects(p, /cancelled by test/);
  const rt = await worker.runtime();
  assert.deepEqual(runcContainers(rt.stateRoot), []);
  assert.deepEqual(readdirSync(join(worker.stateDir, 'exec')), []);
  assert.deepEqual(mountsUnder(join(worker.stateDir, 'exec')), []);
  // The snapshot is still mounted until released, then nothing is.
  assert.equal(mountsUnder(snap.dir).length, 1);
  await worker.release(snap);
  assert.deepEqual(mountsUnder(worker.stateDir), []);
  assert.deepEqual(readdirSync(join(worker.stateDir, 'snapshots')), []);
});

test('an already aborted signal runs nothing', async () => {
  const ac = new AbortController();
  ac.abort(new Error('too late'));
  await assert.rejects(once({ args: ['true'] }, { signal: ac.signal }), /too late/);
});
