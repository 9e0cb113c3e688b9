/**
 * File listings kept on disk: the per-file detail behind a content digest (the files a COPY matched),
 * so that a cache miss can be explained file by file without holding one entry per file in memory.
 *
 * A listing is a text file, one line per file: `JSON(path) TAB rest LF`, where `rest` is whatever
 * about the file matters (type, mode, owner, link target, content digest; no TAB or LF in it). Lines
 * are sorted by path component by component (comparePaths: the order a depth-first walk with sorted
 * names yields, so the usual single-directory listing is written already sorted; anything else is
 * sorted on disk in bounded runs and merged), equal paths keep the order they were added in. The
 * content digest is the sha256 of the sorted file's bytes, so a stored listing is content-addressed.
 *
 * Two listings are compared by walking both in step (diffListings): memory is one line of each.
 * A build keeps its listings (keepListing) while it builds its graph and reads them, with earlier
 * builds' ones, when its solve explains misses; trimListings() bounds the directory after that.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { JettisonError } from '../errors.ts';
import type { Digest } from '../image/types.ts';
import { readdirIfExists } from '../util/fs.ts';
import { TEMP_PREFIX, tempName } from './atomic.ts';

/** Stored listings kept per directory besides those a build uses (newest by modification time): see trimListings(). */
export const MAX_LISTINGS = 64;
/** Bytes of lines sorted in memory at once when a listing was not written in order. */
const RUN_BYTES = 4 << 20;
const WRITE_CHUNK = 64 << 10;
const READ_CHUNK = 64 << 10;
const SLASH = 0x2f;

/**
 * Orders paths component by component, each component by UTF-16 code unit (JavaScript's default
 * sort): "a" < "a/b" < "a-c", as a depth-first walk of sorted directory listings meets them.
 */
export function comparePaths(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x === SLASH) x = -1;
    if (y === SLASH) y = -1;
    return x - y;
  }
  return a.length - b.length;
}

export interface ListingLine {
  path: string;
  rest: string;
}

function lineOf(path: string, rest: string): string {
  return `${JSON.stringify(path)}\t${rest}\n`;
}

function parseLine(line: string, file: string): ListingLine {
  const tab = line.indexOf('\t');
  if (tab < 0) throw new JettisonError('LISTING', `${file}: malformed line`);
  return { path: JSON.parse(line.slice(0, tab)) as string, rest: line.slice(tab + 1) };
}

/** Lines of a listing file (without their LF), read in chunks. */
async function* rawLines(file: string): AsyncGenerator<string> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    let carry: Buffer | undefined;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      let chunk = buf.subarray(0, bytesRead);
      if (carry) {
        chunk = Buffer.concat([carry, chunk]);
        carry = undefined;
      }
      let start = 0;
      for (let nl = chunk.indexOf(0x0a, start); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
        yield chunk.toString('utf8', start, nl);
        start = nl + 1;
      }
      if (start < chunk.length) carry = Buffer.from(chunk.subarray(start));
    }
    if (carry && carry.length > 0) throw new JettisonError('LISTING', `${file}: truncated`);
  } finally {
    await fh.close();
  }
}

/** The entries of a listing file, in file order. */
export async function* readListing(file: string): AsyncGenerator<ListingLine> {
  for await (const line of rawLines(file)) yield parseLine(line, file);
}

/** Buffered appends to a file (lines are encoded straight into one reused buffer), optionally hashed. */
class Output {
  private readonly fh: FileHandle;
  private readonly hash: ReturnType<typeof createHash> | undefined;
  private readonly buf = Buffer.allocUnsafe(WRITE_CHUNK);
  private used = 0;

  constructor(fh: FileHandle, hashed: boolean) {
    this.fh = fh;
    this.hash = hashed ? createHash('sha256') : undefined;
  }

  async write(line: string): Promise<void> {
    // A UTF-8 encoding takes at most 3 bytes per UTF-16 code unit.
    if (this.used + line.length * 3 > this.buf.length) {
      await this.flush();
      if (line.length * 3 > this.buf.length) {
        await this.put(Buffer.from(line, 'utf8'));
        return;
      }
    }
    this.used += this.buf.write(line, this.used, 'utf8');
  }

  private async put(data: Buffer): Promise<void> {
    this.hash?.update(data);
    let at = 0;
    while (at < data.length) at += (await this.fh.write(data, at, data.length - at, null)).bytesWritten;
  }

  async flush(): Promise<void> {
    if (this.used === 0) return;
    const n = this.used;
    this.used = 0;
    await this.put(this.buf.subarray(0, n));
  }

  async close(): Promise<Digest | undefined> {
    try {
      await this.flush();
    } finally {
      await this.fh.close();
    }
    return this.hash ? `sha256:${this.hash.digest('hex')}` : undefined;
  }
}

/**
 * Writes a listing: entries are added in any order; finish() returns the sorted file (a temporary
 * file in `dir`, for keepListing or removal) and its digest.
 */
export class ListingWriter {
  private readonly dir: string;
  private readonly file: string;
  private readonly out: Output;
  private prev: string | undefined;
  private sorted = true;
  private count = 0;

  private constructor(dir: string, file: string, out: Output) {
    this.dir = dir;
    this.file = file;
    this.out = out;
  }

  static async create(dir: string): Promise<ListingWriter> {
    await mkdir(dir, { recursive: true });
    const file = join(dir, tempName());
    return new ListingWriter(dir, file, new Output(await open(file, 'wx'), true));
  }

  add(path: string, rest: string): Promise<void> {
    if (rest.includes('\t') || rest.includes('\n')) throw new JettisonError('LISTING', `listing entry for "${path}": tab or newline in its value`);
    if (this.prev !== undefined && this.sorted && comparePaths(this.prev, path) > 0) this.sorted = false;
    this.prev = path;
    this.count++;
    return this.out.write(lineOf(path, rest));
  }

