import { test } from 'node:test';
import assert from 'node:assert/strict';
import { familiarName, formatReference, parseReference } from '../../../src/image/reference.ts';

const H = 'a'.repeat(64);

// input → [fully qualified, familiar]
const valid: [string, string, string][] = [
  ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
  ['library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['index.docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['user/app', 'docker.io/user/app:latest', 'user/app:latest'],
  ['user/app/sub:v1', 'docker.io/user/app/sub:v1', 'user/app/sub:v1'],
  ['localhost/x', 'localhost/x:latest', 'localhost/x:latest'],
  ['localhost:5000/x', 'localhost:5000/x:latest', 'localhost:5000/x:latest'],
  ['registry.example.com/ns/x:tag', 'registry.example.com/ns/x:tag', 'registry.example.com/ns/x:tag'],
  [`host.io/ns/x:tag@sha256:${H}`, `host.io/ns/x:tag@sha256:${H}`, `host.io/ns/x:tag@sha256:${H}`],
  [`busybox@sha256:${H}`, `docker.io/library/busybox@sha256:${H}`, `busybox@sha256:${H}`],
  ['[::1]:5000/x:1', '[::1]:5000/x:1', '[::1]:5000/x:1'],
  ['a.b-c/x__y.z-w:T_1.0-rc', 'a.b-c/x__y.z-w:T_1.0-rc', 'a.b-c/x__y.z-w:T_1.0-rc'],
  ['host/ns/x', 'docker.io/host/ns/x:latest', 'host/ns/x:latest'],
];

for (const [input, full, familiar] of valid) {
  test(`parse ${input}`, () => {
    const ref = parseReference(input);
    assert.equal(formatReference(ref), full);
    assert.equal(familiarName(ref), familiar);
    assert.equal(familiarName(full), familiar);
  });
}

test('parts are split out', () => {
  assert.deepEqual(parseReference(`localhost:5000/ns/x:t@sha256:${H}`), {
    registry: 'localhost:5000',
    repository: 'ns/x',
    tag: 't',
    digest: `sha256:${H}`,
  });
  assert.deepEqual(parseReference('busybox', { defaultTag: false }), { registry: 'docker.io', repository: 'library/busybox' });
});

const invalid: [string, RegExp][] = [
  ['', /invalid reference format/],
  ['Busybox', /repository name \(library\/Busybox\) must be lowercase/],
  ['busybox:', /invalid reference format/],
  ['busybox:-x', /invalid reference format: invalid tag/],
  [`busybox:${'t'.repeat(129)}`, /invalid tag/],
  ['bu$ybox', /invalid reference format/],
  ['x/', /invalid reference format/],
  ['/x', /invalid reference format/],
  ['a//b', /invalid reference format/],
  ['x@sha256:abc', /invalid (reference|checksum digest) format/],
  ['x@', /invalid reference format/],
  [H, /cannot specify 64-byte hexadecimal strings/],
  ['host.io:port/x', /invalid reference format/],
  ['-host.io/x', /invalid reference format/],
  ['x_/y', /invalid reference format/],
  [`a.io/${'x'.repeat(260)}`, /must not be more than 255 characters/],
];

for (const [input, msg] of invalid) {
  test(`reject ${JSON.stringify(input.length > 40 ? input.slice(0, 40) + '…' : input)}`, () => {
    assert.throws(() => parseReference(input), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'INVALID_REFERENCE');
      assert.match(err.message, msg);
      return true;
    });
  });
}
