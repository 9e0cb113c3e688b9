/**
 * The pure half of layer conversion: which media type an uncompressed layer gets once compressed (a
 * table over OCI, OCI non-distributable and Docker types), and manifests/indexes rewritten to name
 * other blobs with every other field kept.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compressedLayerMediaType, isUncompressedLayer, replaceDescriptors } from '../../../src/image/convert.ts';
import { compressionOf, parseCompression, type Compression } from '../../../src/image/compression.ts';
import { sha256 } from '../../../src/image/digest.ts';
import { MediaType, type Descriptor } from '../../../src/image/types.ts';

const cases: [string, Compression, string | undefined | RegExp][] = [
  [MediaType.OciLayerTar, 'gzip', MediaType.OciLayerGzip],
  [MediaType.OciLayerTar, 'zstd', MediaType.OciLayerZstd],
  [MediaType.OciLayerTar, 'none', undefined],
  ['application/vnd.oci.image.layer.nondistributable.v1.tar', 'gzip', 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip'],
  ['application/vnd.oci.image.layer.nondistributable.v1.tar', 'zstd', 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd'],
  ['application/vnd.oci.image.layer.nondistributable.v1.tar', 'none', undefined],
  ['application/vnd.docker.image.rootfs.diff.tar', 'gzip', MediaType.DockerLayerGzip],
  ['application/vnd.docker.image.rootfs.diff.tar', 'zstd', /Docker schema 2 has no zstd layer type/],
  // Already compressed layers are left as they are, whatever is asked.
  [MediaType.OciLayerGzip, 'zstd', undefined],
  [MediaType.OciLayerZstd, 'gzip', undefined],
  [MediaType.DockerLayerGzip, 'gzip', undefined],
  ['application/vnd.oci.image.config.v1+json', 'gzip', undefined],
];

describe('compressedLayerMediaType', () => {
  for (const [from, compression, want] of cases) {
    test(`${from} with ${compression} → ${want}`, () => {
      if (want instanceof RegExp) assert.throws(() => compressedLayerMediaType(from, compression), want);
      else assert.equal(compressedLayerMediaType(from, compression), want);
    });
  }
});

// The spec's strings spelled out (not the MediaType constants), so a wrong constant fails here.
describe('layer media types: compressionOf and isUncompressedLayer', () => {
  const table: [string, Compression | undefined][] = [
    ['application/vnd.oci.image.layer.v1.tar', 'none'],
    ['application/vnd.oci.image.layer.v1.tar+gzip', 'gzip'],
    ['application/vnd.oci.image.layer.v1.tar+zstd', 'zstd'],
    ['application/vnd.oci.image.layer.nondistributable.v1.tar', 'none'],
    ['application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', 'gzip'],
    ['application/vnd.oci.image.layer.nondistributable.v1.tar+zstd', 'zstd'],
    ['application/vnd.docker.image.rootfs.diff.tar', 'none'],
    ['application/vnd.docker.image.rootfs.diff.tar.gzip', 'gzip'],
    ['application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', 'gzip'],
    // Not layers, or layers this tool cannot read.
    ['application/vnd.docker.image.rootfs.foreign.diff.tar', undefined],
    ['application/vnd.oci.image.layer.v1.tar+bzip2', undefined],
    ['application/vnd.oci.image.config.v1+json', undefined],
    ['', undefined],
  ];
  for (const [mediaType, want] of table) {
    test(`${JSON.stringify(mediaType)} → ${want ?? 'refused'}`, () => {
      if (want === undefined) assert.throws(() => compressionOf(mediaType), /unsupported layer media type/);
      else assert.equal(compressionOf(mediaType), want);
      assert.equal(isUncompressedLayer(mediaType), want === 'none');
    });
  }
});

describe('parseCompression (BuildKit spellings)', () => {
  const table: [string, Compression | RegExp][] = [
    ['gzip', 'gzip'],
    ['zstd', 'zstd'],
    ['uncompressed', 'none'],
    ['none', 'none'],
    ['estargz', /invalid compression "estargz": expected gzip, zstd or uncompressed/],
    ['', /invalid compression ""/],
  ];
  for (const [value, want] of table) {
    test(JSON.stringify(value), () => {
      if (want instanceof RegExp) assert.throws(() => parseCompression(value), want);
      else assert.equal(parseCompression(value), want);
    });
  }
});

describe('replaceDescriptors', () => {
  const config: Descriptor = { mediaType: MediaType.OciConfig, digest: sha256('config'), size: 6 };
  const tar: Descriptor = { mediaType: MediaType.OciLayerTar, digest: sha256('layer a'), size: 7, annotations: { 'org.example.a': '1' } };
  const gz: Descriptor = { mediaType: MediaType.OciLayerGzip, digest: sha256('layer b'), size: 7 };
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config,
    layers: [tar, gz],
    annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
  };
  const bytes = Buffer.from(JSON.stringify(manifest));

  test('a manifest: the named layers change, everything else (config, other layers, annotations) stays', () => {
    const compressed: Descriptor = { mediaType: MediaType.OciLayerGzip, digest: sha256('layer a gz'), size: 30 };
    const out = replaceDescriptors(bytes, MediaType.OciManifest, new Map([[tar.digest, compressed]]));
    assert.ok(out);
    const doc = JSON.parse(out.toString());
    assert.deepEqual(doc, {
      ...manifest,
      layers: [{ mediaType: MediaType.OciLayerGzip, digest: compressed.digest, size: 30, annotations: { 'org.example.a': '1' } }, gz],
    });
    // Key order is kept (mediaType, digest, size, annotations), so the bytes are what a writer would make.
    assert.equal(out.toString(), JSON.stringify({ ...manifest, layers: [{ ...tar, mediaType: compressed.mediaType, digest: compressed.digest, size: 30 }, gz] }));
  });

  test('nothing to replace (or a replacement equal to the entry) gives undefined: the original bytes stand', () => {
    assert.equal(replaceDescriptors(bytes, MediaType.OciManifest, new Map()), undefined);
    assert.equal(replaceDescriptors(bytes, MediaType.OciManifest, new Map([[gz.digest, gz]])), undefined);
    assert.equal(replaceDescriptors(bytes, MediaType.OciManifest, new Map([[config.digest, gz]])), undefined, 'the config is not a layer');
  });

  test('an index: child manifests are replaced, their platform kept', () => {
    const child: Descriptor = { mediaType: MediaType.OciManifest, digest: sha256('m1'), size: 10, platform: { os: 'linux', architecture: 'arm64' } };
    const other: Descriptor = { mediaType: MediaType.OciManifest, digest: sha256('m2'), size: 11, platform: { os: 'linux', architecture: 'amd64' } };
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [child, other] }));
    const out = replaceDescriptors(index, MediaType.OciIndex, new Map([[child.digest, { ...child, digest: sha256('m1 gz'), size: 12 }]]));
    const doc = JSON.parse(out!.toString());
    assert.deepEqual(doc.manifests, [{ ...child, digest: sha256('m1 gz'), size: 12 }, other]);
  });

  test('bytes that are not a manifest are refused', () => {
    assert.throws(() => replaceDescriptors(Buffer.from('{"schemaVersion":2}'), MediaType.OciManifest, new Map()));
  });
});
