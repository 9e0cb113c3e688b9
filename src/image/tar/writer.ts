/**
 * The layer tar writer. Turns one of three sources into a deterministic, streaming layer tar:
 *  - `dir`: a plain directory, every entry an addition;
 *  - `overlay`: an overlayfs upper directory (char device 0/0 → `.wh.NAME` whiteout, a directory
 *    with `trusted.overlay.opaque=y` / `user.overlay.opaque=y` → `.wh..wh..opq`, overlay's own
 *    xattrs dropped);
 *  - `diff`: the changes from `lower` to `upper` (the copy snapshotter's fallback, compared the way
 *    containerd's fs.Changes does), with whiteouts for deletions and the parents of every change.
 * Entries are sorted by the byte order of their paths (parents come first), hard links become
 * link entries to the first name, ids are numeric, mtimes are clamped to `sourceDateEpoch`.
 * Nothing is collected up front: the tree is walked one directory at a time, in output order, as the
 * tar is consumed, so memory depends on the widest directory, not on the number of files (the
 * extended attributes of the paths that have any are read first, by one getfattr process).
 */
import { closeSync, constants, fstatSync, openSync, readSync, type BigIntStats } from 'node:fs';
import { open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { JettisonError } from '../../errors.ts';
import { BLOCK, END_OF_ARCHIVE, encodeHeader, padding, type EntryType, type TarHeader } from './header.ts';
import { StatBatcher, STAT_BATCH } from './stat-batch.ts';
import { isOverlayXattr, readXattrTree } from './xattr.ts';

export type LayerSource =
  | { type: 'dir'; dir: string }
  | { type: 'overlay'; upper: string }
  | { type: 'diff'; lower: string; upper: string };

export interface WriteLayerOptions {
  /** Seconds since the epoch; any later mtime is written as this time (SOURCE_DATE_EPOCH). */
  sourceDateEpoch?: number;
  /** Read and write extended attributes (default true; needs getfattr). Overlay sources always need them. */
  xattrs?: boolean;
}

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';

type XattrTree = Map<string, Map<string, Buffer>>;

interface Item {
  rel: string;
  kind: 'path' | 'whiteout' | 'opaque';
  /** For 'path' items: where to read it from. */
  abs?: string;
  st?: BigIntStats;
}

/**
 * One child of a directory, in output order. A directory child appears twice: as its own entry (key
 * "name") and as the block of everything below it (key "name/"). Sorting a directory's children by
 * these keys' bytes and expanding each block in place gives the byte order of the full paths: no
 * sibling's name can sort between "name/" and the paths that start with it.
 */
interface Child {
  key: Buffer;
  item?: Item;
  /** For blocks: the directory's path relative to the root. */
  block?: string;
  /** diff sources: the block is a whole upper subtree (an added directory), not a comparison. */
  added?: boolean;
  /** diff sources: an unchanged directory, written only when something below it changed. */
  conditional?: boolean;
}

const READ_CHUNK = 256 * 1024;

function entryType(st: BigIntStats): EntryType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return undefined; // sockets are not archived (as in containerd)
}

function devMajor(rdev: bigint): number {
  return Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
}
function devMinor(rdev: bigint): number {
  return Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
}

