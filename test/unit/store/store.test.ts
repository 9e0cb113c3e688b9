import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { sha256 } from '../../../src/image/digest.ts';
import { MediaType } from '../../../src/image/types.ts';
import { addRootProvider, fsck, openStore, prune, resolveRoot, type LocalStore } from '../../../src/store/index.ts';
import { lockExclusive, lockShared } from '../../../src/util/lock.ts';

function tempStore(t: { after: (fn: () => void) => void }): LocalStore {
  const dir = mkdtempSync(join(tmpdir(), 'jettison-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return openStore(join(dir, 'root'));
}

function files(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

async function* failingSource(): AsyncGenerator<Uint8Array> {
  yield Buffer.from('partial data');
  throw new Error('source broke');
}

test('ingest stores content under its digest and reads it back', async (t) => {
  const s = tempStore(t);
  const data = Buffer.alloc(300_000, 7);
  const d = await s.ingest(Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]), { mediaType: 'x/y' });
  assert.deepEqual(d, { mediaType: 'x/y', digest: sha256(data), size: data.length });
  assert.equal(await s.has(d.digest), true);
  assert.equal(await s.size(d.digest), data.length);
  assert.ok((await s.readBytes(d.digest)).equals(data));
  const chunks: Buffer[] = [];
  for await (const c of s.open(d.digest)) chunks.push(c as Buffer);
  assert.ok(Buffer.concat(chunks).equals(data));
  assert.deepEqual(files(s.tmpDir), []);
});

// Large blobs are flushed while being written (an fdatasync in flight every 16 MiB): the content is
// still exactly what was streamed, and a source failing with a flush in flight leaves nothing behind.
async function* chunks(total: number, failAt?: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i * MiB < total; i++) {
    if (failAt !== undefined && i * MiB >= failAt) throw new Error('source broke late');
    yield Buffer.alloc(MiB, i % 251);
  }
}
const MiB = 1024 * 1024;

