/**
 * RUN --mount=type=cache directories: where one lives, who may use it at the same time, and how a new
 * one is made. A cache is named by its key: the id, plus (with BuildKit's `from=`) the identity of the
 * file system it starts from, so a different `from` is a different cache. Its directories are
 * `<state>/cache/<hash>` and, when `sharing=private` finds that one busy, `<hash>-1`, `<hash>-2`… which
 * are kept and reused like the first (as BuildKit keeps every cache ref it makes). Use is coordinated
 * across processes with the lock files of util/lock.ts in `<state>/cache-locks/`:
 * - shared: the directory everyone uses; takes a shared lock when it can (never waits for it), so that
 *   private and locked users see it is in use;
 * - locked: waits for the exclusive lock of the first directory;
 * - private: the first directory whose exclusive lock is free right now.
 * A new directory is an empty one with the requested owner and mode, or with `from=` a copy of that
 * file system (its layer dirs applied in order).
 */
import { digestHex, sha256 } from '../image/digest.ts';
import { chmod, chown, mkdir, rename, rm } from 'node:fs/promises';
import { pathExists } from '../util/fs.ts';
import { dirname, join } from 'node:path';
import { JettisonError } from '../errors.ts';
import { lockExclusive, lockShared, type LockHandle } from '../util/lock.ts';
import { applyLayerDir } from './snapshot/copy.ts';

export type CacheSharing = 'shared' | 'private' | 'locked';

export interface CacheDirRequest {
  id: string;
  sharing: CacheSharing;
  /** The file system a new cache starts as (`from=`): `key` names it, `layers` gives its layer dirs (newest first) when needed. */
  base?: { key: string; layers: () => Promise<string[]> };
  /** Owner and mode of a new empty cache directory (no base). */
  uid?: number;
  gid?: number;
  mode?: number;
  /** Cancels a wait for a locked cache. */
  signal?: AbortSignal;
}

export interface CacheDir {
  dir: string;
  release(): Promise<void>;
}

const PRIVATE_WAIT_MS = 200;

/** Takes an exclusive lock if it is free within PRIVATE_WAIT_MS; undefined when someone holds it. */
async function tryExclusive(dir: string): Promise<LockHandle | undefined> {
  try {
    // A short wait, not none: two private users starting at once would otherwise both give up on each
    // other's directory and both make a new one, kept for good.
    return await lockExclusive(dir, { timeoutMs: PRIVATE_WAIT_MS });
  } catch (err) {
    if (err instanceof JettisonError && err.code === 'LOCKED') return undefined;
    throw err;
  }
}

/** Waits for an exclusive lock, giving up when `signal` fires. */
async function waitExclusive(dir: string, signal: AbortSignal | undefined): Promise<LockHandle> {
  for (;;) {
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new JettisonError('ABORTED', 'the process was cancelled');
    try {
      return await lockExclusive(dir, { timeoutMs: 1000 });
    } catch (err) {
      if (!(err instanceof JettisonError && err.code === 'LOCKED')) throw err;
    }
  }
}

/**
 * Makes cache directory `dir` if it is missing: atomically, as a temp dir `.tmp-<owner token>` beside
 * it renamed into place (the worker sweeps those of dead processes).
 */
async function ensureCacheDir(dir: string, req: CacheDirRequest, token: string): Promise<void> {
  if (await pathExists(dir)) return;
  const tmp = join(dirname(dir), `.tmp-${token}`);
  try {
    await mkdir(tmp, { mode: 0o755 });
    if (req.base) {
      for (const layer of [...(await req.base.layers())].reverse()) await applyLayerDir(layer, tmp);
    } else {
      await chown(tmp, req.uid ?? 0, req.gid ?? 0);
      await chmod(tmp, req.mode ?? 0o755);
    }
    await rename(tmp, dir);
  } catch (err) {
    // Someone else made it first: theirs is as good.
    if (!(await pathExists(dir))) throw err;
  } finally {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
  }
}

/**
 * The cache directory to mount for `req`, made if new, held (as its sharing mode says) until release().
 * `token` names temp dirs (an owner token, so a crashed maker's leftovers are recognisable).
 */
export async function openCacheDir(stateDir: string, req: CacheDirRequest, token: string): Promise<CacheDir> {
  const key = req.base ? `${req.id}:${req.base.key}` : req.id;
  const hex = digestHex(sha256(key));
  const dirOf = (n: number) => join(stateDir, 'cache', n === 0 ? hex.slice(0, 32) : `${hex.slice(0, 32)}-${n}`);
  const lockOf = (n: number) => join(stateDir, 'cache-locks', n === 0 ? hex : `${hex}-${n}`);
  let n = 0;
  let lock: LockHandle | undefined;
  if (req.sharing === 'locked') lock = await waitExclusive(lockOf(0), req.signal);
  else if (req.sharing === 'private') {
    for (; !(lock = await tryExclusive(lockOf(n))); n++);
  } else {
    lock = await lockShared(lockOf(0), { timeoutMs: 0 }).catch(() => undefined);
  }
  try {
    await ensureCacheDir(dirOf(n), req, token);
  } catch (err) {
    await lock?.release();
    throw err;
  }
  return { dir: dirOf(n), release: async () => lock?.release() };
}
