/**
 * Remembers which registry repositories are known to hold a blob (filled by pulls and pushes), so a
 * later push to another repository of the same registry can ask for a cross-repository mount instead
 * of uploading. Kept beside the content store as small files `<root>/registry/sources/<hex>`, one
 * "registry/repository" a line, newest first, at most 8. It is only a hint: lost updates are harmless.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex } from '../image/digest.ts';
import type { Digest } from '../image/types.ts';
import type { ContentStore } from '../store/types.ts';
import { writeFileAtomic } from '../util/fs.ts';

const MAX_SOURCES = 8;

export interface BlobSource {
  registry: string;
  repository: string;
}

function dirOf(store: ContentStore): string {
  return join(store.root, 'registry', 'sources');
}

/** The repositories known to hold `digest`, newest first. */
export async function blobSources(store: ContentStore, digest: Digest): Promise<BlobSource[]> {
  let text: string;
  try {
    text = await readFile(join(dirOf(store), digestHex(digest)), 'utf8');
  } catch {
    return [];
  }
  const out: BlobSource[] = [];
  for (const line of text.split('\n')) {
    const slash = line.indexOf('/');
    if (slash <= 0 || slash === line.length - 1) continue;
    out.push({ registry: line.slice(0, slash), repository: line.slice(slash + 1) });
  }
  return out;
}

/** Notes that `registry/repository` holds the blobs (best effort: failures are ignored). */
export async function recordBlobSources(store: ContentStore, digests: Digest[], registry: string, repository: string): Promise<void> {
  const dir = dirOf(store);
  try {
    await mkdir(dir, { recursive: true });
  } catch {
    return;
  }
  const entry = `${registry}/${repository}`;
  for (const digest of new Set(digests)) {
    try {
      const old = (await blobSources(store, digest)).map((s) => `${s.registry}/${s.repository}`);
      if (old[0] === entry) continue;
      const lines = [entry, ...old.filter((l) => l !== entry)].slice(0, MAX_SOURCES);
      await writeFileAtomic(join(dir, digestHex(digest)), `${lines.join('\n')}\n`);
    } catch {
      // a hint only
    }
  }
}
