// Cache keys: a table of changes to a vertex and whether each must change its key.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JettisonError } from '../../../src/errors.ts';
import { sha256 } from '../../../src/image/digest.ts';
import { canonicalJSON } from '../../../src/solver/canonical.ts';
import type { ExecOp, Op } from '../../../src/solver/ops.ts';
import { keyOf, topologicalOrder, vertex, type Vertex, type VertexSpec } from '../../../src/solver/vertex.ts';

const platform = { architecture: 'amd64', os: 'linux' };
const base = vertex({ op: { kind: 'image', digest: sha256('alpine'), platform }, name: 'FROM alpine' });
const otherBase = vertex({ op: { kind: 'image', digest: sha256('debian'), platform }, name: 'FROM debian' });
const ctx = vertex({ op: { kind: 'context', name: 'context' } });

const exec = (over: Partial<ExecOp> = {}): ExecOp => ({
  kind: 'exec',
  args: ['/bin/sh', '-c', 'make'],
  env: ['PATH=/usr/bin', 'VERSION=1'],
  cwd: '/src',
  mounts: [
    { type: 'secret', id: 'token', target: '/run/secrets/token' },
    { type: 'cache', id: 'ccache', target: '/root/.ccache', sharing: 'shared' },
  ],
  ...over,
});

const src = { label: 'COPY src/', digest: sha256('src files') };
const lib = { label: 'COPY lib/', digest: sha256('lib files') };

function spec(over: Partial<VertexSpec> = {}): VertexSpec {
  return {
    op: exec(),
    inputs: [base, ctx],
    contents: [src, lib],
    name: '[build 2/5] RUN make',
    step: { stage: 'build', index: 2, total: 5, instruction: 'RUN make' },
    buildArgs: ['VERSION'],
    ...over,
  };
}

const reference = vertex(spec());

const cases: { name: string; spec: VertexSpec; same: boolean }[] = [
  { name: 'identical spec', spec: spec(), same: true },
  { name: 'display name', spec: spec({ name: 'another name' }), same: true },
  { name: 'step metadata', spec: spec({ step: { stage: 'other', index: 9, instruction: 'RUN  make' } }), same: true },
  { name: 'build-arg names (metadata)', spec: spec({ buildArgs: [] }), same: true },
  { name: 'object key order in op', spec: spec({ op: { cwd: '/src', env: ['PATH=/usr/bin', 'VERSION=1'], kind: 'exec', args: ['/bin/sh', '-c', 'make'], mounts: exec().mounts } as Op }), same: true },
  { name: 'undefined optional field', spec: spec({ op: { ...exec(), user: undefined } }), same: true },
  { name: 'content order', spec: spec({ contents: [lib, src] }), same: true },
  { name: 'a listing named with a content', spec: spec({ contents: [{ ...src, listing: '/var/tmp/listings/x' }, lib] }), same: true },
  { name: 'an equal input built separately', spec: spec({ inputs: [vertex({ op: { kind: 'image', digest: sha256('alpine'), platform } }), ctx] }), same: true },
  { name: 'command', spec: spec({ op: exec({ args: ['/bin/sh', '-c', 'make all'] }) }), same: false },
  { name: 'env value (build arg)', spec: spec({ op: exec({ env: ['PATH=/usr/bin', 'VERSION=2'] }) }), same: false },
  { name: 'env order', spec: spec({ op: exec({ env: ['VERSION=1', 'PATH=/usr/bin'] }) }), same: false },
  { name: 'working directory', spec: spec({ op: exec({ cwd: '/' }) }), same: false },
  { name: 'user', spec: spec({ op: exec({ user: 'nobody' }) }), same: false },
  { name: 'network', spec: spec({ op: exec({ network: 'none' }) }), same: false },
  { name: 'secret id', spec: spec({ op: exec({ mounts: [{ type: 'secret', id: 'other', target: '/run/secrets/token' }, exec().mounts![1]] }) }), same: false },
  { name: 'cache mount id', spec: spec({ op: exec({ mounts: [exec().mounts![0], { type: 'cache', id: 'other', target: '/root/.ccache', sharing: 'shared' }] }) }), same: false },
  { name: 'base image', spec: spec({ inputs: [otherBase, ctx] }), same: false },
  { name: 'input order', spec: spec({ inputs: [ctx, base], op: exec() }), same: false },
  { name: 'extra input', spec: spec({ inputs: [base, ctx, otherBase] }), same: false },
  { name: 'content digest', spec: spec({ contents: [{ ...src, digest: sha256('src files 2') }, lib] }), same: false },
  { name: 'content added', spec: spec({ contents: [src, lib, { label: 'COPY doc/', digest: sha256('doc files') }] }), same: false },
  { name: 'content removed', spec: spec({ contents: [src] }), same: false },
  { name: 'content label', spec: spec({ contents: [{ ...src, label: 'COPY source/' }, lib] }), same: false },
  { name: 'digests swapped between labels', spec: spec({ contents: [{ ...src, digest: lib.digest }, { ...lib, digest: src.digest }] }), same: false },
  { name: 'no contents', spec: spec({ contents: [] }), same: false },
  { name: 'op kind', spec: spec({ op: { kind: 'file', actions: [{ action: 'mkdir', path: '/src' }] } }), same: false },
];

for (const c of cases) {
  test(`key: ${c.name} → ${c.same ? 'same key' : 'different key'}`, () => {
    const v = vertex(c.spec);
    if (c.same) assert.equal(v.key, reference.key);
    else assert.notEqual(v.key, reference.key);
  });
}

test('key: all the "different" cases differ from each other too', () => {
  const keys = cases.filter((c) => !c.same).map((c) => vertex(c.spec).key);
  assert.equal(new Set([...keys, reference.key]).size, keys.length + 1);
});

