/**
 * The layer applier: unpacks a layer tar stream into a directory, in one of two modes:
 *  - `merge`: into a full root filesystem — `.wh.NAME` deletes NAME, `.wh..wh..opq` empties its
 *    directory of everything not unpacked by this same layer (as containerd does);
 *  - `overlay`: one layer into its own directory, to serve as an overlayfs lowerdir — whiteouts
 *    become character devices 0/0, opaque markers become `trusted.overlay.opaque=y`.
 * Preserves modes, ownership (when root), mtimes, xattrs, devices, FIFOs and hard links.
 *
 * Security: entry and link paths are cleaned first (a leading "/" is dropped as containerd does;
 * any ".." component is rejected). Each parent is then resolved one component at a time with lstat,
 * never letting the OS follow a symlink: a symlink met on the way is followed only if its target is
 * relative and stays inside the root, else PathEscapeError. Final components are created with
 * O_EXCL|O_NOFOLLOW / mkdir / symlink / link, which never follow. Hard link targets must be inside
 * the root. Deferred work (directory modes and times, xattrs) re-checks its path before touching it.
 */
import { execFile } from 'node:child_process';
import { closeSync, constants, fchmodSync, fchownSync, futimesSync, lstatSync, openSync, writeSync, type BigIntStats } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, readdir, readlink, realpath, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { JettisonError, PathEscapeError } from '../../errors.ts';
import type { TarHeader } from './header.ts';
import { readTar } from './reader.ts';
import { OPAQUE_MARKER, WHITEOUT_PREFIX } from './writer.ts';
import { isOverlayXattr, restoreXattrs } from './xattr.ts';
import { utimesSeconds } from '../../util/time.ts';

const run = promisify(execFile);

export type ApplyMode = 'merge' | 'overlay';

export interface ApplyOptions {
  mode: ApplyMode;
  /** Set owners from the tar (default: when running as root). */
  sameOwner?: boolean;
  /** Set extended attributes from the tar (default true; needs setfattr when a layer has any). */
  xattrs?: boolean;
  /** Namespace of overlayfs' own attributes in overlay mode: "trusted" (default) or "user" (userxattr mounts). */
  overlayXattrPrefix?: 'trusted' | 'user';
  /** Told about what was skipped (devices when not root, attributes the file system refused). */
  onWarning?: (message: string) => void;
}

export interface ApplyResult {
  /** Entries read from the tar. */
  entries: number;
  /** Bytes of regular-file content written. */
  bytes: number;
}

const MAX_SYMLINK_HOPS = 255;

function escape(message: string): PathEscapeError {
  return new PathEscapeError(message);
}

/** Cleans a tar path into components: leading "/" dropped, "." and empty parts removed, ".." rejected. */
function components(raw: string, what: string): string[] {
  const parts = raw.split('/').filter((c) => c !== '' && c !== '.');
  if (parts.includes('..')) throw escape(`${what} "${raw}": path escapes the layer root (".." component)`);
  return parts;
}


/** lstat, null when absent (synchronous: a single cheap call, see the note on file writes). */
async function lstatOrNull(p: string): Promise<BigIntStats | null> {
  return lstatSync(p, { bigint: true, throwIfNoEntry: false }) ?? null;
}

interface DirMeta {
  mode: number;
  mtimeNs: bigint;
}

class Applier {
  private readonly root: string;
  private readonly opts: ApplyOptions;
  private readonly sameOwner: boolean;
  private readonly isRoot = process.getuid?.() === 0;
  /** Paths (resolved, relative) created by this layer: kept by an opaque marker in merge mode. */
  private readonly unpacked = new Set<string>();
  private readonly dirMeta = new Map<string, DirMeta>();
  private readonly xattrs = new Map<string, Map<string, Buffer>>();
  private readonly opaque = new Set<string>();
  /** Directory paths from the tar → their resolved real directories, valid until something is removed. */
  private readonly resolved = new Map<string, string[]>();
  result: ApplyResult = { entries: 0, bytes: 0 };

  constructor(root: string, opts: ApplyOptions) {
    this.root = root;
    this.opts = opts;
    this.sameOwner = opts.sameOwner ?? this.isRoot;
  }

  private abs(rel: string[]): string {
    return rel.length === 0 ? this.root : join(this.root, ...rel);
  }

  /**
   * Resolves a directory path inside the root, component by component, without the OS following
   * any symlink. Missing directories are created (mode 0755) when `create`, else null is returned.
   */
  private async resolveDir(parts: string[], create: boolean, what: string): Promise<string[] | null> {
    const key = parts.join('/');
    const cached = this.resolved.get(key);
    if (cached) return cached;
    const cur = await this.resolveUncached(parts, create, what);
    if (cur) this.resolved.set(key, cur);
    return cur;
  }

  /** Forgets resolved directories: called whenever anything is removed, since a removed directory may come back as a symlink. */
  private async remove(abs: string): Promise<void> {
    this.resolved.clear();
    await rm(abs, { recursive: true, force: true });
  }

