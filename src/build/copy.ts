/**
 * COPY and ADD's file semantics, as BuildKit applies them (llb.Copy with FollowSymlinks,
 * CopyDirContentsOnly, CreateDestPath, AllowWildcard, AllowEmptyWildcard):
 * - each source is resolved inside its root (context or another stage's file system); a literal source
 *   that does not exist is an error `"/src": not found`; a wildcard that matches nothing copies nothing;
 * - a directory source copies its contents; a file source lands at DEST/basename when DEST ends in `/`
 *   or is an existing directory, else at DEST itself;
 * - `--parents` keeps each source's path (from the last `/./` in it, else whole) below DEST;
 * - `--exclude` and .dockerignore patterns drop paths; symlinks inside directories are copied as symlinks;
 * - context files are owned by 0:0, other stages' keep their owners, `--chown` sets both for everything it
 *   writes (and directories it creates); `--chmod` sets the mode of everything copied.
 * The same walk yields `copyDigest`, the content digest that enters the step's cache key: relative
 * destination paths, types, modes, owners, link targets and file contents — never mtimes or host paths.
 * Walks, digests and copies are streamed: memory depends on the widest directory, not the file count.
 */
import { chmod, copyFile, constants, lchown, link, lutimes, mkdir, open, readdir, readlink, rm, symlink, utimes } from 'node:fs/promises';
import { lstatOrNull } from '../util/fs.ts';
import { closeSync, fchmodSync, fchownSync, futimesSync, lstatSync, openSync, readSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { posix } from 'node:path';
import { JettisonError } from '../errors.ts';
import type { ModeChange } from '../util/chmod.ts';
import type { Digest } from '../image/types.ts';
import { ListingWriter, keepListing } from '../solver/index.ts';
import { StatBatcher, STAT_BATCH } from '../image/tar/stat-batch.ts';
import { PatternMatcher } from '../context/patterns.ts';
import { cleanRelative, hasWildcard, matchComponent, resolveRelative } from '../context/scoped-path.ts';

export interface CopySource {
  /** Host directory acting as `/` for the sources. */
  root: string;
  /** .dockerignore of a build context (paths relative to root). */
  ignore?: PatternMatcher;
  /** 'reset': owned by 0:0 (a build context); 'keep': keep owners (another stage or image). */
  ownership: 'reset' | 'keep';
}

export interface CopyRequest {
  source: CopySource;
  /** Source paths as written (expanded), possibly with wildcards. */
  paths: string[];
  /** Absolute destination inside the target file system; a trailing `/` means a directory. */
  dest: string;
  chown?: { uid: number; gid: number };
  /** --chmod: the change it makes to each entry's own mode (util/chmod.ts; octal values ignore it). */
  chmod?: ModeChange;
  parents?: boolean;
  exclude?: string[];
}

/** One thing to create in the destination. */
export interface CopyEntry {
  /** Host path of the source (never followed if it is a symlink inside a copied directory). */
  src: string;
  /** Destination path relative to the destination root. */
  dest: string;
  stat: Stats;
  /** Symlink target when stat is a symlink. */
  linkTarget?: string;
}

export class CopyError extends JettisonError {
  constructor(message: string) {
    super('COPY', message);
  }
}

/** Expands a wildcard source inside root: per component, like filepath.Glob, symlinks followed within the root. */
async function glob(root: string, pattern: string, ignore?: PatternMatcher): Promise<string[]> {
  const parts = cleanRelative(pattern).split('/').filter(Boolean);
  let current: string[] = [''];
  for (const part of parts) {
    const next: string[] = [];
    for (const base of current) {
      if (!hasWildcard(part)) {
        const cand = base === '' ? part : `${base}/${part}`;
        const resolved = await resolveRelative(root, cand);
        if (await lstatOrNull(resolved === '' ? root : `${root}/${resolved}`)) next.push(cand);
        continue;
      }
      const dirRel = await resolveRelative(root, base);
      let names: string[];
      try {
        names = await readdir(dirRel === '' ? root : `${root}/${dirRel}`);
      } catch {
        continue;
      }
      for (const name of names.sort()) if (matchComponent(part, name)) next.push(base === '' ? name : `${base}/${name}`);
    }
    current = next;
  }
  return current.filter((p) => p !== '' && !(ignore && ignore.matches(p)));
}

/** The part of a --parents source kept below DEST: after the last `/./`, else the cleaned path. */
function parentsPart(written: string, matched: string): string {
  const marker = written.lastIndexOf('/./');
  if (marker < 0) return matched;
  const prefix = cleanRelative(written.slice(0, marker));
  return prefix === '' ? matched : matched.slice(prefix.length + 1);
}

/**
 * Lists what a COPY writes, in a deterministic order (sources in order, each walked depth first by name).
 * `destRoot` is consulted only to know whether DEST is an existing directory.
 */
export async function* planCopy(req: CopyRequest, destRoot: string): AsyncGenerator<CopyEntry> {
  const { root, ignore } = req.source;
  const exclude = req.exclude && req.exclude.length > 0 ? new PatternMatcher(req.exclude) : undefined;
  const destRel = cleanRelative(req.dest);
  let destIsDir = req.dest.endsWith('/') || req.dest.endsWith('/.') || req.paths.length > 1 || destRel === '';
  if (!destIsDir) {
    const resolved = await resolveRelative(destRoot, destRel);
    const st = await lstatOrNull(resolved === '' ? destRoot : `${destRoot}/${resolved}`);
    destIsDir = st?.isDirectory() ?? false;
  }
  const stats = new StatBatcher();
  for (const written of req.paths) {
    let matches: string[];
    if (hasWildcard(written)) {
      matches = await glob(root, written, ignore);
    } else {
      const rel = cleanRelative(written);
      if (rel !== '' && ignore?.matches(rel)) throw new CopyError(`"/${rel}": not found`);
      matches = [rel];
    }
    for (const match of matches) {
      const resolved = await resolveRelative(root, match);
      const host = resolved === '' ? root : `${root}/${resolved}`;
      const st = await lstatOrNull(host);
      if (!st) throw new CopyError(`"/${match}": not found`);
      const base = req.parents ? posix.join(destRel, posix.dirname(parentsPart(written, match))) : destRel;
      if (st.isDirectory()) {
        const into = req.parents ? posix.join(destRel, parentsPart(written, match)) : destRel;
        yield* walkDir(host, resolved, cleanRelative(into), ignore, exclude, '', stats);
      } else {
        if (exclude?.matches(posix.basename(match))) continue;
        const target = req.parents || destIsDir ? posix.join(base, posix.basename(match)) : destRel;
        yield entry(host, cleanRelative(target), st, undefined);
      }
    }
  }
}

function entry(src: string, dest: string, st: Stats, linkTarget: string | undefined): CopyEntry {
  return linkTarget === undefined ? { src, dest, stat: st } : { src, dest, stat: st, linkTarget };
}

/** A directory's entries, depth first by name. */
async function* walkDir(
  hostDir: string,
  relInRoot: string,
  destDir: string,
  ignore: PatternMatcher | undefined,
  exclude: PatternMatcher | undefined,
  relInSource: string,
  stats: StatBatcher,
): AsyncGenerator<CopyEntry> {
  const names = (await readdir(hostDir)).sort();
  for (let from = 0; from < names.length; from += STAT_BATCH) {
    const batch = await stats.batch(hostDir, names, from);
    for (let i = 0; i < batch.length; i++) {
      const name = names[from + i];
      const st = batch[i];
      const rootRel = relInRoot === '' ? name : `${relInRoot}/${name}`;
      const srcRel = relInSource === '' ? name : `${relInSource}/${name}`;
      const host = `${hostDir}/${name}`;
      const ignored = (ignore && ignore.matches(rootRel)) || (exclude && exclude.matches(srcRel));
      if (ignored && (!st.isDirectory() || ((!ignore || ignore.canSkipDir(rootRel)) && (!exclude || exclude.canSkipDir(srcRel))))) continue;
      const dest = destDir === '' ? name : `${destDir}/${name}`;
      if (!ignored) yield entry(host, dest, st, st.isSymbolicLink() ? await readlink(host) : undefined);
      if (st.isDirectory()) yield* walkDir(host, rootRel, dest, ignore, exclude, srcRel, stats);
    }
  }
}

function owner(req: CopyRequest, st: Stats): { uid: number; gid: number } {
  if (req.chown) return req.chown;
  return req.source.ownership === 'reset' ? { uid: 0, gid: 0 } : { uid: st.uid, gid: st.gid };
}

function typeOf(st: Stats): string {
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFile()) return 'file';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'other';
}

