/**
 * Garbage collection: `prune` removes every blob no root reaches. Roots are the refs, the leases of
 * live processes (blobs just ingested, not yet named by a ref), the files in `roots/` (one digest a
 * line; for subsystems in other processes, e.g. the build cache) and the providers registered with
 * addRootProvider() in this process. From each root the walk follows index → manifests → config +
 * layers. Prune holds the store's exclusive lock, so no blob commit or ref write interleaves.
 * Compressed variants of layers (variants.ts) are not roots: prune removes them with the records
 * that name them; a push or export makes them again when needed.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isDigest } from '../image/digest.ts';
import { childDigests, parseManifestOrIndex } from '../image/manifest.ts';
import type { Digest } from '../image/types.ts';
import { fsyncDir, readdirIfExists, unlinkIfExists } from '../util/fs.ts';
import { lockExclusive, withLock } from '../util/lock.ts';
import { ownerAlive } from '../util/owner.ts';
import type { LocalStore } from './local.ts';
import { dropStaleVariants } from './variants.ts';

export type RootProvider = (store: LocalStore) => Promise<Iterable<Digest>> | Iterable<Digest>;

const providers = new Set<RootProvider>();

/** Registers extra GC roots for this process; returns a function that unregisters them. */
export function addRootProvider(p: RootProvider): () => void {
  providers.add(p);
  return () => providers.delete(p);
}

function digestsOfText(text: string): Digest[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => isDigest(l));
}

/** All GC roots with where each came from. */
export async function collectRoots(store: LocalStore): Promise<Map<Digest, string>> {
  const roots = new Map<Digest, string>();
  for (const rec of await store.listRefs()) roots.set(rec.target.digest, `ref ${rec.name}`);
  for (const name of await readdirIfExists(store.leaseDir)) {
    if (!ownerAlive(name)) continue;
    const text = await readFile(join(store.leaseDir, name), 'utf8').catch(() => '');
    for (const d of digestsOfText(text)) if (!roots.has(d)) roots.set(d, `lease ${name}`);
  }
  for (const name of await readdirIfExists(store.rootsDir)) {
    const text = await readFile(join(store.rootsDir, name), 'utf8').catch(() => '');
    for (const d of digestsOfText(text)) if (!roots.has(d)) roots.set(d, `root ${name}`);
  }
  for (const p of providers) for (const d of await p(store)) if (isDigest(d) && !roots.has(d)) roots.set(d, 'root provider');
  return roots;
}

const SNIFF_MAX = 16 * 1024 * 1024;

/** The children of a stored blob when it is a manifest or index, else []. */
async function childrenOf(store: LocalStore, digest: Digest): Promise<Digest[]> {
  const size = await store.size(digest);
  if (size === undefined || size > SNIFF_MAX || size < 2) return [];
  const bytes = await store.readBytes(digest);
  if (bytes[0] !== 0x7b) return [];
  try {
    return childDigests(parseManifestOrIndex(bytes)).map((d) => d.digest);
  } catch {
    return [];
  }
}

/** Every digest reachable from the roots (present or not). */
export async function reachable(store: LocalStore, roots: Iterable<Digest>): Promise<Set<Digest>> {
  const seen = new Set<Digest>();
  const queue = [...roots];
  while (queue.length > 0) {
    const d = queue.pop()!;
    if (seen.has(d)) continue;
    seen.add(d);
    for (const c of await childrenOf(store, d)) if (!seen.has(c)) queue.push(c);
  }
  return seen;
}

export interface PruneResult {
  removed: Digest[];
  reclaimedBytes: number;
  /** Stale temp files and leases of dead processes removed. */
  staleFiles: number;
}

export async function prune(store: LocalStore, opts: { dryRun?: boolean } = {}): Promise<PruneResult> {
  await store.init();
  return withLock(lockExclusive(store.lockDir), async () => {
    const staleFiles = opts.dryRun ? 0 : await store.cleanStale();
    const keep = await reachable(store, (await collectRoots(store)).keys());
    const removed: Digest[] = [];
    let reclaimedBytes = 0;
    for (const d of await store.listBlobs()) {
      if (keep.has(d)) continue;
      const path = store.blobPath(d);
      const size = (await stat(path).catch(() => undefined))?.size ?? 0;
      if (!opts.dryRun && !(await unlinkIfExists(path))) continue;
      removed.push(d);
      reclaimedBytes += size;
    }
    if (removed.length > 0 && !opts.dryRun) {
      await fsyncDir(store.blobDir);
      await dropStaleVariants(store);
    }
    return { removed, reclaimedBytes, staleFiles };
  });
}