  private async resolveUncached(parts: string[], create: boolean, what: string): Promise<string[] | null> {
    const cur: string[] = [];
    const queue = [...parts];
    let hops = 0;
    while (queue.length > 0) {
      const c = queue.shift()!;
      if (c === '..') {
        // only from a symlink target; cur holds real directories, so ".." is lexical
        if (cur.length === 0) throw escape(`${what}: path escapes the layer root through a symlink`);
        cur.pop();
        continue;
      }
      const p = this.abs([...cur, c]);
      const st = await lstatOrNull(p);
      if (st === null) {
        if (!create) return null;
        await mkdir(p, { mode: 0o755 });
        cur.push(c);
        this.unpacked.add(cur.join('/'));
        continue;
      }
      if (st.isSymbolicLink()) {
        if (++hops > MAX_SYMLINK_HOPS) throw escape(`${what}: too many levels of symbolic links`);
        const target = await readlink(p);
        if (target.startsWith('/')) {
          throw escape(`${what}: path goes through symlink ${[...cur, c].join('/')} -> ${target}, which points outside the layer root`);
        }
        queue.unshift(...target.split('/').filter((x) => x !== '' && x !== '.'));
        continue;
      }
      if (!st.isDirectory()) throw new JettisonError('BAD_TAR', `${what}: ${[...cur, c].join('/')} is not a directory`);
      cur.push(c);
    }
    return cur;
  }