export interface FileHashCache {
  /** A previously computed content digest for this file, when its identity and change time are unchanged. */
  get(path: string, st: Stats): string | undefined | Promise<string | undefined>;
  set(path: string, st: Stats, digest: string): void | Promise<void>;
}

/**
 * Read buffers for hashing, reused (fresh buffers per chunk would be garbage that grows peak memory
 * with the context's size); their number bounds how many files are read at once.
 */
const HASH_BUFFER_SIZE = 256 << 10;
const HASH_CONCURRENCY = 8;
const freeBuffers: Buffer[] = [];
const bufferWaiters: ((b: Buffer) => void)[] = [];
let buffersMade = 0;

function acquireBuffer(): Buffer | Promise<Buffer> {
  const free = freeBuffers.pop();
  if (free) return free;
  if (buffersMade < HASH_CONCURRENCY) {
    buffersMade++;
    return Buffer.allocUnsafe(HASH_BUFFER_SIZE);
  }
  return new Promise((resolve) => bufferWaiters.push(resolve));
}

function releaseBuffer(b: Buffer): void {
  const waiter = bufferWaiters.shift();
  if (waiter) waiter(b);
  else freeBuffers.push(b);
}

/**
 * Files up to this size are read synchronously, hashed and copied alike (a thread-pool round trip per
 * open/read/close costs more than the work), through one shared buffer; the event loop gets a turn
 * every SLICE_MS.
 */