test('key: a change in an input propagates to every dependent', () => {
  const chain = (digest: string) => {
    let v: Vertex = vertex({ op: { kind: 'image', digest, platform } });
    for (let i = 0; i < 20; i++) v = vertex({ op: exec({ args: ['step', String(i)] }), inputs: [v] });
    return v;
  };
  assert.equal(chain(sha256('a')).key, chain(sha256('a')).key);
  assert.notEqual(chain(sha256('a')).key, chain(sha256('b')).key);
});

test('key: is recomputable from its recorded components', () => {
  assert.equal(keyOf({ ...reference.components, inputs: [...reference.components.inputs], contents: [...reference.components.contents] }), reference.key);
});

test('key: a secret value cannot be put into a definition', () => {
  const withValue = exec({ mounts: [{ type: 'secret', id: 'token', value: 'hunter2' } as never] });
  assert.throws(() => vertex(spec({ op: withValue })), (e: unknown) => e instanceof JettisonError && /unknown field "value"/.test(e.message));
  const envSecret = { ...exec(), secrets: { token: 'hunter2' } } as unknown as Op;
  assert.throws(() => vertex(spec({ op: envSecret })), /unknown field "secrets"/);
  const cacheData = exec({ mounts: [{ type: 'cache', id: 'c', target: '/c', sharing: 'shared', contents: 'x' } as never] });
  assert.throws(() => vertex(spec({ op: cacheData })), /unknown field "contents"/);
});

const invalid: { name: string; op: unknown; inputs?: number; error: RegExp }[] = [
  { name: 'unknown kind', op: { kind: 'teleport' }, error: /op\.kind: expected/ },
  { name: 'exec without inputs', op: exec(), inputs: 0, error: /takes at least 1 input/ },
  { name: 'image with an input', op: { kind: 'image', digest: sha256('x'), platform }, inputs: 1, error: /takes 0 input/ },
  { name: 'bad digest', op: { kind: 'image', digest: 'sha256:xyz', platform }, inputs: 0, error: /op\.digest: expected a sha256 digest/ },
  { name: 'bind mount input out of range', op: exec({ mounts: [{ type: 'bind', input: 3, source: '/', target: '/x', readonly: true }] }), inputs: 1, error: /input index 3 out of range/ },
  { name: 'copy input out of range', op: { kind: 'file', actions: [{ action: 'copy', input: 2, src: ['a'], dest: '/' }] }, inputs: 1, error: /input index 2 out of range/ },
  { name: 'args not strings', op: { ...exec(), args: ['a', 1] }, error: /op\.args: expected an array of strings/ },
  { name: 'unknown mount type', op: exec({ mounts: [{ type: 'nfs' } as never] }), error: /op\.mounts\[0\]\.type/ },
  { name: 'missing cwd', op: { kind: 'exec', args: ['x'], env: [] }, error: /op\.cwd: expected a value/ },
  { name: 'non-finite number in config', op: { kind: 'config', changes: { n: Infinity } }, error: /non-finite/ },
  { name: 'Date in config', op: { kind: 'config', changes: { d: new Date(0) } }, error: /Date object is not JSON/ },
];

for (const c of invalid) {
  test(`definition rejected: ${c.name}`, () => {
    const inputs = Array.from({ length: c.inputs ?? 1 }, () => base);
    assert.throws(() => vertex({ op: c.op as Op, inputs }), c.error);
  });
}

test('definition: later mutation of the caller\'s object does not change a vertex', () => {
  const op = exec();
  const v = vertex({ op, inputs: [base] });
  const before = v.key;
  op.args.push('--oops');
  assert.equal(vertex({ op: v.op, inputs: [base] }).key, before);
  assert.ok(Object.isFrozen(v.op));
});

test('definition: a content needs a sha256 digest and a label of its own', () => {
  assert.throws(() => vertex(spec({ contents: [{ label: 'COPY src/' } as never] })), /content "COPY src\/": expected a sha256 digest/);
  assert.throws(() => vertex(spec({ contents: [{ label: 'COPY src/', digest: 'sha256:short' as never }] })), /expected a sha256 digest/);
  assert.throws(() => vertex(spec({ contents: [{ label: '', digest: sha256('a') }] })), /without a label/);
  assert.throws(() => vertex(spec({ contents: [{ label: 'x', digest: sha256('a') }, { label: 'x', digest: sha256('b') }] })), /duplicate content label/);
});

test('canonical JSON: sorted keys, no whitespace, stable', () => {
  assert.equal(canonicalJSON({ b: 1, a: [true, null, 'x'], c: { z: 0, y: -0 } }), '{"a":[true,null,"x"],"b":1,"c":{"y":0,"z":0}}');
  assert.throws(() => canonicalJSON([1, undefined]), /undefined in an array/);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => canonicalJSON(cyclic), /cycle/);
});

test('topological order: inputs first, shared vertices once, deep chains without recursion', () => {
  let v: Vertex = base;
  for (let i = 0; i < 20_000; i++) v = vertex({ op: exec({ args: [String(i)] }), inputs: [v] });
  const order = topologicalOrder([v, v]);
  assert.equal(order.length, 20_001);
  assert.equal(order[0].key, base.key);
  assert.equal(order.at(-1)!.key, v.key);
  const a = vertex({ op: exec({ args: ['a'] }), inputs: [base] });
  const a2 = vertex({ op: exec({ args: ['a'] }), inputs: [base] });
  const top = vertex({ op: { kind: 'merge' }, inputs: [a, a2] });
  assert.deepEqual(topologicalOrder([top]).map((x) => x.key), [base.key, a.key, top.key]);
});
