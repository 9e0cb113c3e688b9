/**
 * The changes a Commit holds as a stream of { path, kind } — the same answer for both commit forms, so
 * the overlay and copy snapshotters can be compared and a build can report what a RUN changed.
 * Directories are reported only when added or when their own metadata (mode, owner, mtime) changed, not
 * merely because something below them changed. Deletions are reported at the topmost deleted path.
 */
import { lstat, readlink } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { isOpaque, walk } from './walk.ts';
import type { Commit } from './types.ts';

export interface Change {
  /** Container path, starting with "/". */
  path: string;
  kind: 'add' | 'modify' | 'delete';
}

async function lstatBig(p: string): Promise<BigIntStats | undefined> {
  try {
    return await lstat(p, { bigint: true });
  } catch {
    return undefined;
  }
}

function typeOf(st: BigIntStats): number {
  return Number(st.mode) & 0o170000;
}

async function sameEntry(a: BigIntStats, pa: string, b: BigIntStats, pb: string): Promise<boolean> {
  if (typeOf(a) !== typeOf(b) || a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid) return false;
  if (a.isDirectory()) return a.mtimeNs === b.mtimeNs;
  if (a.size !== b.size || a.mtimeNs !== b.mtimeNs) return false;
  if (a.isSymbolicLink()) return (await readlink(pa)) === (await readlink(pb));
  if (a.isCharacterDevice() || a.isBlockDevice()) return a.rdev === b.rdev;
  return true;
}

/** The topmost lower's entry for `rel` (undefined when absent, whited out or hidden by an opaque dir). */
async function inLowers(lowers: string[], rel: string): Promise<{ st: BigIntStats; path: string } | undefined> {
  const parts = rel.split('/');
  for (const l of lowers) {
    const p = join(l, rel);
    const st = await lstatBig(p);
    if (st) {
      if (st.isCharacterDevice() && st.rdev === 0n) return undefined;
      return { st, path: p };
    }
    // An ancestor that is a whiteout, a non-directory or opaque in this layer hides the older ones.
    for (let i = parts.length - 1; i >= 1; i--) {
      const a = join(l, ...parts.slice(0, i));
      const ast = await lstatBig(a);
      if (!ast) continue;
      if (!ast.isDirectory()) return undefined;
      if (await isOpaque(a)) return undefined;
      break;
    }
  }
  return undefined;
}

async function* overlayChanges(upper: string, lowers: string[]): AsyncGenerator<Change> {
  for await (const e of walk(upper)) {
    const st = await lstatBig(join(upper, e.rel));
    if (!st) continue;
    const low = await inLowers(lowers, e.rel);
    if (st.isCharacterDevice() && st.rdev === 0n) {
      if (low) yield { path: '/' + e.rel, kind: 'delete' };
      continue;
    }
    if (!low) yield { path: '/' + e.rel, kind: 'add' };
    else if (!(await sameEntry(st, join(upper, e.rel), low.st, low.path))) yield { path: '/' + e.rel, kind: 'modify' };
    else if (st.isDirectory() && (await isOpaque(join(upper, e.rel)))) yield { path: '/' + e.rel, kind: 'modify' };
  }
}

async function* diffChanges(before: string, after: string): AsyncGenerator<Change> {
  for await (const e of walk(after)) {
    const st = await lstatBig(join(after, e.rel));
    if (!st) continue;
    const old = await lstatBig(join(before, e.rel));
    if (!old || (old.isDirectory() && !st.isDirectory())) yield { path: '/' + e.rel, kind: 'add' };
    else if (!(await sameEntry(st, join(after, e.rel), old, join(before, e.rel)))) yield { path: '/' + e.rel, kind: 'modify' };
  }
  const deleted: string[] = [];
  for await (const e of walk(before)) {
    if (deleted.some((d) => e.rel.startsWith(d + '/'))) continue;
    if (!(await lstatBig(join(after, e.rel)))) {
      deleted.push(e.rel);
      yield { path: '/' + e.rel, kind: 'delete' };
    }
  }
}

/** The changes in a commit, in walk order (additions and modifications first, then deletions for diffs). */
export function commitChanges(commit: Commit): AsyncGenerator<Change> {
  return commit.kind === 'overlay-upper'
    ? overlayChanges(commit.upperDir, commit.lowerDirs)
    : diffChanges(commit.lowerDir, commit.upperDir);
}