const SYNC_MAX = 256 << 10;
const SLICE_MS = 4;
const syncBuffer = Buffer.allocUnsafe(SYNC_MAX);

/** sha256 (hex) of a file's content; `size` (from lstat) saves the read that would only find the end. */
async function hashFile(path: string, size: number): Promise<string> {
  const h = createHash('sha256');
  if (size < SYNC_MAX) {
    const fd = openSync(path, constants.O_RDONLY);
    try {
      let total = 0;
      for (;;) {
        const n = readSync(fd, syncBuffer, 0, syncBuffer.length, null);
        if (n === 0) break;
        h.update(syncBuffer.subarray(0, n));
        total += n;
        if (n < syncBuffer.length && total >= size) break;
      }
    } finally {
      closeSync(fd);
    }
    return h.digest('hex');
  }
  const buf = await acquireBuffer();
  try {
    const fh = await open(path, 'r');
    try {
      let total = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        h.update(buf.subarray(0, bytesRead));
        total += bytesRead;
        if (bytesRead < buf.length && total >= size) break;
      }
    } finally {
      await fh.close();
    }
  } finally {
    releaseBuffer(buf);
  }
  return h.digest('hex');
}

/** Entries whose listing lines are being computed at once (cache lookups, hashing), in walk order. */
const DIGEST_WINDOW = 16;

/** An entry's mode in the destination: its own, or what --chmod makes of it. */
function finalMode(req: CopyRequest, st: Stats): number {
  const own = st.mode & 0o7777;
  if (req.chmod === undefined) return own;
  return req.chmod(own, st.isDirectory());
}