  /** The sorted listing (a temporary file the caller keeps or removes), its digest and its line count. */
  async finish(): Promise<{ file: string; digest: Digest; count: number }> {
    const digest = (await this.out.close())!;
    if (this.sorted) return { file: this.file, digest, count: this.count };
    try {
      const sorted = await sortListing(this.file, this.dir);
      return { ...sorted, count: this.count };
    } finally {
      await rm(this.file, { force: true });
    }
  }

  /** Closes and removes the temporary file (after a failure). */
  async discard(): Promise<void> {
    await this.out.close().catch(() => undefined);
    await rm(this.file, { force: true });
  }
}

/** External merge sort of a listing file (stable): runs of RUN_BYTES sorted in memory, then merged. */
async function sortListing(input: string, dir: string): Promise<{ file: string; digest: Digest }> {
  const runs: string[] = [];
  try {
    let batch: { path: string; line: string }[] = [];
    let bytes = 0;
    const spill = async () => {
      batch.sort((a, b) => comparePaths(a.path, b.path));
      const file = join(dir, tempName());
      runs.push(file);
      const out = new Output(await open(file, 'wx'), false);
      for (const e of batch) await out.write(e.line);
      await out.close();
      batch = [];
      bytes = 0;
    };
    for await (const line of rawLines(input)) {
      batch.push({ path: parseLine(line, input).path, line: `${line}\n` });
      bytes += line.length;
      if (bytes >= RUN_BYTES) await spill();
    }
    if (batch.length > 0 || runs.length === 0) await spill();
    const file = join(dir, tempName());
    const out = new Output(await open(file, 'wx'), true);
    try {
      const readers = runs.map((r) => rawLines(r));
      const heads: ({ path: string; line: string } | undefined)[] = [];
      const advance = async (i: number) => {
        const next = await readers[i].next();
        heads[i] = next.done ? undefined : { path: parseLine(next.value, runs[i]).path, line: next.value };
      };
      for (let i = 0; i < readers.length; i++) await advance(i);
      for (;;) {
        let best = -1;
        for (let i = 0; i < heads.length; i++) {
          const h = heads[i];
          if (h && (best < 0 || comparePaths(h.path, heads[best]!.path) < 0)) best = i;
        }
        if (best < 0) break;
        await out.write(`${heads[best]!.line}\n`);
        await advance(best);
      }
    } catch (err) {
      await out.close().catch(() => undefined);
      await rm(file, { force: true });
      throw err;
    }
    return { file, digest: (await out.close())! };
  } finally {
    for (const r of runs) await rm(r, { force: true });
  }
}

export interface ListingDiff {
  /** The first `max` differences in path order: "file PATH added|removed|differs". */
  named: string[];
  /** How many paths differ in all. */
  total: number;
}

/** What changed from listing `before` to listing `after`, both sorted (one line of each in memory). */
export async function diffListings(before: string, after: string, max: number): Promise<ListingDiff> {
  const a = readListing(before);
  const b = readListing(after);
  const named: string[] = [];
  let total = 0;
  const note = (text: string) => {
    total++;
    if (named.length < max) named.push(text);
  };
  let x = await a.next();
  let y = await b.next();
  while (!x.done || !y.done) {
    const c = x.done ? 1 : y.done ? -1 : comparePaths(x.value.path, y.value.path);
    if (c < 0) {
      note(`file ${x.value!.path} removed`);
      x = await a.next();
    } else if (c > 0) {
      note(`file ${y.value!.path} added`);
      y = await b.next();
    } else {
      if (x.value!.rest !== y.value!.rest) note(`file ${x.value!.path} differs`);
      x = await a.next();
      y = await b.next();
    }
  }
  return { named, total };
}

/** Where a listing with this digest is kept in `dir`. */
export function listingFile(dir: string, digest: Digest): string {
  return join(dir, digest.slice(digest.indexOf(':') + 1));
}

/**
 * Moves a finished listing into `dir` under its digest (replacing an identical one, which makes it
 * the newest) and returns its path. Nothing is removed here: the build that keeps a listing still
 * needs it (and the earlier ones it is compared with) until its solve has explained its misses, so
 * the directory is bounded afterwards, by trimListings().
 */
export async function keepListing(dir: string, file: string, digest: Digest): Promise<string> {
  const target = listingFile(dir, digest);
  await rename(file, target);
  return target;
}

/**
 * Bounds a listing directory: keeps the listings in `inUse` (paths: those the build that just
 * solved read) and the newest MAX_LISTINGS others by modification time, and removes the rest. At
 * most MAX_LISTINGS + the in-use ones are left. Returns how many were removed.
 */
export async function trimListings(dir: string, inUse: Iterable<string>): Promise<number> {
  const spared = new Set([...inUse].map((p) => resolve(p)));
  const others = (await readdirIfExists(dir)).filter((n) => !n.startsWith(TEMP_PREFIX)).map((n) => resolve(dir, n)).filter((p) => !spared.has(p));
  if (others.length <= MAX_LISTINGS) return 0;
  // a listing removed meanwhile (by another build's trim) is left out
  const stats = await Promise.all(others.map(async (path) => ({ path, mtime: await stat(path).then((s) => s.mtimeMs, () => undefined) })));
  const aged = stats.filter((a): a is { path: string; mtime: number } => a.mtime !== undefined);
  aged.sort((p, q) => q.mtime - p.mtime);
  const old = aged.slice(MAX_LISTINGS);
  for (const o of old) await rm(o.path, { force: true });
  return old.length;
}
