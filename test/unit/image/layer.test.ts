/**
 * Layer blobs: encodeLayer's one pass (diffID of the tar, blob digest of the compressed bytes, into
 * a real content store), checked against independent hashes and system decompressors; decodeLayer by
 * media type; createLayer/unpackLayer round trips with diffID verification; failures leave no blob.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DigestMismatchError } from '../../../src/errors.ts';
import { compressionOf, createLayer, decodeLayer, diffIDOf, encodeLayer, unpackLayer, zstdAvailable, type Compression } from '../../../src/image/layer.ts';
import { writeLayerTar } from '../../../src/image/tar/index.ts';
import { MediaType } from '../../../src/image/types.ts';
import { openStore } from '../../../src/store/index.ts';
import { snapshotTree } from '../../support/trees.ts';

const tmp = mkdtempSync(join(tmpdir(), 'jettison-layer-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const store = openStore(join(tmp, 'store'));

function sha(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

async function collect(r: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function blobCount(): number {
  const dir = join(store.root, 'blobs', 'sha256');
  return existsSync(dir) ? readdirSync(dir).length : 0;
}

const tree = join(tmp, 'tree');
mkdirSync(join(tree, 'etc'), { recursive: true });
writeFileSync(join(tree, 'etc/os-release'), 'ID=test\n');
writeFileSync(join(tree, 'random.bin'), createHash('sha512').update('seed').digest().toString('hex').repeat(5000));
symlinkSync('etc/os-release', join(tree, 'link'));

const cases: { compression: Compression; mediaType: string; decompress: string[] }[] = [
  { compression: 'gzip', mediaType: MediaType.OciLayerGzip, decompress: ['gzip', '-dc'] },
  { compression: 'zstd', mediaType: MediaType.OciLayerZstd, decompress: ['zstd', '-dcq'] },
  { compression: 'none', mediaType: MediaType.OciLayerTar, decompress: ['cat'] },
];

describe('encodeLayer', () => {
  test('zstd is detected on this Node', () => {
    assert.equal(zstdAvailable(), true);
  });

  for (const c of cases) {
    test(`${c.compression}: one pass gives the diffID and the stored blob's digest`, async () => {
      const tar = await collect(writeLayerTar({ type: 'dir', dir: tree }));
      const { descriptor, diffID } = await encodeLayer(Readable.from([tar]), { compression: c.compression }, store);
      assert.equal(descriptor.mediaType, c.mediaType);
      assert.equal(diffID, sha(tar));
      const blobFile = await store.pathOf(descriptor.digest);
      const blob = readFileSync(blobFile);
      assert.equal(descriptor.digest, sha(blob));
      assert.equal(descriptor.size, blob.length);
      if (c.compression !== 'none') assert.ok(blob.length < tar.length, 'compressed');
      // a system decompressor and decodeLayer both give the tar back
      const [cmd, ...args] = c.decompress;
      assert.equal(sha(execFileSync(cmd, [...args, blobFile], { maxBuffer: 1 << 28 })), diffID);
      assert.equal(sha(await collect(decodeLayer(store.open(descriptor.digest), descriptor.mediaType))), diffID);
      // deterministic: the same tree, written and compressed again, is the same blob
      const again = await createLayer({ type: 'dir', dir: tree }, { compression: c.compression }, store);
      assert.deepEqual(again, { descriptor, diffID });
    });
  }

  test('a failing source rejects and leaves no blob', async () => {
    const before = blobCount();
    async function* failing() {
      yield Buffer.alloc(100_000, 1);
      throw new Error('source broke');
    }
    await assert.rejects(encodeLayer(Readable.from(failing()), { compression: 'gzip' }, store), /source broke/);
    assert.equal(blobCount(), before);
  });

  test('compression level changes the blob, not the diffID', async () => {
    const a = await createLayer({ type: 'dir', dir: tree }, { compression: 'gzip', level: 1 }, store);
    const b = await createLayer({ type: 'dir', dir: tree }, { compression: 'gzip', level: 9 }, store);
    assert.equal(a.diffID, b.diffID);
    assert.notEqual(a.descriptor.digest, b.descriptor.digest);
  });
});

describe('decodeLayer and unpackLayer', () => {
  const mediaTypes: [string, Compression][] = [
    [MediaType.OciLayerGzip, 'gzip'],
    [MediaType.DockerLayerGzip, 'gzip'],
    ['application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', 'gzip'],
    [MediaType.OciLayerZstd, 'zstd'],
    [MediaType.OciLayerTar, 'none'],
  ];
  for (const [mt, c] of mediaTypes) {
    test(`media type ${mt} → ${c}`, () => {
      assert.equal(compressionOf(mt), c);
    });
  }

  test('an unknown media type is refused', () => {
    assert.throws(() => decodeLayer(Readable.from([]), 'application/vnd.oci.image.layer.v1.tar+bzip2'), /unsupported layer media type/);
  });

  test('Docker gzip layers decode (multi-member gzip as written by pigz and others)', async () => {
    const tar = await collect(writeLayerTar({ type: 'dir', dir: tree }));
    const half = tar.length >> 1;
    const gz = Buffer.concat([execFileSync('gzip', ['-c'], { input: tar.subarray(0, half) }), execFileSync('gzip', ['-c'], { input: tar.subarray(half) })]);
    assert.equal(sha(await collect(decodeLayer(Readable.from([gz]), MediaType.DockerLayerGzip))), sha(tar));
  });

  for (const c of cases) {
    test(`${c.compression}: createLayer → unpackLayer gives the tree back and checks the diffID`, async () => {
      const { descriptor, diffID } = await createLayer({ type: 'dir', dir: tree }, { compression: c.compression }, store);
      const out = join(tmp, `unpacked-${c.compression}`);
      const res = await unpackLayer(store.open(descriptor.digest), descriptor.mediaType, out, { mode: 'merge', diffID });
      assert.equal(res.diffID, diffID);
      assert.deepEqual(snapshotTree(out), snapshotTree(tree));
      const wrong = `sha256:${'0'.repeat(64)}`;
      await assert.rejects(
        unpackLayer(store.open(descriptor.digest), descriptor.mediaType, join(tmp, `wrong-${c.compression}`), { mode: 'merge', diffID: wrong }),
        (err: unknown) => err instanceof DigestMismatchError && err.actual === diffID,
      );
    });
  }

  test('a corrupt gzip blob fails the unpack', async () => {
    const tar = await collect(writeLayerTar({ type: 'dir', dir: tree }));
    const gz = execFileSync('gzip', ['-c'], { input: tar });
    gz[gz.length - 6] ^= 0xff; // the CRC trailer
    await assert.rejects(unpackLayer(Readable.from([gz]), MediaType.OciLayerGzip, join(tmp, 'corrupt'), { mode: 'merge' }), /incorrect data check|unexpected end|invalid/i);
  });
});

describe('diffIDOf', () => {
  /** Bytes that compress well but not to nothing. */
  const input = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7919) % 251));
  // Blobs made by the system's tools, so the check does not rest on our own compressor.
  const made: { compression: Compression; blob: (tar: Buffer) => Buffer }[] = [
    { compression: 'gzip', blob: (tar) => execFileSync('gzip', ['-c'], { input: tar }) },
    { compression: 'zstd', blob: (tar) => execFileSync('zstd', ['-cq'], { input: tar }) },
    { compression: 'none', blob: (tar) => tar },
  ];
  for (const m of made) {
    test(`${m.compression}: the sha256 of the decompressed blob`, async () => {
      const tar = await collect(writeLayerTar({ type: 'dir', dir: tree }));
      const blob = m.blob(tar);
      if (m.compression !== 'none') assert.notEqual(sha(blob), sha(tar));
      assert.equal(await diffIDOf(Readable.from([blob]), m.compression), sha(tar));
    });
  }

  const broken: [string, () => Buffer, Compression, RegExp][] = [
    ['gzip with a wrong CRC', () => {
      const gz = execFileSync('gzip', ['-c'], { input: Buffer.alloc(50_000, 'a') });
      gz[gz.length - 6] ^= 0xff;
      return gz;
    }, 'gzip', /incorrect data check/i],
    ['truncated gzip', () => execFileSync('gzip', ['-c'], { input: Buffer.alloc(50_000, 'a') }).subarray(0, 20), 'gzip', /unexpected end/i],
    ['gzip read as zstd', () => execFileSync('gzip', ['-c'], { input: Buffer.alloc(50_000, 'a') }), 'zstd', /unknown|prefix|zstd/i],
  ];
  for (const [what, blob, compression, err] of broken) {
    test(`${what} rejects`, async () => {
      await assert.rejects(diffIDOf(Readable.from([blob()]), compression), err);
    });
  }

  test('truncated zstd: Node 24.9 decodes it without an error (nodejs/node#64592), but to another diffID', async () => {
    const data = input(500_000);
    const z = execFileSync('zstd', ['-cq'], { input: data });
    assert.notEqual(await diffIDOf(Readable.from([z.subarray(0, z.length >> 1)]), 'zstd'), sha(data));
    assert.equal(await diffIDOf(Readable.from([z]), 'zstd'), sha(data));
  });

  test('a failing stream rejects', async () => {
    async function* failing() {
      yield Buffer.alloc(1000);
      throw new Error('read broke');
    }
    await assert.rejects(diffIDOf(Readable.from(failing()), 'none'), /read broke/);
  });
});