/** What about one entry enters the digest (everything but its path): see copyDigest. */
async function describeEntry(req: CopyRequest, e: CopyEntry, cache: FileHashCache | undefined): Promise<string> {
  const o = owner(req, e.stat);
  const mode = finalMode(req, e.stat);
  let content = '';
  if (e.stat.isFile()) {
    content = (await cache?.get(e.src, e.stat)) ?? '';
    if (content === '') {
      content = await hashFile(e.src, e.stat.size);
      await cache?.set(e.src, e.stat, content);
    }
  } else if (e.stat.isCharacterDevice() || e.stat.isBlockDevice()) {
    content = String(e.stat.rdev);
  }
  return `${typeOf(e.stat)} ${mode.toString(8)} ${o.uid}:${o.gid} ${JSON.stringify(e.linkTarget ?? '')} ${content}`;
}

export interface CopyDigest {
  digest: Digest;
  files: number;
  bytes: number;
  /** The stored listing (in `listingDir`) the digest is the sha256 of, when a listingDir was given. */
  listing?: string;
}

/**
 * The digest of what a COPY would write: the sha256 of its listing (solver/listing.ts), one line per
 * entry: its destination path, type, mode (after --chmod), owner (after --chown or reset), link target
 * and content digest, sorted by destination path. Stable across hosts and times: no mtimes, no host
 * paths. With `listingDir` the listing is kept there (to explain a cache miss file by file). Memory
 * does not grow with the number of files: the listing is written to disk as the sources are walked.
 */
export async function copyDigest(
  req: CopyRequest,
  destRoot: string,
  cache?: FileHashCache,
  opts: { listingDir?: string } = {},
): Promise<CopyDigest> {
  const writer = await ListingWriter.create(opts.listingDir ?? tmpdir());
  let finished: { file: string; digest: Digest } | undefined;
  try {
    let files = 0;
    let bytes = 0;
    const queue: { dest: string; line: Promise<string> }[] = [];
    let slice = performance.now();
    for await (const e of planCopy(req, destRoot)) {
      if (performance.now() - slice > SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        slice = performance.now();
      }
      const line = describeEntry(req, e, cache);
      line.catch(() => undefined); // awaited in order below; a failure is seen there
      queue.push({ dest: e.dest, line });
      files++;
      if (e.stat.isFile()) bytes += e.stat.size;
      if (queue.length >= DIGEST_WINDOW) {
        const head = queue.shift()!;
        await writer.add(head.dest, await head.line);
      }
    }
    for (const head of queue) await writer.add(head.dest, await head.line);
    finished = await writer.finish();
    if (!opts.listingDir) {
      await rm(finished.file, { force: true });
      return { digest: finished.digest, files, bytes };
    }
    const listing = await keepListing(opts.listingDir, finished.file, finished.digest);
    return { digest: finished.digest, files, bytes, listing };
  } catch (err) {
    await writer.discard();
    if (finished) await rm(finished.file, { force: true });
    throw err;
  }
}

/**
 * Creates the missing directories of `rel` inside destRoot (with `mode`, owned by `owner` or root),
 * following symlinks inside the root. Returns the resolved host path and whether the last component was
 * created here (then it is known to be empty). Used by COPY/ADD, WORKDIR and heredoc files alike.
 */
export async function ensureDir(
  destRoot: string,
  rel: string,
  owner?: { uid: number; gid: number },
  mode = 0o755,
): Promise<{ host: string; created: boolean }> {
  const parts = cleanRelative(rel).split('/').filter(Boolean);
  let current = '';
  let created = false;
  for (const part of parts) {
    const next = await resolveRelative(destRoot, current === '' ? part : `${current}/${part}`);
    const host = next === '' ? destRoot : `${destRoot}/${next}`;
    const st = await lstatOrNull(host);
    created = !st;
    if (!st) {
      await mkdir(host);
      await chmod(host, mode);
      await lchown(host, owner?.uid ?? 0, owner?.gid ?? 0);
    } else if (!st.isDirectory()) {
      throw new CopyError(`cannot create directory "/${cleanRelative(rel)}": "/${next}" is not a directory`);
    }
    current = next;
  }
  return { host: current === '' ? destRoot : `${destRoot}/${current}`, created };
}

