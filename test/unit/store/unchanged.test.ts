/**
 * A rebuild that changes nothing writes nothing to the store: storing bytes that are already there
 * (a cached build's image config and manifest) makes no temp file and no fsync, and pointing a ref
 * where it already points leaves its file alone. Watched through the directories' and the ref
 * file's change times, which any create, rename or unlink in them moves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore } from '../../../src/store/index.ts';

function tempRoot(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'jettison-store-unchanged-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'root');
}

/** Change times (ns) of the store's tmp/, blobs/ and refs/ directories and of each given file. */
function times(root: string, ...files: string[]): bigint[] {
  return [join(root, 'tmp'), join(root, 'blobs', 'sha256'), join(root, 'refs'), ...files].map((p) => statSync(p, { bigint: true }).ctimeNs);
}

test('putBytes of content already stored touches neither tmp/ nor blobs/, and gives the same descriptor', async (t) => {
  const root = tempRoot(t);
  const store = openStore(root);
  const first = await store.putJSON({ hello: 'world' }, 'application/vnd.oci.image.config.v1+json');
  const before = times(root);
  await sleep(20);
  const again = await store.putJSON({ hello: 'world' }, 'application/vnd.oci.image.config.v1+json');
  assert.deepEqual(again, first);
  assert.deepEqual(times(root), before);
  assert.equal(await store.retain(first.digest), true);
  // New content still goes through tmp/ into blobs/.
  await store.putJSON({ hello: 'again' }, 'application/json');
  assert.notDeepEqual(times(root), before);
});

test('setRef to the target a ref already has leaves the ref file alone; another target replaces it', async (t) => {
  const root = tempRoot(t);
  const store = openStore(root);
  const a = await store.putBytes('a', 'application/octet-stream');
  const b = await store.putBytes('b', 'application/octet-stream');
  await store.setRef('docker.io/library/x:1', a);
  const ref = await store.getRef('docker.io/library/x:1');
  const refFile = join(root, 'refs', readdirSync(join(root, 'refs'))[0]);
  const before = times(root, refFile);
  await sleep(20);
  await store.setRef('docker.io/library/x:1', a);
  assert.deepEqual(times(root, refFile), before);
  assert.deepEqual(await store.getRef('docker.io/library/x:1'), ref);
  await store.setRef('docker.io/library/x:1', b);
  assert.equal((await store.getRef('docker.io/library/x:1'))?.target.digest, b.digest);
  assert.notDeepEqual(times(root), before.slice(0, 3));
});