test('a 40 MiB blob is flushed while written and reads back byte for byte', async (t) => {
  const s = tempStore(t);
  const h = createHash('sha256');
  for await (const c of chunks(40 * MiB)) h.update(c);
  // Counts the fdatasync calls made on file handles meanwhile (every 16 MiB: at least two for 40 MiB).
  const probe = await open(join(s.root, '..', 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
  await probe.close();
  const original = proto.datasync;
  let flushes = 0;
  proto.datasync = function (this: unknown) {
    flushes++;
    return original.call(this);
  };
  t.after(() => {
    proto.datasync = original;
  });
  const d = await s.ingest(chunks(40 * MiB), { digest: `sha256:${h.digest('hex')}`, size: 40 * MiB });
  proto.datasync = original;
  assert.ok(flushes >= 2, `flushed while writing (${flushes} fdatasync calls)`);
  assert.equal(await s.size(d.digest), 40 * MiB);
  const back = createHash('sha256');
  for await (const c of s.open(d.digest)) back.update(c as Buffer);
  assert.equal(`sha256:${back.digest('hex')}`, d.digest);
  assert.deepEqual(files(s.tmpDir), []);
});

test('a large source failing while a flush is in flight leaves nothing behind', async (t) => {
  const s = tempStore(t);
  await assert.rejects(s.ingest(chunks(64 * MiB, 17 * MiB)), /source broke late/);
  assert.deepEqual(files(s.blobDir), []);
  assert.deepEqual(files(s.tmpDir), []);
});

test('a wrong digest is rejected and nothing is stored', async (t) => {
  const s = tempStore(t);
  const wrong = sha256('something else');
  await assert.rejects(s.ingest(Readable.from([Buffer.from('hello')]), { digest: wrong }), { code: 'DIGEST_MISMATCH' });
  assert.equal(await s.has(wrong), false);
  assert.equal(await s.has(sha256('hello')), false);
  assert.deepEqual(files(s.blobDir), []);
  assert.deepEqual(files(s.tmpDir), []);
});

test('a wrong size is rejected and nothing is stored', async (t) => {
  const s = tempStore(t);
  await assert.rejects(s.ingest(Readable.from([Buffer.from('hello')]), { size: 4 }), { code: 'SIZE_MISMATCH' });
  await assert.rejects(s.ingest(Readable.from([Buffer.from('hello')]), { size: 6 }), { code: 'SIZE_MISMATCH' });
  assert.deepEqual(files(s.blobDir), []);
  assert.deepEqual(files(s.tmpDir), []);
});

test('a failing source leaves nothing behind', async (t) => {
  const s = tempStore(t);
  await assert.rejects(s.ingest(failingSource()), /source broke/);
  assert.deepEqual(files(s.blobDir), []);
  assert.deepEqual(files(s.tmpDir), []);
});

test('ingesting present content verifies it without rewriting', async (t) => {
  const s = tempStore(t);
  const d = await s.putBytes('abc', 'text/plain');
  const again = await s.ingest(Readable.from([Buffer.from('abc')]), { digest: d.digest, size: 3 });
  assert.equal(again.digest, d.digest);
  await assert.rejects(s.ingest(Readable.from([Buffer.from('abd')]), { digest: d.digest }), { code: 'DIGEST_MISMATCH' });
  assert.equal((await s.readBytes(d.digest)).toString(), 'abc');
});

test('refs: set, get, list, delete; a ref to a missing blob is refused', async (t) => {
  const s = tempStore(t);
  const m = await s.putJSON({ schemaVersion: 2 }, MediaType.OciManifest);
  await s.setRef('docker.io/library/b:1', m);
  await s.setRef('docker.io/library/a:1', m);
  assert.deepEqual((await s.getRef('docker.io/library/a:1'))?.target, m);
  assert.equal(await s.getRef('docker.io/library/c:1'), undefined);
  assert.deepEqual((await s.listRefs()).map((r) => r.name), ['docker.io/library/a:1', 'docker.io/library/b:1']);
  await assert.rejects(s.setRef('docker.io/library/x:1', { ...m, digest: sha256('absent') }), { code: 'NOT_FOUND' });
  await assert.rejects(s.setRef('docker.io/library/x:1', { ...m, size: m.size + 1 }), { code: 'SIZE_MISMATCH' });
  assert.equal(await s.deleteRef('docker.io/library/a:1'), true);
  assert.equal(await s.deleteRef('docker.io/library/a:1'), false);
  assert.deepEqual((await s.listRefs()).map((r) => r.name), ['docker.io/library/b:1']);
  assert.deepEqual(files(s.tmpDir), []);
});

async function image(s: LocalStore, tag: string | undefined, layerText: string) {
  const layer = await s.putBytes(layerText, MediaType.OciLayerTar);
  const config = await s.putJSON({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } }, MediaType.OciConfig);
  const manifest = await s.putJSON({ schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [layer] }, MediaType.OciManifest);
  if (tag) await s.setRef(tag, manifest);
  return { layer, config, manifest };
}

test('prune keeps what refs, roots and providers reach and removes the rest', async (t) => {
  const s = tempStore(t);
  const kept = await image(s, 'docker.io/library/kept:1', 'layer kept');
  const shared = await s.putBytes('shared layer', MediaType.OciLayerTar);
  const idxTarget = await image(s, undefined, 'index child');
  const index = await s.putJSON({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [idxTarget.manifest] }, MediaType.OciIndex);
  await s.setRef('docker.io/library/multi:1', index);
  const gone = await image(s, undefined, 'layer gone');
  const byRootFile = await s.putBytes('root file', 'x/y');
  writeFileSync(join(s.rootsDir, 'cache'), `${byRootFile.digest}\n`);
  const byProvider = await s.putBytes('provider', 'x/y');
  const remove = addRootProvider(() => [byProvider.digest]);
  t.after(remove);
  // While this process's lease is held, nothing it ingested may go.
  assert.deepEqual((await prune(s)).removed, []);
  await s.releaseLease();
  const r = await prune(s);
  assert.deepEqual(new Set(r.removed), new Set([gone.layer.digest, gone.config.digest, gone.manifest.digest, shared.digest]));
  for (const d of [kept.layer, kept.config, kept.manifest, idxTarget.layer, idxTarget.config, idxTarget.manifest, index, byRootFile, byProvider]) {
    assert.equal(await s.has(d.digest), true, `${d.digest} kept`);
  }
  assert.equal(r.reclaimedBytes, 'layer gone'.length + 'shared layer'.length + gone.config.size + gone.manifest.size);
  assert.deepEqual((await fsck(s)).problems, []);
});

test('fsck finds corrupt blobs, missing layers and bad refs; removes stale temp files', async (t) => {
  const s = tempStore(t);
  const img = await image(s, 'docker.io/library/x:1', 'layer');
  assert.deepEqual((await fsck(s)).problems, []);
  // A dead owner's temp file (pid 999999999 cannot exist) is cleaned, not reported.
  writeFileSync(join(s.tmpDir, '999999999.1.abc.ingest'), 'half');
  const cfgPath = s.blobPath(img.config.digest);
  chmodSync(cfgPath, 0o644);
  writeFileSync(cfgPath, 'tampered');
  rmSync(s.blobPath(img.layer.digest));
  writeFileSync(join(s.refDir, 'junk.json'), '{not json');
  const r = await fsck(s);
  assert.equal(r.staleFiles, 1);
  assert.deepEqual(files(s.tmpDir), []);
  assert.equal(r.problems.length, 4, r.problems.join('\n'));
  assert.match(r.problems.join('\n'), new RegExp(`blob ${img.config.digest}: corrupt`));
  assert.match(r.problems.join('\n'), /ref docker.io\/library\/x:1 → config: .* is 8 bytes, descriptor says/);
  assert.match(r.problems.join('\n'), new RegExp(`layer 0: ${img.layer.digest} is missing`));
  assert.match(r.problems.join('\n'), /refs\/junk.json: unreadable or malformed ref/);
});

test('the lock: exclusive waits for shared holders; shared waits for the exclusive holder', async (t) => {
  const s = tempStore(t);
  const dir = s.lockDir;
  const shared = await lockShared(dir);
  await assert.rejects(lockExclusive(dir, { timeoutMs: 100 }), { code: 'LOCKED' });
  const shared2 = await lockShared(dir, { timeoutMs: 100 });
  await shared.release();
  await shared2.release();
  const ex = await lockExclusive(dir, { timeoutMs: 1000 });
  await assert.rejects(lockShared(dir, { timeoutMs: 100 }), { code: 'LOCKED' });
  await assert.rejects(lockExclusive(dir, { timeoutMs: 100 }), { code: 'LOCKED' });
  const order: string[] = [];
  const waiting = lockShared(dir).then((h) => {
    order.push('shared');
    return h;
  });
  await new Promise((r) => setTimeout(r, 50));
  order.push('release');
  await ex.release();
  await (await waiting).release();
  assert.deepEqual(order, ['release', 'shared']);
  // A dead process's lock file does not block anyone.
  writeFileSync(join(dir, 'X.999999999.1.dead'), '');
  await (await lockShared(dir, { timeoutMs: 500 })).release();
  assert.deepEqual(files(dir), []);
});

const roots: [string, { root?: string }, NodeJS.ProcessEnv, string][] = [
  ['--root wins', { root: '/a' }, { JETTISON_ROOT: '/b', XDG_DATA_HOME: '/c', HOME: '/h' }, '/a'],
  ['relative --root', { root: 'rel' }, {}, '/cwd/rel'],
  ['JETTISON_ROOT', {}, { JETTISON_ROOT: '/b', XDG_DATA_HOME: '/c', HOME: '/h' }, '/b'],
  ['XDG_DATA_HOME', {}, { XDG_DATA_HOME: '/c', HOME: '/h' }, '/c/jettison'],
  ['HOME', {}, { HOME: '/h' }, '/h/.local/share/jettison'],
];
for (const [name, opts, env, want] of roots) {
  test(`resolveRoot: ${name}`, () => assert.equal(resolveRoot({ ...opts, cwd: '/cwd' }, env), want));
}
