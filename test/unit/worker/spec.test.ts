/** The generated OCI runtime spec: namespaces per network mode, defaults, and the caller's pieces in place. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSpec, DEFAULT_CAPABILITIES, type SpecInput } from '../../../src/worker/runtime/spec.ts';

const base: SpecInput = {
  rootfs: '/r',
  args: ['/bin/sh', '-c', 'true'],
  env: ['A=1'],
  cwd: '/w',
  user: { uid: 1000, gid: 1000, additionalGids: [50] },
  hostname: 'h',
  network: 'host',
  mounts: [{ destination: '/m', type: 'bind', source: '/s', options: ['rbind', 'ro'] }],
  nofile: 4096,
};

type Spec = {
  process: { user: unknown; env: string[]; cwd: string; args: string[]; noNewPrivileges: boolean; capabilities: Record<string, string[]>; rlimits: unknown[]; terminal: boolean };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: { destination: string; type: string }[];
  linux: { namespaces: { type: string }[] };
};

test('host network: no network namespace, /sys bound read-only from the host', () => {
  const s = buildSpec(base) as unknown as Spec;
  assert.deepEqual(s.linux.namespaces.map((n) => n.type), ['pid', 'ipc', 'uts', 'mount']);
  const sys = s.mounts.find((m) => m.destination === '/sys') as unknown as { type: string; options: string[] };
  assert.equal(sys.type, 'bind');
  assert.ok(sys.options.includes('ro'));
});

test('network none: a new network namespace and a sysfs mount', () => {
  const s = buildSpec({ ...base, network: 'none' }) as unknown as Spec;
  assert.deepEqual(s.linux.namespaces.map((n) => n.type), ['pid', 'ipc', 'uts', 'mount', 'network']);
  assert.equal(s.mounts.find((m) => m.destination === '/sys')!.type, 'sysfs');
});

test('process: user, args, env with default PATH, cwd, caps, rlimits, no-new-privileges off', () => {
  const s = buildSpec(base) as unknown as Spec;
  assert.deepEqual(s.process.user, { uid: 1000, gid: 1000, additionalGids: [50] });
  assert.deepEqual(s.process.args, base.args);
  assert.deepEqual(s.process.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=1']);
  assert.equal(s.process.cwd, '/w');
  assert.equal(s.process.noNewPrivileges, false);
  assert.equal(s.process.terminal, false);
  assert.deepEqual(s.process.capabilities.bounding, DEFAULT_CAPABILITIES);
  assert.equal(DEFAULT_CAPABILITIES.length, 14);
  assert.deepEqual(s.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 4096, soft: 4096 }]);
  assert.deepEqual(s.root, { path: '/r', readonly: false });
  assert.equal(s.hostname, 'h');
});

test('an explicit PATH is kept as given', () => {
  const s = buildSpec({ ...base, env: ['PATH=/x'] }) as unknown as Spec;
  assert.deepEqual(s.process.env, ['PATH=/x']);
});

test('standard mounts come first, the caller\'s after, in order', () => {
  const s = buildSpec(base) as unknown as Spec;
  assert.deepEqual(s.mounts.map((m) => m.destination), ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/m']);
});
