/**
 * Content digests of context files, remembered between builds so that an unchanged 200 MB context is
 * not read again: a file's digest is reused while its inode, size, mtime and ctime are unchanged
 * (any write changes ctime). Losing or corrupting the cache only costs a re-hash; it is never part of
 * a cache key itself.
 *
 * Kept on disk one file per context directory, under `<root>/context-hashes/<context id>/<dir id>`
 * (JSON: the directory's path and, by file name, "ino size mtime ctime digest"). A
 * directory's file is read when a file in it is first looked up and written back when it changed, so
 * memory holds at most MAX_LOADED directories' entries, whatever the number of files.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import type { FileHashCache } from './copy.ts';
import { newOwnerToken, ownerAlive } from '../util/owner.ts';

/** "ino size mtime ctime digest": one string per file (few objects, little for the GC to move). */
type Entry = string;

interface Shard {
  dir: string;
  file: string;
  entries: Map<string, Entry>;
  dirty: boolean;
}

/**
 * Directories whose entries stay in memory (least recently used are written back and dropped; a
 * digest set for a directory dropped meanwhile loads it again). Few: a directory's files are looked
 * up one after another, and whatever stays loaded for long ends up in V8's old generation.
 */
const MAX_LOADED = 4;

/** What must be unchanged for a remembered digest to hold, as the entry's prefix (times as lstat gives them, in ms). */
function stamp(st: Stats): string {
  return `${st.ino} ${st.size} ${st.mtimeMs} ${st.ctimeMs} `;
}

function id(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 32);
}

function split(path: string): [dir: string, name: string] {
  const slash = path.lastIndexOf('/');
  return [path.slice(0, slash), path.slice(slash + 1)];
}

export class ContextHashCache implements FileHashCache {
  private readonly root: string;
  /** Loaded (or loading) directories, least recently used first. */
  private readonly shards = new Map<string, Promise<Shard>>();
  /** Directories being written back: loading one again waits for its write. */
  private readonly writing = new Map<string, Promise<void>>();

  private constructor(root: string) {
    this.root = root;
  }

  static async open(storeRoot: string, contextRoot: string): Promise<ContextHashCache> {
    const base = join(storeRoot, 'context-hashes');
    const root = join(base, id(contextRoot));
    await mkdir(root, { recursive: true });
    // the single-file format of earlier versions (every entry in one JSON file) is not read any more
    await rm(join(base, `${id(contextRoot)}.json`), { force: true });
    // Temp files of writers that died before their rename ("<shard>.<owner token>.tmp").
    for (const name of await readdir(root).catch(() => [] as string[])) {
      if (!name.endsWith('.tmp')) continue;
      const token = name.slice(name.indexOf('.') + 1, -'.tmp'.length);
      if (!ownerAlive(token)) await rm(join(root, name), { force: true });
    }
    return new ContextHashCache(root);
  }

  private async load(dir: string): Promise<Shard> {
    await this.writing.get(dir);
    const file = join(this.root, id(dir));
    const entries = new Map<string, Entry>();
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as { dir?: unknown; entries?: Record<string, unknown> };
      if (parsed.dir === dir && parsed.entries && typeof parsed.entries === 'object') {
        // get() checks an entry's stamp and length; anything but a string is dropped here
        for (const [name, e] of Object.entries(parsed.entries)) if (typeof e === 'string') entries.set(name, e);
      }
    } catch {
      // no entries yet, or unreadable: start afresh
    }
    return { dir, file, entries, dirty: false };
  }

  private async write(shard: Shard): Promise<void> {
    if (!shard.dirty) return;
    shard.dirty = false;
    // No fsync: a torn file is only a lost cache. Temp + rename keeps concurrent builds' readers whole.
    const tmp = `${shard.file}.${newOwnerToken()}.tmp`;
    await writeFile(tmp, JSON.stringify({ dir: shard.dir, entries: Object.fromEntries(shard.entries) }));
    await rename(tmp, shard.file);
  }

  private async shard(dir: string): Promise<Shard> {
    let p = this.shards.get(dir);
    if (p) {
      this.shards.delete(dir); // most recently used last
      this.shards.set(dir, p);
      return p;
    }
    p = this.load(dir);
    this.shards.set(dir, p);
    if (this.shards.size > MAX_LOADED) {
      const [oldest, evicted] = this.shards.entries().next().value!;
      this.shards.delete(oldest);
      const done = evicted.then((shard) => this.write(shard));
      this.writing.set(oldest, done);
      try {
        await done;
      } finally {
        if (this.writing.get(oldest) === done) this.writing.delete(oldest);
      }
    }
    return p;
  }

  async get(path: string, st: Stats): Promise<string | undefined> {
    const [dir, name] = split(path);
    const e = (await this.shard(dir)).entries.get(name);
    if (!e) return undefined;
    const prefix = stamp(st);
    return e.length === prefix.length + 64 && e.startsWith(prefix) ? e.slice(prefix.length) : undefined;
  }

  async set(path: string, st: Stats, digest: string): Promise<void> {
    const [dir, name] = split(path);
    const entry: Entry = stamp(st) + digest;
    const shard = await this.shard(dir); // loaded again if it was dropped since the lookup
    if (shard.entries.get(name) === entry) return;
    shard.entries.set(name, entry);
    shard.dirty = true;
  }

  /** Writes back every directory whose entries changed. */
  async save(): Promise<void> {
    for (const p of this.shards.values()) await this.write(await p);
  }
}