  /** True when every parent of rel is a real directory (no symlink) and rel itself exists. */
  private async stillThere(rel: string, cache: Map<string, boolean>): Promise<boolean> {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      let ok = cache.get(prefix);
      if (ok === undefined) {
        const st = await lstatOrNull(join(this.root, prefix));
        ok = st !== null && st.isDirectory();
        cache.set(prefix, ok);
      }
      if (!ok) return false;
    }
    return (await lstatOrNull(join(this.root, rel))) !== null;
  }

  async entry(h: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
    this.result.entries++;
    const parts = components(h.path, `tar entry "${h.path}"`);
    if (parts.length === 0) return; // the root itself ("./"): left as it is
    const name = parts[parts.length - 1];
    const what = `tar entry "${h.path}"`;
    if (name.startsWith(WHITEOUT_PREFIX)) return this.whiteout(parts, what);

    const parent = (await this.resolveDir(parts.slice(0, -1), true, what))!;
    const relParts = [...parent, name];
    const rel = relParts.join('/');
    const abs = this.abs(relParts);
    const existing = await lstatOrNull(abs);
    if (existing && !(existing.isDirectory() && h.type === 'dir')) await this.remove(abs);
    this.xattrs.delete(rel);
    this.dirMeta.delete(rel);

    switch (h.type) {
      case 'dir':
        if (!existing || !existing.isDirectory()) await mkdir(abs, { mode: 0o700 });
        await this.own(abs, h);
        this.dirMeta.set(rel, { mode: h.mode, mtimeNs: h.mtimeNs });
        break;
      case 'file': {
        // Synchronous calls on the file descriptor: for the many small files of a layer the thread
        // pool round trips of async fs calls cost more than the calls; each call blocks briefly.
        const fd = openSync(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of body) {
            let off = 0;
            while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
            this.result.bytes += chunk.length;
          }
          if (this.sameOwner) fchownSync(fd, h.uid, h.gid);
          fchmodSync(fd, h.mode);
          futimesSync(fd, utimesSeconds(h.mtimeNs), utimesSeconds(h.mtimeNs));
        } finally {
          closeSync(fd);
        }
        break;
      }
      case 'symlink':
        await symlink(h.linkname, abs);
        await this.own(abs, h);
        await lutimes(abs, utimesSeconds(h.mtimeNs), utimesSeconds(h.mtimeNs));
        break;
      case 'hardlink': {
        if (h.linkname.startsWith('/')) throw escape(`${what}: hard link target "${h.linkname}" is outside the layer root`);
        const tparts = components(h.linkname, `${what}: hard link target`);
        if (tparts.length === 0) throw new JettisonError('BAD_TAR', `${what}: empty hard link target`);
        const tparent = await this.resolveDir(tparts.slice(0, -1), false, `${what}: hard link target "${h.linkname}"`);
        const target = tparent && this.abs([...tparent, tparts[tparts.length - 1]]);
        const tst = target ? await lstatOrNull(target) : null;
        if (!tst) throw new JettisonError('BAD_TAR', `${what}: hard link target "${h.linkname}" not found in the layer`);
        if (tst.isDirectory()) throw new JettisonError('BAD_TAR', `${what}: hard link target "${h.linkname}" is a directory`);
        await link(target!, abs);
        break;
      }
      case 'char':
      case 'block':
      case 'fifo': {
        if (h.type !== 'fifo' && !this.isRoot) {
          this.opts.onWarning?.(`${h.path}: device ${h.devmajor}:${h.devminor} not created (needs root)`);
          return;
        }
        const args = h.type === 'fifo' ? [abs, 'p'] : [abs, h.type === 'char' ? 'c' : 'b', String(h.devmajor), String(h.devminor)];
        await run('/usr/bin/mknod', args);
        await this.own(abs, h);
        await chmod(abs, h.mode);
        await lutimes(abs, utimesSeconds(h.mtimeNs), utimesSeconds(h.mtimeNs));
        break;
      }
    }
    this.unpacked.add(rel);
    if (this.opts.xattrs !== false && h.type !== 'hardlink') {
      const x = new Map([...h.xattrs].filter(([k]) => !isOverlayXattr(k)));
      if (x.size) this.xattrs.set(rel, x);
    }
  }

  private async own(abs: string, h: TarHeader): Promise<void> {
    if (this.sameOwner) await lchown(abs, h.uid, h.gid);
  }

  private async whiteout(parts: string[], what: string): Promise<void> {
    const name = parts[parts.length - 1];
    const overlay = this.opts.mode === 'overlay';
    if (name === OPAQUE_MARKER) {
      const dir = await this.resolveDir(parts.slice(0, -1), overlay, what);
      if (dir === null) return;
      if (overlay) this.opaque.add(dir.join('/'));
      else await this.emptyExceptUnpacked(dir);
      return;
    }
    if (name.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return; // other aufs metadata: ignored, as containerd does
    const target = name.slice(WHITEOUT_PREFIX.length);
    if (target === '' || target === '.' || target === '..') throw escape(`${what}: invalid whiteout`);
    const dir = await this.resolveDir(parts.slice(0, -1), overlay, what);
    if (dir === null) return;
    const relParts = [...dir, target];
    const abs = this.abs(relParts);
    await this.remove(abs);
    if (!overlay) return;
    if (!this.isRoot) throw new JettisonError('NEEDS_ROOT', `${what}: an overlay whiteout (character device 0/0) can only be created as root`);
    await run('/usr/bin/mknod', [abs, 'c', '0', '0']);
    this.unpacked.add(relParts.join('/'));
  }

  private async emptyExceptUnpacked(dir: string[]): Promise<void> {
    for (const child of await readdir(this.abs(dir))) {
      const relParts = [...dir, child];
      const abs = this.abs(relParts);
      if (!this.unpacked.has(relParts.join('/'))) {
        await this.remove(abs);
        continue;
      }
      const st = await lstat(abs);
      if (st.isDirectory()) await this.emptyExceptUnpacked(relParts);
    }
  }

  /** Deferred work: xattrs (after ownership, so file capabilities survive), then directory modes and times, deepest first. */
  async finish(): Promise<void> {
    const cache = new Map<string, boolean>();
    const pending: [string, Map<string, Buffer>][] = [];
    for (const [rel, x] of this.xattrs) if (await this.stillThere(rel, cache)) pending.push([join(this.root, rel), x]);
    const complaint = await restoreXattrs(pending);
    if (complaint) this.opts.onWarning?.(`some extended attributes were not set: ${complaint}`);
    if (this.opaque.size) {
      const attr = `${this.opts.overlayXattrPrefix ?? 'trusted'}.overlay.opaque`;
      const marks: [string, Map<string, Buffer>][] = [];
      for (const rel of this.opaque) {
        if (rel === '' || (await this.stillThere(rel, cache))) marks.push([this.abs(rel === '' ? [] : rel.split('/')), new Map([[attr, Buffer.from('y')]])]);
      }
      const failed = await restoreXattrs(marks);
      if (failed) throw new JettisonError('XATTR', `cannot mark opaque directories with ${attr}: ${failed}`);
    }
    const dirs = [...this.dirMeta].sort((a, b) => b[0].split('/').length - a[0].split('/').length);
    for (const [rel, meta] of dirs) {
      if (!(await this.stillThere(rel, cache))) continue;
      const abs = join(this.root, rel);
      const st = await lstat(abs);
      if (!st.isDirectory()) continue;
      await chmod(abs, meta.mode);
      await lutimes(abs, utimesSeconds(meta.mtimeNs), utimesSeconds(meta.mtimeNs));
    }
  }
}

/**
 * Applies a layer tar stream to `root` (created if missing). Rejects with PathEscapeError for any
 * entry that would land outside `root` (nothing outside is touched), with BAD_TAR for malformed input.
 * The whole stream is read, so a digest computed over it is complete when this resolves.
 */
export async function applyLayerTar(tar: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, root: string, opts: ApplyOptions): Promise<ApplyResult> {
  await mkdir(root, { recursive: true });
  const applier = new Applier(await realpath(root), opts);
  for await (const { header, body } of readTar(tar)) await applier.entry(header, body);
  await applier.finish();
  return applier.result;
}
