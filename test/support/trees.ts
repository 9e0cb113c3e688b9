/**
 * File-tree helpers for layer tests: snapshotTree() describes a directory as one comparable line per
 * entry (type, mode, owner, size, content hash, link target, device numbers, mtime, xattrs, hard-link
 * group), and craftTar() builds a tar from header descriptions — including hostile ones (".." names,
 * absolute link targets) that no real writer produces.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BLOCK, END_OF_ARCHIVE, encodeHeader, padding, type TarHeader } from '../../src/image/tar/header.ts';

export interface SnapshotOptions {
  /** Include mtimes (to the microsecond, what Node can set). Default true; directories included. */
  mtimes?: boolean;
  /** Include owners. Default true. */
  owners?: boolean;
  /** Include extended attributes (read with getfattr, all namespaces). Default true. */
  xattrs?: boolean;
}

function xattrsOf(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  let text: string;
  try {
    text = execFileSync('getfattr', ['-R', '-d', '-m', '-', '-e', 'hex', '-h', '-P', '--absolute-names', dir], {
      encoding: 'utf8',
      env: { ...process.env, LC_ALL: 'C' },
    });
  } catch {
    return out;
  }
  let file = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('# file: ')) file = line.slice(8);
    else if (line) out.set(file, (out.get(file) ? `${out.get(file)},` : '') + line);
  }
  return out;
}

/** One line per entry under `dir`, keyed by relative path, sorted. */
export function snapshotTree(dir: string, opts: SnapshotOptions = {}): Record<string, string> {
  const xattrs = opts.xattrs === false ? new Map<string, string>() : xattrsOf(dir);
  const inodes = new Map<bigint, string>();
  const out: Record<string, string> = {};
  const visit = (rel: string) => {
    const names = readdirSync(rel ? join(dir, rel) : dir).sort();
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = join(dir, r);
      const st = lstatSync(abs, { bigint: true });
      const parts: string[] = [];
      const mode = (st.mode & 0o7777n).toString(8).padStart(4, '0');
      if (st.isFile()) parts.push('file', mode, `size=${st.size}`, `sha=${createHash('sha256').update(readFileSync(abs)).digest('hex').slice(0, 16)}`);
      else if (st.isDirectory()) parts.push('dir', mode);
      else if (st.isSymbolicLink()) parts.push('symlink', `-> ${readlinkSync(abs)}`);
      else if (st.isCharacterDevice()) parts.push('char', mode, `rdev=${st.rdev}`);
      else if (st.isBlockDevice()) parts.push('block', mode, `rdev=${st.rdev}`);
      else if (st.isFIFO()) parts.push('fifo', mode);
      else parts.push('other');
      if (opts.owners !== false) parts.push(`${st.uid}:${st.gid}`);
      if (opts.mtimes !== false) parts.push(`mtime=${st.mtimeNs / 1000n}`);
      const x = xattrs.get(abs);
      if (x) parts.push(`xattrs=${x}`);
      if (!st.isDirectory() && st.nlink > 1n) {
        const first = inodes.get(st.ino);
        if (first === undefined) inodes.set(st.ino, r);
        else parts.push(`hardlink=${first}`);
      }
      out[r] = parts.join(' ');
      if (st.isDirectory()) visit(r);
    }
  };
  visit('');
  return out;
}

export interface CraftEntry extends Partial<TarHeader> {
  path: string;
  content?: string | Buffer;
}

/** A tar (with end blocks) of the given entries; unset fields default to a root-owned 0644/0755 entry at mtime 0. */
export function craftTar(entries: CraftEntry[], opts: { end?: boolean } = {}): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const content = e.content === undefined ? Buffer.alloc(0) : Buffer.from(e.content);
    const type = e.type ?? 'file';
    const h: TarHeader = {
      path: e.path,
      type,
      mode: e.mode ?? (type === 'dir' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      size: type === 'file' ? (e.size ?? content.length) : 0,
      mtimeNs: e.mtimeNs ?? 0n,
      linkname: e.linkname ?? '',
      devmajor: e.devmajor ?? 0,
      devminor: e.devminor ?? 0,
      xattrs: e.xattrs ?? new Map(),
    };
    blocks.push(encodeHeader(h));
    if (type === 'file') blocks.push(content, Buffer.alloc(padding(content.length)));
  }
  if (opts.end !== false) blocks.push(END_OF_ARCHIVE);
  return Buffer.concat(blocks);
}

export { BLOCK };