function childRel(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

function filterXattrs(x: Map<string, Buffer> | undefined): Map<string, Buffer> | undefined {
  if (!x) return undefined;
  const out = new Map<string, Buffer>();
  for (const name of [...x.keys()].sort()) if (!isOverlayXattr(name)) out.set(name, x.get(name)!);
  return out.size ? out : undefined;
}

function xattrsEqual(a: Map<string, Buffer> | undefined, b: Map<string, Buffer> | undefined): boolean {
  const an = a?.size ?? 0;
  const bn = b?.size ?? 0;
  if (an !== bn) return false;
  if (an === 0) return true;
  for (const [k, v] of a!) {
    const w = b!.get(k);
    if (!w || !w.equals(v)) return false;
  }
  return true;
}

function byKey(a: Child, b: Child): number {
  return Buffer.compare(a.key, b.key);
}

/** lstat of every name in `dir`. */
async function lstatAll(stats: StatBatcher, dir: string, names: string[]): Promise<BigIntStats[]> {
  const out: BigIntStats[] = [];
  for (let i = 0; i < names.length; i += STAT_BATCH) out.push(...(await stats.batch(dir, names, i, true)));
  return out;
}

/** Adds a path's entry (and, for a directory, its block) to a directory's children. */
function addPath(children: Child[], name: string, rel: string, abs: string, st: BigIntStats, extra: { added?: boolean; conditional?: boolean } = {}): void {
  children.push({ key: Buffer.from(name), item: { rel, kind: 'path', abs, st }, ...(extra.conditional ? { conditional: true } : {}) });
  if (st.isDirectory()) children.push({ key: Buffer.from(`${name}/`), block: rel, ...(extra.added ? { added: true } : {}) });
}

function addWhiteout(children: Child[], dirRel: string, name: string): void {
  const wh = WHITEOUT_PREFIX + name;
  children.push({ key: Buffer.from(wh), item: { rel: childRel(dirRel, wh), kind: 'whiteout' } });
}

/** A directory's children (of a `dir` or `overlay` source), in output order. */
async function dirChildren(root: string, rel: string, overlay: boolean, xt: XattrTree | undefined, batcher: StatBatcher): Promise<Child[]> {
  const dir = rel === '' ? root : join(root, rel);
  const names = await readdir(dir);
  const stats = await lstatAll(batcher, dir, names);
  const children: Child[] = [];
  for (let i = 0; i < names.length; i++) {
    const st = stats[i];
    if (entryType(st) === undefined) continue;
    if (overlay && st.isCharacterDevice() && st.rdev === 0n) addWhiteout(children, rel, names[i]);
    else {
      const r = childRel(rel, names[i]);
      addPath(children, names[i], r, join(root, r), st);
    }
  }
  if (overlay && rel !== '') {
    const x = xt?.get(dir);
    const opaque = x?.get('trusted.overlay.opaque') ?? x?.get('user.overlay.opaque');
    if (opaque && opaque.toString() === 'y') {
      children.push({ key: Buffer.from(OPAQUE_MARKER), item: { rel: childRel(rel, OPAQUE_MARKER), kind: 'opaque' } });
    }
  }
  return children.sort(byKey);
}

/** Every entry below `rel` of a `dir` or `overlay` source, sorted by path bytes; one directory listed at a time. */
async function* dirItems(root: string, rel: string, overlay: boolean, xt: XattrTree | undefined, stats: StatBatcher): AsyncGenerator<Item> {
  for (const c of await dirChildren(root, rel, overlay, xt, stats)) {
    if (c.block !== undefined) yield* dirItems(root, c.block, overlay, xt, stats);
    else yield c.item!;
  }
}

async function sameContent(a: string, b: string, size: bigint): Promise<boolean> {
  if (size === 0n) return true;
  const fa = await open(a, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const fb = await open(b, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const ba = Buffer.allocUnsafe(READ_CHUNK);
      const bb = Buffer.allocUnsafe(READ_CHUNK);
      for (;;) {
        const [ra, rb] = await Promise.all([fa.read(ba, 0, READ_CHUNK, null), fb.read(bb, 0, READ_CHUNK, null)]);
        if (ra.bytesRead !== rb.bytesRead) return false;
        if (ra.bytesRead === 0) return true;
        if (!ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false;
      }
    } finally {
      await fb.close();
    }
  } finally {
    await fa.close();
  }
}

/** containerd's sameFile: same inode, or same metadata and (for non-directories) size, mtime, content when mtimes are ambiguous. */
async function unchanged(labs: string, uabs: string, l: BigIntStats, u: BigIntStats, lx: Map<string, Buffer> | undefined, ux: Map<string, Buffer> | undefined): Promise<boolean> {
  if (l.dev === u.dev && l.ino === u.ino) return true;
  if (l.mode !== u.mode || l.uid !== u.uid || l.gid !== u.gid) return false;
  if ((l.isCharacterDevice() || l.isBlockDevice()) && l.rdev !== u.rdev) return false;
  if (!xattrsEqual(filterXattrs(lx), filterXattrs(ux))) return false;
  if (u.isDirectory()) return true;
  if (l.size !== u.size) return false;
  if (u.isSymbolicLink()) return (await readlink(labs)) === (await readlink(uabs));
  const NS = 1_000_000_000n;
  if (l.mtimeNs / NS !== u.mtimeNs / NS) return false;
  if (l.mtimeNs % NS === 0n && u.mtimeNs % NS === 0n) return u.isFile() ? sameContent(labs, uabs, u.size) : true;
  return l.mtimeNs === u.mtimeNs;
}

/**
 * The changes from `lower` to `upper` (containerd's fs.Changes), sorted by path bytes, compared one
 * directory at a time: additions (whole subtrees for added directories), modifications, whiteouts for
 * deletions, and the parent directories of every change (their metadata as in upper), so the layer
 * stands on its own as an overlayfs lowerdir. An unchanged directory is written only when something
 * below it changed, which is found out (and remembered per directory) before its entry is written.
 */
class DiffWalk {
  private readonly lower: string;
  private readonly upper: string;
  private readonly lx: XattrTree | undefined;
  private readonly ux: XattrTree | undefined;
  /** Unchanged directories known to hold changes below them, or not. */
  private readonly changed = new Map<string, boolean>();
  /**
   * Directories a probe (changedBelow) listed on its way to the first change, kept for the real walk,
   * which takes each once: comparing a directory's entries (reading files whose mtimes are ambiguous)
   * is done once, not once per probe and again for the output.
   */
  private readonly listed = new Map<string, Child[]>();
  private readonly stats = new StatBatcher();

  constructor(lower: string, upper: string, lx: XattrTree | undefined, ux: XattrTree | undefined) {
    this.lower = lower;
    this.upper = upper;
    this.lx = lx;
    this.ux = ux;
  }

  private async children(rel: string, probing: boolean): Promise<Child[]> {
    const kept = this.listed.get(rel);
    if (kept) {
      this.listed.delete(rel);
      if (probing) this.listed.set(rel, kept);
      return kept;
    }
    const children = await this.compare(rel);
    if (probing) this.listed.set(rel, children);
    return children;
  }

  private async compare(rel: string): Promise<Child[]> {
    const ldir = rel === '' ? this.lower : join(this.lower, rel);
    const udir = rel === '' ? this.upper : join(this.upper, rel);
    const [lnames, unames] = await Promise.all([readdir(ldir), readdir(udir)]);
    const inLower = new Set(lnames);
    const inUpper = new Set(unames);
    const both = unames.filter((n) => inLower.has(n));
    const [ustats, lstats] = await Promise.all([lstatAll(this.stats, udir, unames), lstatAll(this.stats, ldir, both)]);
    const lstatOf = new Map<string, BigIntStats>();
    both.forEach((n, i) => lstatOf.set(n, lstats[i]));
    const children: Child[] = [];
    for (let i = 0; i < unames.length; i++) {
      const name = unames[i];
      const ust = ustats[i];
      const r = childRel(rel, name);
      const uabs = join(this.upper, r);
      const lst = lstatOf.get(name);
      if (!lst || entryType(lst) !== entryType(ust)) {
        if (entryType(ust) !== undefined) addPath(children, name, r, uabs, ust, { added: true });
        continue;
      }
      const labs = join(this.lower, r);
      const same = await unchanged(labs, uabs, lst, ust, this.lx?.get(labs), this.ux?.get(uabs));
      if (entryType(ust) === undefined) continue;
      if (ust.isDirectory()) addPath(children, name, r, uabs, ust, same ? { conditional: true } : {});
      else if (!same) addPath(children, name, r, uabs, ust);
    }
    for (const name of lnames) if (!inUpper.has(name)) addWhiteout(children, rel, name);
    return children.sort(byKey);
  }

  /** Whether anything below the unchanged directory `rel` changed (the walk stops at the first change). */
  private async changedBelow(rel: string): Promise<boolean> {
    let known = this.changed.get(rel);
    if (known === undefined) {
      known = false;
      for await (const _ of this.items(rel, true)) {
        known = true;
        break;
      }
      this.changed.set(rel, known);
      // Nothing below an unchanged-and-clean directory is walked again: forget what the probe listed there.
      if (!known) for (const k of this.listed.keys()) if (k === rel || k.startsWith(`${rel}/`)) this.listed.delete(k);
    }
    return known;
  }

  /** The changes below `rel`, in output order (`probing`: for changedBelow, which stops at the first). */
  async *items(rel: string, probing = false): AsyncGenerator<Item> {
    let skipped: string | undefined;
    for (const c of await this.children(rel, probing)) {
      if (c.block !== undefined) {
        if (c.block === skipped) continue;
        if (c.added) yield* dirItems(this.upper, c.block, false, undefined, this.stats);
        else yield* this.items(c.block, probing);
        continue;
      }
      if (c.conditional && !(await this.changedBelow(c.item!.rel))) {
        skipped = c.item!.rel;
        continue;
      }
      yield c.item!;
    }
  }
}

/**
 * The items of a source in output order, with their extended attributes (overlay's own dropped; an
 * overlay upper dir's redirect/metacopy metadata refused: the upper dir alone does not hold the content).
 */
async function* items(source: LayerSource, opts: WriteLayerOptions): AsyncGenerator<{ item: Item; xattrs: Map<string, Buffer> | undefined }> {
  const useXattrs = opts.xattrs !== false || source.type === 'overlay';
  let walk: AsyncGenerator<Item>;
  let xt: XattrTree | undefined;
  if (source.type === 'diff') {
    const [lx, ux] = useXattrs ? await Promise.all([readXattrTree(source.lower), readXattrTree(source.upper)]) : [undefined, undefined];
    xt = ux;
    walk = new DiffWalk(source.lower, source.upper, lx, ux).items('');
  } else {
    // one getfattr process reads the tree's xattrs (only paths that have any are kept)
    const root = source.type === 'dir' ? source.dir : source.upper;
    xt = useXattrs ? await readXattrTree(root) : undefined;
    walk = dirItems(root, '', source.type === 'overlay', xt, new StatBatcher());
  }
  for await (const item of walk) {
    const x = item.kind === 'path' ? xt?.get(item.abs!) : undefined;
    if (x && source.type === 'overlay') {
      for (const k of ['redirect', 'metacopy']) {
        if (x.has(`trusted.overlay.${k}`) || x.has(`user.overlay.${k}`)) {
          throw new JettisonError(
            'OVERLAY_UNSUPPORTED',
            `${item.abs}: has overlay ${k} metadata, so the upper dir alone does not hold its content; mount with redirect_dir=off,metacopy=off or use a diff source`,
          );
        }
      }
    }
    yield { item, xattrs: opts.xattrs === false ? undefined : filterXattrs(x) };
  }
}

function clamp(ns: bigint, opts: WriteLayerOptions): bigint {
  if (opts.sourceDateEpoch === undefined) return ns;
  const max = BigInt(Math.floor(opts.sourceDateEpoch)) * 1_000_000_000n;
  return ns > max ? max : ns;
}

function headerOf(item: Item, st: BigIntStats, xattrs: Map<string, Buffer> | undefined, opts: WriteLayerOptions): TarHeader {
  const type = entryType(st)!;
  return {
    path: item.rel,
    type,
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: type === 'file' ? Number(st.size) : 0,
    mtimeNs: clamp(st.mtimeNs, opts),
    linkname: '',
    devmajor: type === 'char' || type === 'block' ? devMajor(st.rdev) : 0,
    devminor: type === 'char' || type === 'block' ? devMinor(st.rdev) : 0,
    xattrs: xattrs ?? new Map(),
  };
}

/**
 * Files up to this size go out as one chunk (header, content and padding), read with synchronous
 * calls: for small files a thread-pool round trip per open/stat/read/close costs more than the work.
 */
const SMALL_FILE = 64 * 1024;

function changed(abs: string): JettisonError {
  return new JettisonError('FILE_CHANGED', `${abs}: changed while the layer was being written`);
}

function shrank(abs: string): JettisonError {
  return new JettisonError('FILE_CHANGED', `${abs}: file shrank while the layer was being written`);
}

/** The whole entry of a small file; undefined when it has grown past SMALL_FILE since it was listed. */
function smallFile(abs: string, item: Item, xattrs: Map<string, Buffer> | undefined, opts: WriteLayerOptions): Buffer | undefined {
  const fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const st = fstatSync(fd, { bigint: true });
    if (!st.isFile() || st.ino !== item.st!.ino) throw changed(abs);
    if (st.size > BigInt(SMALL_FILE)) return undefined;
    const header = encodeHeader(headerOf(item, st, xattrs, opts));
    const size = Number(st.size);
    const out = Buffer.allocUnsafe(header.length + size + padding(size));
    header.copy(out, 0);
    let at = header.length;
    while (at < header.length + size) {
      const n = readSync(fd, out, at, header.length + size - at, null);
      if (n === 0) throw shrank(abs);
      at += n;
    }
    out.fill(0, at);
    return out;
  } finally {
    closeSync(fd);
  }
}

async function* fileContent(abs: string, item: Item, xattrs: Map<string, Buffer> | undefined, opts: WriteLayerOptions): AsyncGenerator<Buffer> {
  if (item.st!.size <= BigInt(SMALL_FILE)) {
    const whole = smallFile(abs, item, xattrs, opts);
    if (whole) {
      yield whole;
      return;
    }
  }
  const fh = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const st = await fh.stat({ bigint: true });
    if (!st.isFile() || st.ino !== item.st!.ino) throw changed(abs);
    const header = headerOf(item, st, xattrs, opts);
    yield encodeHeader(header);
    let left = header.size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, left));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) throw shrank(abs);
      left -= bytesRead;
      yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    }
    const pad = padding(header.size);
    if (pad) yield Buffer.alloc(pad);
  } finally {
    await fh.close();
  }
}

