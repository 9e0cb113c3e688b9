/**
 * fsck: re-verifies the whole store. Every blob is re-hashed against its name; every ref must parse
 * and point at a present blob of the recorded size; every manifest reachable from a ref must parse
 * and its config and layers be present with the recorded sizes (an index's manifests for other
 * platforms may be absent: partial pulls are normal). Every compressed-variant record must name a
 * blob that decompresses to its layer (when both are present). Stale temp files and leases of dead
 * processes are removed (they are what a kill -9 leaves; they are not problems).
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { DigestCounter } from '../image/digest.ts';
import { isIndexMediaType, isManifestMediaType, parseManifestOrIndex } from '../image/manifest.ts';
import type { Descriptor, Digest } from '../image/types.ts';
import { readdirIfExists } from '../util/fs.ts';
import { lockShared, withLock } from '../util/lock.ts';
import { refFileName, type LocalStore } from './local.ts';
import { checkVariants } from './variants.ts';

export interface FsckResult {
  problems: string[];
  blobs: number;
  refs: number;
  staleFiles: number;
}

async function hashFile(path: string): Promise<{ digest: Digest; size: number }> {
  const c = new DigestCounter();
  for await (const chunk of createReadStream(path)) c.update(chunk as Buffer);
  return { digest: c.digest(), size: c.size };
}

export async function fsck(store: LocalStore): Promise<FsckResult> {
  await store.init();
  const problems: string[] = [];
  const staleFiles = await store.cleanStale();
  let blobs = 0;
  for (const name of await readdirIfExists(store.blobDir)) {
    if (!/^[a-f0-9]{64}$/.test(name)) {
      problems.push(`blobs/sha256/${name}: not a blob name`);
      continue;
    }
    blobs++;
    const actual = await hashFile(join(store.blobDir, name)).catch((e: Error) => e);
    if (actual instanceof Error) problems.push(`blob sha256:${name}: unreadable: ${actual.message}`);
    else if (actual.digest !== `sha256:${name}`) problems.push(`blob sha256:${name}: corrupt: content hashes to ${actual.digest}`);
  }
  for (const dir of ['blobs']) {
    for (const name of await readdirIfExists(join(store.root, dir))) {
      if (name !== 'sha256') problems.push(`${dir}/${name}: unexpected entry`);
    }
  }
  let refs = 0;
  // Shared lock: refs and their targets stay put while they are checked (no prune meanwhile).
  await withLock(lockShared(store.lockDir), async () => {
    const checked = new Set<Digest>();
    const check = async (d: Descriptor, where: string, optional: boolean): Promise<void> => {
      const size = await store.size(d.digest);
      if (size === undefined) {
        if (!optional) problems.push(`${where}: ${d.digest} is missing`);
        return;
      }
      if (size !== d.size) problems.push(`${where}: ${d.digest} is ${size} bytes, descriptor says ${d.size}`);
      if (checked.has(d.digest)) return;
      checked.add(d.digest);
      if (!isIndexMediaType(d.mediaType) && !isManifestMediaType(d.mediaType)) return;
      let parsed;
      try {
        parsed = parseManifestOrIndex(await store.readBytes(d.digest), d.mediaType, d.digest);
      } catch (err) {
        problems.push(`${where}: ${(err as Error).message}`);
        return;
      }
      if (parsed.kind === 'index') {
        for (const m of parsed.index.manifests) await check(m, `${where} → ${m.digest}`, true);
      } else {
        await check(parsed.manifest.config, `${where} → config`, false);
        for (const [i, l] of parsed.manifest.layers.entries()) await check(l, `${where} → layer ${i}`, false);
      }
    };
    for (const file of await readdirIfExists(store.refDir)) {
      if (!file.endsWith('.json')) {
        problems.push(`refs/${file}: unexpected entry`);
        continue;
      }
      const rec = await store.readRefFile(join(store.refDir, file));
      if (!rec) {
        problems.push(`refs/${file}: unreadable or malformed ref`);
        continue;
      }
      refs++;
      if (refFileName(rec.name) !== file) problems.push(`refs/${file}: holds ref ${rec.name}, whose file name differs`);
      await check(rec.target, `ref ${rec.name}`, false);
    }
  });
  problems.push(...(await checkVariants(store)));
  return { problems, blobs, refs, staleFiles };
}
