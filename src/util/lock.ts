/**
 * A shared/exclusive lock between processes, made of files in one directory (Node has no flock).
 *
 * Every holder or contender creates its own file, named by kind and a unique owner token
 * ("S.<pid>.<start>.<rand>" or "X.<pid>.<start>.<rand>", created with O_EXCL), then lists the
 * directory:
 *  - shared: if any live X file exists, remove my S file, back off, retry; else I hold it.
 *  - exclusive: if another live X file exists, remove my X file, back off (random), retry; while a
 *    live S file exists, keep my X file (so no new shared holder gets in) and wait; else I hold it.
 * Because each contender creates its file before it lists, of two conflicting contenders at least
 * one sees the other. Files of dead owners (pid gone, or pid reused: the start time differs) are
 * unlinked by whoever finds them; the names are unique, so removing one can never remove a live
 * owner's file. A kill -9 leaves at most a stale file, which the next contender removes.
 */
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { JettisonError } from '../errors.ts';
import { mkdirp, readdirIfExists, unlinkIfExists } from './fs.ts';
import { newOwnerToken, ownerAlive } from './owner.ts';

export interface LockHandle {
  release(): Promise<void>;
}

export interface LockOptions {
  /** Give up (JettisonError code LOCKED) after this many milliseconds; default: wait for ever. */
  timeoutMs?: number;
}

async function createFile(path: string): Promise<void> {
  const fh = await open(path, 'wx', 0o644);
  await fh.close();
}

function handle(path: string): LockHandle {
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await unlinkIfExists(path);
    },
  };
}

/** Live lock files of the given kind other than `mine`; removes stale ones it meets. */
async function liveOthers(dir: string, kind: 'S' | 'X', mine: string): Promise<string[]> {
  const live: string[] = [];
  for (const name of await readdirIfExists(dir)) {
    if (!name.startsWith(`${kind}.`) || name === mine) continue;
    if (ownerAlive(name.slice(2))) live.push(name);
    else await unlinkIfExists(join(dir, name));
  }
  return live;
}

function deadline(opts: LockOptions): number {
  return opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
}

function checkDeadline(until: number, dir: string, what: string, holders: string[]): void {
  if (Date.now() > until) {
    throw new JettisonError('LOCKED', `timed out waiting for the ${what} lock in ${dir} (held by ${holders.join(', ')})`);
  }
}

async function backoff(attempt: number): Promise<void> {
  const max = Math.min(200, 2 ** Math.min(attempt, 8));
  await sleep(1 + Math.floor(Math.random() * max));
}

/** Takes the shared lock in `dir` (many holders at once; excludes exclusive holders). */
export async function lockShared(dir: string, opts: LockOptions = {}): Promise<LockHandle> {
  await mkdirp(dir);
  const until = deadline(opts);
  for (let attempt = 0; ; attempt++) {
    const mine = `S.${newOwnerToken()}`;
    const path = join(dir, mine);
    await createFile(path);
    const writers = await liveOthers(dir, 'X', mine);
    if (writers.length === 0) return handle(path);
    await unlink(path);
    checkDeadline(until, dir, 'shared', writers);
    await backoff(attempt);
  }
}

/** Takes the exclusive lock in `dir` (one holder, no shared holders). */
export async function lockExclusive(dir: string, opts: LockOptions = {}): Promise<LockHandle> {
  await mkdirp(dir);
  const until = deadline(opts);
  for (let attempt = 0; ; attempt++) {
    const mine = `X.${newOwnerToken()}`;
    const path = join(dir, mine);
    await createFile(path);
    try {
      for (let wait = 0; ; wait++) {
        const rivals = await liveOthers(dir, 'X', mine);
        if (rivals.length > 0) {
          checkDeadline(until, dir, 'exclusive', rivals);
          break;
        }
        const readers = await liveOthers(dir, 'S', mine);
        if (readers.length === 0) return handle(path);
        checkDeadline(until, dir, 'exclusive', readers);
        await backoff(wait);
      }
    } catch (err) {
      await unlinkIfExists(path);
      throw err;
    }
    await unlink(path);
    await backoff(attempt);
  }
}

/** Runs fn while holding the lock. */
export async function withLock<T>(take: Promise<LockHandle>, fn: () => Promise<T>): Promise<T> {
  const h = await take;
  try {
    return await fn();
  } finally {
    await h.release();
  }
}
