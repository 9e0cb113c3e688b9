/**
 * Compressed variants of uncompressed layers, on a real store: a layer is compressed once (checked with
 * the system's gzip/zstd), remembered, reused without touching the blob; the level reaches the
 * compressor; records that name a missing, resized or unreadable blob are not trusted; a corrupt
 * source is refused; concurrent callers share one compression; convertImage rewrites manifests and
 * indexes; prune drops variants and their records; fsck catches a record that lies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { sha256 } from '../../../src/image/digest.ts';
import { encodeLayer } from '../../../src/image/layer.ts';
import { createIndex } from '../../../src/image/manifest.ts';
import { MediaType, type Descriptor } from '../../../src/image/types.ts';
import { compressLayer, compressLayers, convertImage, fsck, openStore, prune, writeImage, type LocalStore } from '../../../src/store/index.ts';

function tempStore(t: { after: (fn: () => void) => void }): LocalStore {
  const dir = mkdtempSync(join(tmpdir(), 'jettison-variants-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return openStore(join(dir, 'root'));
}

/** A real layer tar made by GNU tar (compressible, a few hundred KB). */
function layerTar(seed: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'jettison-variants-tree-'));
  try {
    for (let i = 0; i < 20; i++) writeFileSync(join(dir, `f${i}.txt`), `${seed} line ${i}\n`.repeat(500 + i));
    writeFileSync(join(dir, 'noise.bin'), createHash('sha512').update(seed).digest());
    return execFileSync('tar', ['-C', dir, '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-cf', '-', '.'], { maxBuffer: 1 << 26 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function storeLayer(s: LocalStore, tar: Buffer): Promise<Descriptor> {
  const { descriptor, diffID } = await encodeLayer(Readable.from([tar]), { compression: 'none' }, s);
  assert.equal(descriptor.digest, diffID, 'an uncompressed layer is named by its diffID');
  assert.equal(descriptor.mediaType, MediaType.OciLayerTar);
  return descriptor;
}

const variantsDir = (s: LocalStore) => join(s.root, 'variants');

test('gzip: compressed once with the system gzip agreeing, remembered, reused with the blob untouched', async (t) => {
  const s = tempStore(t);
  const tar = layerTar('a');
  const layer = await storeLayer(s, tar);
  const first = await compressLayer(s, layer, 'gzip');
  assert.equal(first.reused, false);
  assert.equal(first.descriptor.mediaType, MediaType.OciLayerGzip);
  assert.ok(first.descriptor.size < tar.length / 4, 'compressed');
  const blob = s.blobPath(first.descriptor.digest);
  assert.ok(execFileSync('gzip', ['-dc', blob], { maxBuffer: 1 << 26 }).equals(tar), 'gzip -d gives the layer back');
  assert.deepEqual(readdirSync(variantsDir(s)), [`${layer.digest.slice(7)}.gzip`]);
  assert.deepEqual(JSON.parse(readFileSync(join(variantsDir(s), `${layer.digest.slice(7)}.gzip`), 'utf8')), { digest: first.descriptor.digest, size: first.descriptor.size });

  const mtime = statSync(blob).mtimeMs;
  const blobsBefore = readdirSync(join(s.root, 'blobs', 'sha256')).length;
  await new Promise((r) => setTimeout(r, 20));
  const again = await compressLayer(openStore(s.root), layer, 'gzip');
  assert.equal(again.reused, true);
  assert.deepEqual(again.descriptor, first.descriptor);
  assert.equal(statSync(blob).mtimeMs, mtime, 'the variant blob was not written again');
  assert.equal(readdirSync(join(s.root, 'blobs', 'sha256')).length, blobsBefore);

  // A level of its own is a variant of its own.
  const best = await compressLayer(s, layer, 'gzip', { level: 9 });
  assert.equal(best.reused, false);
  assert.ok(existsSync(join(variantsDir(s), `${layer.digest.slice(7)}.gzip-9`)));
  assert.equal((await compressLayer(s, layer, 'gzip', { level: 9 })).reused, true);
  assert.equal((await fsck(s)).problems.length, 0);
});

test('zstd: the system zstd decompresses the variant to the layer', async (t) => {
  const s = tempStore(t);
  const tar = layerTar('z');
  const layer = await storeLayer(s, tar);
  const r = await compressLayer(s, layer, 'zstd');
  assert.equal(r.descriptor.mediaType, MediaType.OciLayerZstd);
  assert.ok(execFileSync('zstd', ['-dcq', s.blobPath(r.descriptor.digest)], { maxBuffer: 1 << 26 }).equals(tar));
  assert.notEqual((await compressLayer(s, layer, 'gzip')).descriptor.digest, r.descriptor.digest, 'gzip and zstd are separate variants');
});

// The level reaches the compressor: the fastest level gives a larger blob than the best, both give
// the layer back (the system's tools), and each level is a variant of its own, apart from the default.
const levels: { compression: 'gzip' | 'zstd'; fast: number; best: number; tool: string[] }[] = [
  { compression: 'gzip', fast: 1, best: 9, tool: ['gzip', '-dc'] },
  { compression: 'zstd', fast: 1, best: 19, tool: ['zstd', '-dcq'] },
];
for (const l of levels) {
  test(`${l.compression} level ${l.fast} vs ${l.best}: a larger blob at ${l.fast}, both decompress to the layer`, async (t) => {
    const s = tempStore(t);
    const tar = layerTar(`level ${l.compression}`);
    const layer = await storeLayer(s, tar);
    const fast = await compressLayer(s, layer, l.compression, { level: l.fast });
    const best = await compressLayer(s, layer, l.compression, { level: l.best });
    const dflt = await compressLayer(s, layer, l.compression);
    assert.ok(fast.descriptor.size > best.descriptor.size, `${fast.descriptor.size} > ${best.descriptor.size}`);
    assert.equal(new Set([fast, best, dflt].map((r) => r.descriptor.digest)).size, 3, 'three variants');
    for (const r of [fast, best]) {
      assert.equal(r.reused, false);
      assert.ok(execFileSync(l.tool[0], [...l.tool.slice(1), s.blobPath(r.descriptor.digest)], { maxBuffer: 1 << 26 }).equals(tar));
    }
    const hex = layer.digest.slice(7);
    assert.deepEqual(readdirSync(variantsDir(s)).sort(), [`${hex}.${l.compression}`, `${hex}.${l.compression}-${l.best}`, `${hex}.${l.compression}-${l.fast}`].sort());
  });
}

test('layers already compressed are returned as they are', async (t) => {
  const s = tempStore(t);
  const { descriptor } = await encodeLayer(Readable.from([layerTar('g')]), { compression: 'gzip' }, s);
  const r = await compressLayer(s, descriptor, 'zstd');
  assert.deepEqual(r.descriptor, descriptor);
  assert.equal(existsSync(variantsDir(s)), false, 'nothing recorded');
});

test('a record is used only when its blob is present with its size; otherwise the layer is compressed again', async (t) => {
  const s = tempStore(t);
  const layer = await storeLayer(s, layerTar('r'));
  const first = await compressLayer(s, layer, 'gzip');
  const record = join(variantsDir(s), `${layer.digest.slice(7)}.gzip`);

  // The blob was removed (as prune does): made again, same bytes (gzip output is deterministic).
  unlinkSync(s.blobPath(first.descriptor.digest));
  const remade = await compressLayer(s, layer, 'gzip');
  assert.equal(remade.reused, false);
  assert.deepEqual(remade.descriptor, first.descriptor);

  // The record names a blob of another size (e.g. another blob's digest): not trusted.
  const other = await s.putBytes('something else', 'x/y');
  writeFileSync(record, JSON.stringify({ digest: other.digest, size: first.descriptor.size }));
  const afterLie = await compressLayer(s, layer, 'gzip');
  assert.equal(afterLie.reused, false);
  assert.equal(afterLie.descriptor.digest, first.descriptor.digest);

  // A torn or garbage record counts as none.
  for (const text of ['{"digest":"sha256:', 'not json', JSON.stringify({ digest: 'md5:x', size: 1 })]) {
    writeFileSync(record, text);
    assert.equal((await compressLayer(s, layer, 'gzip')).reused, false, text);
  }
  assert.deepEqual(JSON.parse(readFileSync(record, 'utf8')), { digest: first.descriptor.digest, size: first.descriptor.size }, 'rewritten whole');
});

test('a corrupt source blob is refused and nothing is recorded', async (t) => {
  const s = tempStore(t);
  const layer = await storeLayer(s, layerTar('c'));
  const path = s.blobPath(layer.digest);
  chmodSync(path, 0o644);
  const bytes = readFileSync(path);
  bytes[600] ^= 0xff;
  writeFileSync(path, bytes);
  await assert.rejects(compressLayer(s, layer, 'gzip'), { code: 'DIGEST_MISMATCH' });
  assert.equal(existsSync(join(variantsDir(s), `${layer.digest.slice(7)}.gzip`)), false);
});

test('concurrent callers share one compression; compressLayers keeps the order', async (t) => {
  const s = tempStore(t);
  const a = await storeLayer(s, layerTar('1'));
  const b = await storeLayer(s, layerTar('2'));
  const results = await Promise.all([compressLayer(s, a, 'gzip'), compressLayer(s, a, 'gzip'), compressLayer(s, a, 'gzip')]);
  assert.equal(results.filter((r) => !r.reused).length, 3, 'all three got the one fresh result');
  assert.ok(results.every((r) => r.descriptor.digest === results[0].descriptor.digest));
  const gz = await encodeLayer(Readable.from([layerTar('3')]), { compression: 'gzip' }, s);
  const seen: string[] = [];
  const out = await compressLayers(s, [b, gz.descriptor, a], 'gzip', { concurrency: 2, onLayer: (l) => seen.push(l.digest) });
  assert.equal(out[0].mediaType, MediaType.OciLayerGzip);
  assert.deepEqual(out[1], gz.descriptor);
  assert.deepEqual(out[2], results[0].descriptor);
  assert.deepEqual(seen.sort(), [a.digest, b.digest].sort(), 'only the uncompressed ones are reported');
});

test('convertImage: a manifest and an index rewritten to the compressed layers; nothing to do gives the target back', async (t) => {
  const s = tempStore(t);
  const a = await storeLayer(s, layerTar('m1'));
  const gz = (await encodeLayer(Readable.from([layerTar('m2')]), { compression: 'gzip' }, s)).descriptor;
  const config = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers' as const, diff_ids: [a.digest, sha256('whatever')] }, config: {} };
  const img = await writeImage(s, config, [a, gz], 'local/app:1');
  const converted = await convertImage(s, img.manifest, 'gzip');
  assert.notEqual(converted.digest, img.manifest.digest);
  assert.equal(converted.mediaType, MediaType.OciManifest);
  const m = await s.readJSON<{ config: Descriptor; layers: Descriptor[] }>(converted.digest);
  assert.deepEqual(m.config, img.config, 'same config: same image ID, same diff_ids');
  assert.equal(m.layers[0].mediaType, MediaType.OciLayerGzip);
  assert.deepEqual(m.layers[1], gz);
  assert.deepEqual(await convertImage(s, converted, 'gzip'), converted, 'already compressed');
  assert.deepEqual(await convertImage(s, img.manifest, 'none'), img.manifest);

  const index = await s.putJSON(createIndex([{ ...img.manifest, platform: { os: 'linux', architecture: 'amd64' } }, { mediaType: MediaType.OciManifest, digest: sha256('absent'), size: 3, platform: { os: 'linux', architecture: 'arm64' } }]), MediaType.OciIndex);
  const ci = await convertImage(s, { ...index, annotations: { note: 'kept' } }, 'gzip');
  assert.equal(ci.annotations?.note, 'kept');
  const parsed = await s.readJSON<{ manifests: Descriptor[] }>(ci.digest);
  assert.equal(parsed.manifests[0].digest, converted.digest);
  assert.deepEqual(parsed.manifests[0].platform, { os: 'linux', architecture: 'amd64' });
  assert.equal(parsed.manifests[1].digest, sha256('absent'), 'a manifest not in the store is left as it is');
});

test('prune removes an unreferenced variant and its record; the next use makes it again', async (t) => {
  const s = tempStore(t);
  const layer = await storeLayer(s, layerTar('p'));
  const config = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers' as const, diff_ids: [layer.digest] }, config: {} };
  await writeImage(s, config, [layer], 'local/p:1');
  const v = await compressLayer(s, layer, 'gzip');
  await s.releaseLease();
  const r = await prune(s);
  assert.ok(r.removed.includes(v.descriptor.digest), 'the variant blob is not a root');
  assert.ok(!r.removed.includes(layer.digest), 'the layer is kept');
  assert.equal(existsSync(join(variantsDir(s), `${layer.digest.slice(7)}.gzip`)), false, 'record dropped');
  assert.equal((await compressLayer(s, layer, 'gzip')).reused, false);
});

test('a variant found by a push is leased: a prune meanwhile leaves it alone', async (t) => {
  const s = tempStore(t);
  const layer = await storeLayer(s, layerTar('l'));
  await writeImage(s, { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] }, config: {} }, [layer], 'local/l:1');
  const v = await compressLayer(s, layer, 'gzip');
  await s.releaseLease();
  const pusher = openStore(s.root);
  assert.equal((await compressLayer(pusher, layer, 'gzip')).reused, true);
  const r = await prune(openStore(s.root));
  assert.ok(!r.removed.includes(v.descriptor.digest));
  await pusher.releaseLease();
  assert.ok((await prune(openStore(s.root))).removed.includes(v.descriptor.digest));
});

test('fsck reports a record whose blob does not decompress to its layer', async (t) => {
  const s = tempStore(t);
  const a = await storeLayer(s, layerTar('fa'));
  const b = await storeLayer(s, layerTar('fb'));
  const vb = await compressLayer(s, b, 'gzip');
  await compressLayer(s, a, 'gzip');
  assert.deepEqual((await fsck(s)).problems, []);
  const record = join(variantsDir(s), `${a.digest.slice(7)}.gzip`);
  writeFileSync(record, JSON.stringify({ digest: vb.descriptor.digest, size: vb.descriptor.size }));
  writeFileSync(join(variantsDir(s), 'junk'), 'x');
  const problems = (await fsck(s)).problems;
  assert.equal(problems.length, 2, problems.join('\n'));
  assert.match(problems.join('\n'), new RegExp(`decompresses to ${b.digest}, not ${a.digest}`));
  assert.match(problems.join('\n'), /variants\/junk: not a variant record name/);
});
