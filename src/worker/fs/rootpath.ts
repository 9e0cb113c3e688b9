/**
 * Paths inside a root filesystem that we do not trust: resolve a container path to a host path the way
 * the container would see it (symlinks followed, absolute links and ".." clamped at the root), and create
 * missing directories or files there, recording what was created so it can be taken out of a diff later.
 */
import { execFile } from 'node:child_process';
import { lstat, mkdir, writeFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { posix } from 'node:path';
import { resolveInRoot as resolveScoped } from '../../context/scoped-path.ts';


function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * The host path of container path `path` under `root`, following symlinks inside the root (a link can
 * never lead out of it). The last component is resolved too unless `followLast` is false. One mechanism
 * for the whole project: src/context/scoped-path.ts (symlinks are followed before "..", as the kernel does).
 */
export function resolveInRoot(root: string, path: string, followLast = true): Promise<string> {
  return resolveScoped(root, path, { followFinal: followLast });
}

/** One thing ensurePath created: a container path and whether it is a directory. */
export interface CreatedStub {
  path: string;
  dir: boolean;
}

/**
 * Makes container path `path` exist under `root` as a directory (`kind` 'dir') or an empty file ('file'),
 * creating missing parents as root-owned 0755 directories. Returns the resolved host path and the entries
 * it created (parents first). Existing entries are left alone, whatever their type.
 */
export async function ensurePath(
  root: string,
  path: string,
  kind: 'dir' | 'file',
  mode = 0o755,
): Promise<{ hostPath: string; created: CreatedStub[]; parentTimes: SavedTimes[] }> {
  const parts = posix.normalize('/' + path).split('/').filter(Boolean);
  const created: CreatedStub[] = [];
  const parentTimes: SavedTimes[] = [];
  let containerPath = '/';
  let hostPath = root;
  for (let i = 0; i < parts.length; i++) {
    const last = i === parts.length - 1;
    const next = posix.join(containerPath, parts[i]);
    const host = await resolveInRoot(root, next);
    let exists = true;
    try {
      await stat(host);
    } catch (err) {
      if (!isMissing(err)) throw err;
      exists = false;
    }
    if (!exists) {
      // Remember the parent's times so they can be restored once the stub is gone again.
      if (created.length === 0) parentTimes.push({ path: containerPath, ...(await statTimes(hostPath)) });
      if (last && kind === 'file') await writeFile(host, '', { flag: 'wx', mode: 0o644 });
      else await mkdir(host, { mode: last ? mode : 0o755 });
      created.push({ path: next, dir: !(last && kind === 'file') });
    }
    containerPath = next;
    hostPath = host;
  }
  return { hostPath, created, parentTimes };
}

/** A directory's times with nanoseconds ("SECONDS.NNNNNNNNN", what touch -d @… takes). */
export interface SavedTimes {
  path: string;
  atime: string;
  mtime: string;
}

function fmtNs(ns: bigint): string {
  const s = ns / 1_000_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${s}.${frac}`;
}

/** The atime and mtime of a host path with full precision. */
export async function statTimes(hostPath: string): Promise<{ atime: string; mtime: string }> {
  const st = await lstat(hostPath, { bigint: true });
  return { atime: fmtNs(st.atimeNs), mtime: fmtNs(st.mtimeNs) };
}

const run = promisify(execFile);

/** Sets a path's times back exactly (Node's utimes rounds nanoseconds; touch does not). */
export async function restoreTimes(hostPath: string, t: { atime: string; mtime: string }): Promise<void> {
  await run('touch', ['-c', '-h', '-a', '-d', `@${t.atime}`, '--', hostPath]);
  await run('touch', ['-c', '-h', '-m', '-d', `@${t.mtime}`, '--', hostPath]);
}
