import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPlatform, hostPlatform, parsePlatform, selectManifest } from '../../../src/image/platform.ts';
import type { Descriptor, Platform } from '../../../src/image/types.ts';

const parse: [string, string][] = [
  ['linux/amd64', 'linux/amd64'],
  ['linux/x86_64', 'linux/amd64'],
  ['amd64', 'linux/amd64'],
  ['linux/aarch64', 'linux/arm64'],
  ['linux/arm64/v8', 'linux/arm64'],
  ['linux/arm', 'linux/arm/v7'],
  ['linux/arm/v6', 'linux/arm/v6'],
  ['linux/armhf', 'linux/arm/v7'],
  ['Linux/ARM64', 'linux/arm64'],
];
for (const [input, want] of parse) test(`parsePlatform ${input}`, () => assert.equal(formatPlatform(parsePlatform(input)), want));

test('parsePlatform rejects junk', () => assert.throws(() => parsePlatform('linux//x'), /unknown operating system or architecture/));

test('hostPlatform is linux with an OCI architecture name', () => {
  const p = hostPlatform();
  assert.equal(p.os, 'linux');
  assert.ok(!['x64', 'ia32'].includes(p.architecture));
});

const d = (platform: Platform, n: number): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
  size: n,
  platform,
});
const index = {
  schemaVersion: 2 as const,
  manifests: [
    d({ os: 'unknown', architecture: 'unknown' }, 1),
    d({ os: 'linux', architecture: 'amd64' }, 2),
    d({ os: 'linux', architecture: 'arm', variant: 'v6' }, 3),
    d({ os: 'linux', architecture: 'arm', variant: 'v7' }, 4),
    d({ os: 'linux', architecture: 'arm64', variant: 'v8' }, 5),
  ],
};
const select: [string, number | RegExp][] = [
  ['linux/amd64', 2],
  ['linux/arm/v7', 4],
  ['linux/arm/v8', 4],
  ['linux/arm/v6', 3],
  ['linux/arm/v5', /no match for platform in manifest/],
  ['linux/arm64', 5],
  ['linux/s390x', /no match for platform in manifest index: not found/],
];
for (const [want, expect] of select) {
  test(`selectManifest ${want}`, () => {
    if (typeof expect === 'number') assert.equal(selectManifest(index, parsePlatform(want)).size, expect);
    else assert.throws(() => selectManifest(index, parsePlatform(want)), expect);
  });
}