async function* generate(source: LayerSource, opts: WriteLayerOptions): AsyncGenerator<Buffer> {
  const firstName = new Map<string, string>(); // dev:ino → first path written (files with several links only)
  for await (const { item, xattrs } of items(source, opts)) {
    if (item.kind !== 'path') {
      yield encodeHeader({
        path: item.rel,
        type: 'file',
        mode: 0,
        uid: 0,
        gid: 0,
        size: 0,
        mtimeNs: 0n,
        linkname: '',
        devmajor: 0,
        devminor: 0,
        xattrs: new Map(),
      });
      continue;
    }
    const st = item.st!;
    if (!st.isDirectory() && st.nlink > 1n) {
      const id = `${st.dev}:${st.ino}`;
      const first = firstName.get(id);
      if (first !== undefined) {
        yield encodeHeader({ ...headerOf(item, st, xattrs, opts), type: 'hardlink', size: 0, linkname: first, devmajor: 0, devminor: 0, xattrs: new Map() });
        continue;
      }
      firstName.set(id, item.rel);
    }
    if (st.isFile()) {
      yield* fileContent(item.abs!, item, xattrs, opts);
      continue;
    }
    const header = headerOf(item, st, xattrs, opts);
    if (header.type === 'symlink') header.linkname = await readlink(item.abs!);
    yield encodeHeader(header);
  }
  yield END_OF_ARCHIVE;
}

/**
 * A layer tar of `source`, produced as it is read. Errors (a vanished file, a missing getfattr)
 * surface as stream errors.
 */
export function writeLayerTar(source: LayerSource, opts: WriteLayerOptions = {}): Readable {
  return Readable.from(generate(source, opts), { objectMode: false, highWaterMark: 4 * BLOCK * 128 });
}
