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
 * Only metadata is collected up front; file contents are read as the tar is consumed.
 */
import { constants, type BigIntStats } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { JettisonError } from '../../errors.ts';
import { BLOCK, END_OF_ARCHIVE, encodeHeader, padding, type EntryType, type TarHeader } from './header.ts';
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
  key: Buffer;
  kind: 'path' | 'whiteout' | 'opaque';
  /** For 'path' items: where to read it from. */
  abs?: string;
  st?: BigIntStats;
  xattrs?: Map<string, Buffer>;
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

function parentRel(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

function baseName(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
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

function pathItem(rel: string, abs: string, st: BigIntStats, xt: XattrTree | undefined): Item {
  return { rel, key: Buffer.from(rel), kind: 'path', abs, st, xattrs: filterXattrs(xt?.get(abs)) };
}

/** Every entry under `root`/`rel` (rel itself excluded), depth first. */
async function walk(root: string, rel: string, visit: (rel: string, abs: string, st: BigIntStats) => Promise<boolean | void>): Promise<void> {
  const names = await readdir(rel === '' ? root : join(root, rel));
  const stats = await Promise.all(names.map((name) => lstat(join(root, childRel(rel, name)), { bigint: true })));
  for (let i = 0; i < names.length; i++) {
    const r = childRel(rel, names[i]);
    const abs = join(root, r);
    const st = stats[i];
    const descend = await visit(r, abs, st);
    if (st.isDirectory() && descend !== false) await walk(root, r, visit);
  }
}

async function planDir(root: string, overlay: boolean): Promise<Item[]> {
  const items: Item[] = [];
  await walk(root, '', async (rel, abs, st) => {
    if (entryType(st) === undefined) return;
    if (overlay && st.isCharacterDevice() && st.rdev === 0n) {
      const wh = childRel(parentRel(rel), WHITEOUT_PREFIX + baseName(rel));
      items.push({ rel: wh, key: Buffer.from(wh), kind: 'whiteout' });
      return;
    }
    items.push(pathItem(rel, abs, st, undefined));
  });
  return items;
}

/** Attaches xattrs to walked items; in an overlay upper dir, adds the opaque markers they imply. */
function attachXattrs(items: Item[], xt: XattrTree, overlay: boolean): Item[] {
  const markers: Item[] = [];
  for (const item of items) {
    if (item.kind !== 'path') continue;
    const x = xt.get(item.abs!);
    if (!x) continue;
    item.xattrs = filterXattrs(x);
    if (overlay) {
      for (const k of ['redirect', 'metacopy']) {
        if (x.has(`trusted.overlay.${k}`) || x.has(`user.overlay.${k}`)) {
          throw new JettisonError(
            'OVERLAY_UNSUPPORTED',
            `${item.abs}: has overlay ${k} metadata, so the upper dir alone does not hold its content; mount with redirect_dir=off,metacopy=off or use a diff source`,
          );
        }
      }
    }
    if (overlay && item.st!.isDirectory()) {
      const opaque = x.get('trusted.overlay.opaque') ?? x.get('user.overlay.opaque');
      if (opaque && opaque.toString() === 'y') {
        const m = childRel(item.rel, OPAQUE_MARKER);
        markers.push({ rel: m, key: Buffer.from(m), kind: 'opaque' });
      }
    }
  }
  return items.concat(markers);
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

async function planDiff(lower: string, upper: string, lx: XattrTree | undefined, ux: XattrTree | undefined): Promise<Item[]> {
  const items: Item[] = [];
  const addTree = async (rel: string, abs: string, st: BigIntStats) => {
    if (entryType(st) === undefined) return;
    items.push(pathItem(rel, abs, st, ux));
    if (st.isDirectory()) {
      await walk(upper, rel, async (r, a, s) => {
        if (entryType(s) !== undefined) items.push(pathItem(r, a, s, ux));
      });
    }
  };
  const diffDir = async (rel: string) => {
    const lnames = new Set(await readdir(rel === '' ? lower : join(lower, rel)));
    const unames = await readdir(rel === '' ? upper : join(upper, rel));
    const seen = new Set<string>();
    for (const name of unames) {
      seen.add(name);
      const r = childRel(rel, name);
      const uabs = join(upper, r);
      const ust = await lstat(uabs, { bigint: true });
      if (!lnames.has(name)) {
        await addTree(r, uabs, ust);
        continue;
      }
      const labs = join(lower, r);
      const lst = await lstat(labs, { bigint: true });
      if (entryType(lst) !== entryType(ust)) {
        await addTree(r, uabs, ust);
        continue;
      }
      if (!(await unchanged(labs, uabs, lst, ust, lx?.get(labs), ux?.get(uabs)))) {
        if (entryType(ust) !== undefined) items.push(pathItem(r, uabs, ust, ux));
      }
      if (ust.isDirectory()) await diffDir(r);
    }
    for (const name of lnames) {
      if (seen.has(name)) continue;
      const wh = childRel(rel, WHITEOUT_PREFIX + name);
      items.push({ rel: wh, key: Buffer.from(wh), kind: 'whiteout' });
    }
  };
  await diffDir('');
  // Every change carries its parent directories (their metadata, as in upper), so the layer stands
  // on its own as an overlayfs lowerdir.
  const have = new Set(items.map((i) => i.rel));
  const parents: Item[] = [];
  for (const item of items) {
    for (let p = parentRel(item.rel); p !== '' && !have.has(p); p = parentRel(p)) {
      have.add(p);
      const abs = join(upper, p);
      parents.push(pathItem(p, abs, await lstat(abs, { bigint: true }), ux));
    }
  }
  return items.concat(parents);
}

async function plan(source: LayerSource, opts: WriteLayerOptions): Promise<Item[]> {
  const useXattrs = opts.xattrs !== false || source.type === 'overlay';
  let items: Item[];
  if (source.type === 'diff') {
    const [lx, ux] = useXattrs ? await Promise.all([readXattrTree(source.lower), readXattrTree(source.upper)]) : [undefined, undefined];
    items = await planDiff(source.lower, source.upper, lx, ux);
  } else {
    const root = source.type === 'dir' ? source.dir : source.upper;
    const overlay = source.type === 'overlay';
    // one getfattr process reads the tree's xattrs while we walk it
    const [xt, walked] = await Promise.all([useXattrs ? readXattrTree(root) : undefined, planDir(root, overlay)]);
    items = xt ? attachXattrs(walked, xt, overlay) : walked;
    if (opts.xattrs === false) for (const i of items) i.xattrs = undefined;
  }
  items.sort((a, b) => Buffer.compare(a.key, b.key));
  return items;
}

function clamp(ns: bigint, opts: WriteLayerOptions): bigint {
  if (opts.sourceDateEpoch === undefined) return ns;
  const max = BigInt(Math.floor(opts.sourceDateEpoch)) * 1_000_000_000n;
  return ns > max ? max : ns;
}

function headerOf(item: Item, st: BigIntStats, opts: WriteLayerOptions): TarHeader {
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
    xattrs: item.xattrs ?? new Map(),
  };
}

async function* fileContent(abs: string, item: Item, opts: WriteLayerOptions): AsyncGenerator<Buffer> {
  const fh = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const st = await fh.stat({ bigint: true });
    if (!st.isFile() || st.ino !== item.st!.ino) throw new JettisonError('FILE_CHANGED', `${abs}: changed while the layer was being written`);
    const header = headerOf(item, st, opts);
    yield encodeHeader(header);
    let left = header.size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, left));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) throw new JettisonError('FILE_CHANGED', `${abs}: file shrank while the layer was being written`);
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
  const items = await plan(source, opts);
  const firstName = new Map<string, string>(); // dev:ino → first path written
  for (const item of items) {
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
        yield encodeHeader({ ...headerOf(item, st, opts), type: 'hardlink', size: 0, linkname: first, devmajor: 0, devminor: 0, xattrs: new Map() });
        continue;
      }
      firstName.set(id, item.rel);
    }
    if (st.isFile()) {
      yield* fileContent(item.abs!, item, opts);
      continue;
    }
    const header = headerOf(item, st, opts);
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