/** Files copied at once on the thread pool (large files, and files whose target must be checked first). */
const COPY_CONCURRENCY = 16;
/**
 * Files up to SYNC_MAX landing in a directory this copy created are copied synchronously: open,
 * read, write, set times, close: fewer system calls than copyFile, and no thread-pool round trips.
 */

/** Creates `target` for writing; something already there (an earlier source of the same COPY) is replaced, never written through. */
function createTarget(target: string, dest: string, mode: number): number {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  try {
    return openSync(target, flags, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    if (lstatSync(target).isDirectory()) throw new CopyError(`cannot replace directory "/${dest}" with a non-directory`);
    unlinkSync(target);
    return openSync(target, flags, mode);
  }
}

/** Copies a small regular file into a directory this copy created. */
function copySmallFile(src: string, target: string, dest: string, st: Stats, mode: number, chown: { uid: number; gid: number } | undefined, chmodAfter: boolean): void {
  const input = openSync(src, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const output = createTarget(target, dest, mode);
    try {
      let total = 0;
      for (;;) {
        const n = readSync(input, syncBuffer, 0, syncBuffer.length, null);
        if (n === 0) break;
        for (let at = 0; at < n; ) at += writeSync(output, syncBuffer, at, n - at);
        total += n;
        if (n < syncBuffer.length && total >= st.size) break;
      }
      if (chown) fchownSync(output, chown.uid, chown.gid);
      if (chmodAfter) fchmodSync(output, mode);
      futimesSync(output, st.atimeMs / 1000, st.mtimeMs / 1000);
    } finally {
      closeSync(output);
    }
  } finally {
    closeSync(input);
  }
}

/**
 * Performs the copy into destRoot (a snapshot's mounted root). Existing files are replaced (never
 * written through), directories merged. Hard links among the sources stay hard links.
 *
 * The plan is streamed, not collected: directories are made in walk order (a directory always comes
 * before its contents); small files landing in directories this copy created are copied synchronously
 * (copySmallFile), the others up to COPY_CONCURRENCY at a time on the thread pool, so memory does not
 * grow with the number of files. Resolved parent directories are remembered (memory grows with the
 * number of directories only), and nothing is looked up inside a directory this copy created.
 */
export async function executeCopy(req: CopyRequest, destRoot: string): Promise<{ files: number }> {
  const asRoot = process.geteuid?.() === 0;
  const umask = process.umask();
  let slice = performance.now();
  const dirs = new Map<string, { host: string; created: boolean }>();
  const dirTimes: { path: string; atime: number; mtime: number }[] = [];
  const linked = new Map<string, Promise<string>>();
  const running = new Set<Promise<void>>();
  let failure: unknown;
  let files = 0;

  const parentOf = async (rel: string): Promise<{ host: string; created: boolean }> => {
    let p = dirs.get(rel);
    if (!p) {
      p = await ensureDir(destRoot, rel, req.chown);
      dirs.set(rel, p);
    }
    return p;
  };

  /**
   * Creates `target` with `create`, which must fail with EEXIST when something is there already (never
   * write through it: it may be a symlink out of the root): then what is there (an earlier source, the
   * lower layers) is removed and `create` runs again. A directory there is an error.
   */
  const replacing = async (e: CopyEntry, target: string, create: () => Promise<void>): Promise<void> => {
    try {
      await create();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if ((await lstatOrNull(target))?.isDirectory()) throw new CopyError(`cannot replace directory "/${e.dest}" with a non-directory`);
      await rm(target, { force: true });
      await create();
    }
  };

  const copyOne = async (e: CopyEntry, target: string): Promise<void> => {
    const o = owner(req, e.stat);
    const inode = `${e.stat.dev}:${e.stat.ino}`;
    const first = e.stat.nlink > 1 ? linked.get(inode) : undefined;
    if (first) {
      const existing = await first;
      await replacing(e, target, () => link(existing, target));
      return;
    }
    // Files created by root are owned by 0:0 already; chown clears setuid/setgid, so the mode comes after.
    const needsChown = !asRoot || o.uid !== 0 || o.gid !== 0;
    if (e.stat.isSymbolicLink()) {
      await replacing(e, target, () => symlink(e.linkTarget!, target));
      if (needsChown) await lchown(target, o.uid, o.gid);
      await lutimes(target, e.stat.atimeMs / 1000, e.stat.mtimeMs / 1000);
    } else if (e.stat.isFile()) {
      // keeps the source's mode; EXCL: never through what is there
      await replacing(e, target, () => copyFile(e.src, target, constants.COPYFILE_FICLONE | constants.COPYFILE_EXCL));
      if (needsChown) await lchown(target, o.uid, o.gid);
      if (req.chmod !== undefined) await chmod(target, finalMode(req, e.stat));
      else if (needsChown && e.stat.mode & 0o6000) await chmod(target, e.stat.mode & 0o7777);
      await utimes(target, e.stat.atimeMs / 1000, e.stat.mtimeMs / 1000);
    } else {
      throw new CopyError(`cannot copy "${e.dest}": unsupported file type ${typeOf(e.stat)}`);
    }
  };

  /** Targets of copies still running (at most COPY_CONCURRENCY): a later source for the same name waits for them. */
  const inFlight = new Map<string, Promise<void>>();
  const start = (p: Promise<void>, target: string): void => {
    const tracked = p.then(
      () => undefined,
      (err) => {
        failure ??= err;
      },
    );
    running.add(tracked);
    inFlight.set(target, tracked);
    void tracked.finally(() => {
      running.delete(tracked);
      if (inFlight.get(target) === tracked) inFlight.delete(target);
    });
  };

  for await (const e of planCopy(req, destRoot)) {
    if (failure !== undefined) break;
    files++;
    const parentRel = posix.dirname(e.dest) === '.' ? '' : posix.dirname(e.dest);
    const parent = await parentOf(parentRel);
    const target = `${parent.host}/${posix.basename(e.dest)}`;
    const earlier = inFlight.get(target);
    if (earlier) await earlier; // several sources onto one name: the last one wins
    if (e.stat.isDirectory()) {
      const o = owner(req, e.stat);
      // mkdir fails on anything there (an earlier source's directory is merged into, anything else replaced).
      let created = true;
      try {
        await mkdir(target);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        if ((await lstatOrNull(target))?.isDirectory()) created = false;
        else {
          await rm(target, { force: true });
          await mkdir(target);
        }
      }
      await lchown(target, o.uid, o.gid);
      await chmod(target, finalMode(req, e.stat));
      dirs.set(e.dest, { host: target, created });
      dirTimes.push({ path: target, atime: e.stat.atimeMs / 1000, mtime: e.stat.mtimeMs / 1000 });
      continue;
    }
    if (e.stat.nlink > 1) {
      const inode = `${e.stat.dev}:${e.stat.ino}`;
      if (!linked.has(inode)) {
        // Later links to this inode wait for this copy, then link to it.
        const copied = copyOne(e, target).then(() => target);
        linked.set(inode, copied);
        start(copied.then(() => undefined), target);
        if (running.size >= COPY_CONCURRENCY) await Promise.race(running);
        continue;
      }
    }
    if (parent.created && e.stat.isFile() && e.stat.nlink === 1 && e.stat.size <= SYNC_MAX) {
      const o = owner(req, e.stat);
      const needsChown = !asRoot || o.uid !== 0 || o.gid !== 0;
      const mode = finalMode(req, e.stat);
      // open() applies the umask, and chown clears setuid/setgid: then the mode is set again after.
      copySmallFile(e.src, target, e.dest, e.stat, mode, needsChown ? o : undefined, (mode & umask) !== 0 || (needsChown && (mode & 0o6000) !== 0));
      if (performance.now() - slice > SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        slice = performance.now();
      }
      continue;
    }
    start(copyOne(e, target), target);
    if (running.size >= COPY_CONCURRENCY) await Promise.race(running);
  }
  await Promise.all(running);
  if (failure !== undefined) throw failure;
  for (const d of dirTimes.reverse()) await utimes(d.path, d.atime, d.mtime);
  return { files };
}
