/**
 * Paths inside a root filesystem that we do not trust: resolve a container path to a host path the way
 * the container would see it (symlinks followed, absolute links and ".." clamped at the root), and create
 * missing directories or files there, recording what was created so it can be taken out of a diff later.
 */
import { execFile } from 'node:child_process';
import { lstat, lutimes, mkdir, writeFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { posix } from 'node:path';
import { resolveInRoot as resolveScoped } from '../../context/scoped-path.ts';
import { utimesSeconds } from '../../util/time.ts';


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
 * creating missing parents as root-owned 0755 directories. Returns the resolved host path, the entries
 * it created (parents first), and when it created any, the host path and times of the directory the
 * first one was created in (`parentHost`, `parentTimes`). Existing entries are left alone, whatever
 * their type. `beforeCreate` is called with that directory's host path just before the first creation.
 */
export async function ensurePath(
  root: string,
  path: string,
  kind: 'dir' | 'file',
  mode = 0o755,
  beforeCreate?: (parentHost: string) => Promise<void>,
): Promise<{ hostPath: string; created: CreatedStub[]; parentTimes: SavedTimes[]; parentHost?: string }> {
  const parts = posix.normalize('/' + path).split('/').filter(Boolean);
  const created: CreatedStub[] = [];
  const parentTimes: SavedTimes[] = [];
  let parentHost: string | undefined;
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
      if (created.length === 0) {
        parentTimes.push({ path: containerPath, ...(await statTimes(hostPath)) });
        parentHost = hostPath;
        await beforeCreate?.(hostPath);
      }
      if (last && kind === 'file') await writeFile(host, '', { flag: 'wx', mode: 0o644 });
      else await mkdir(host, { mode: last ? mode : 0o755 });
      created.push({ path: next, dir: !(last && kind === 'file') });
    }
    containerPath = next;
    hostPath = host;
  }
  return { hostPath, created, parentTimes, ...(parentHost !== undefined ? { parentHost } : {}) };
}

/** A directory's times with nanoseconds ("SECONDS.NNNNNNNNN", what touch -d @… takes). */
export interface SavedTimes {
  path: string;
  atime: string;
  mtime: string;
}

function fmtNs(ns: bigint): string {
  const abs = ns < 0n ? -ns : ns;
  const frac = (abs % 1_000_000_000n).toString().padStart(9, '0');
  return `${ns < 0n ? '-' : ''}${abs / 1_000_000_000n}.${frac}`;
}

/** The atime and mtime of a host path with full precision. */
export async function statTimes(hostPath: string): Promise<{ atime: string; mtime: string }> {
  const st = await lstat(hostPath, { bigint: true });
  return { atime: fmtNs(st.atimeNs), mtime: fmtNs(st.mtimeNs) };
}

const run = promisify(execFile);

const NS = 1_000_000_000n;

function parseNs(t: string): bigint {
  const [sec, frac = ''] = t.split('.');
  const neg = sec.startsWith('-');
  const whole = BigInt(sec) * NS;
  const part = BigInt((frac + '000000000').slice(0, 9));
  return neg ? whole - part : whole + part;
}


/**
 * Sets a path's times back (not following a symlink): the mtime exactly, the atime (in no layer) to the
 * microsecond. Done in-process; Node's utimes takes seconds as a double (and libuv keeps microseconds),
 * so when that cannot hit the mtime exactly (nanosecond times, times before 1970) it is then set with
 * touch, which can. `exact: false` skips that.
 */
export async function restoreTimes(hostPath: string, t: { atime: string; mtime: string }, opts: { exact?: boolean } = {}): Promise<void> {
  const atimeNs = parseNs(t.atime);
  const mtimeNs = parseNs(t.mtime);
  await lutimes(hostPath, utimesSeconds(atimeNs), utimesSeconds(mtimeNs));
  if (opts.exact === false) return;
  const st = await lstat(hostPath, { bigint: true });
  if (st.mtimeNs !== mtimeNs) await run('touch', ['-c', '-h', '-m', '-d', `@${t.mtime}`, '--', hostPath]);
}
