/**
 * Content digests of context files, remembered between builds so that an unchanged 200 MB context is
 * not read again: a file's digest is reused while its inode, size, mtime and ctime are unchanged
 * (any write changes ctime). Kept per context directory under `<root>/context-hashes/`; losing or
 * corrupting the file only costs a re-hash. Never part of a cache key itself.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/fs.ts';
import type { FileHashCache } from './copy.ts';

type Entry = [ino: number, size: number, mtimeNs: string, ctimeNs: string, digest: string];

function stamp(st: Stats): [number, number, string, string] {
  const ns = (t: number) => String(Math.round(t * 1e6));
  return [st.ino, st.size, ns(st.mtimeMs), ns(st.ctimeMs)];
}

export class ContextHashCache implements FileHashCache {
  private readonly entries: Map<string, Entry>;
  private readonly file: string;
  private dirty = false;

  private constructor(file: string, entries: Map<string, Entry>) {
    this.file = file;
    this.entries = entries;
  }

  static async open(storeRoot: string, contextRoot: string): Promise<ContextHashCache> {
    const dir = join(storeRoot, 'context-hashes');
    const file = join(dir, `${createHash('sha256').update(contextRoot).digest('hex').slice(0, 32)}.json`);
    let entries = new Map<string, Entry>();
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as Record<string, Entry>;
      entries = new Map(Object.entries(parsed).filter(([, e]) => Array.isArray(e) && e.length === 5));
    } catch {
      // no cache yet, or unreadable: start afresh
    }
    await mkdir(dir, { recursive: true });
    return new ContextHashCache(file, entries);
  }

  get(path: string, st: Stats): string | undefined {
    const e = this.entries.get(path);
    if (!e) return undefined;
    const [ino, size, m, c] = stamp(st);
    return e[0] === ino && e[1] === size && e[2] === m && e[3] === c ? e[4] : undefined;
  }

  set(path: string, st: Stats, digest: string): void {
    const prev = this.entries.get(path);
    if (prev && prev[4] === digest && this.get(path, st) === digest) return;
    this.entries.set(path, [...stamp(st), digest]);
    this.dirty = true;
  }

  async save(): Promise<void> {
    if (!this.dirty) return;
    await writeFileAtomic(this.file, JSON.stringify(Object.fromEntries(this.entries)));
    this.dirty = false;
  }
}
