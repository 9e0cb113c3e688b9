/**
 * Crash-safe small-file writes for the build cache: write a temporary file in the target's
 * directory, fsync it, rename it over the target, fsync the directory. A reader sees the old file,
 * the new file, or nothing, never a partial one; a crash leaves at most a ".tmp-…" file behind,
 * which readers ignore and sweepTemporaries() removes.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { writeFileAtomic as writeAtomic } from '../util/fs.ts';
import { dirname, join } from 'node:path';

export const TEMP_PREFIX = '.tmp-';

/** A fresh temporary file name, "<TEMP_PREFIX><pid>-<random hex>" (readers skip it, sweepTemporaries removes it). */
export function tempName(): string {
  return `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`;
}

export interface AtomicWriteHooks {
  /** Called after the temporary file is durable and before it is renamed into place (crash tests). */
  beforeCommit?: (tempPath: string) => Promise<void>;
}

/** util/fs.ts's atomic write, with the cache's temp names (readers skip them, sweepTemporaries removes them). */
export async function writeFileAtomic(path: string, data: string | Uint8Array, hooks: AtomicWriteHooks = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeAtomic(path, data, {
    tempName: tempName(),
    ...(hooks.beforeCommit ? { beforeCommit: hooks.beforeCommit } : {}),
  });
}

/** Removes temporary files older than `olderThanMs` under dir (one level deep and its subdirectories). */
export async function sweepTemporaries(dir: string, olderThanMs: number, now = Date.now()): Promise<number> {
  let removed = 0;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  for (const name of names) {
    const path = join(dir, name);
    let st;
    try {
      st = await stat(path);
    } catch {
      continue;
    }
    if (st.isDirectory()) removed += await sweepTemporaries(path, olderThanMs, now);
    else if (name.startsWith(TEMP_PREFIX) && now - st.mtimeMs >= olderThanMs) {
      await rm(path, { force: true });
      removed++;
    }
  }
  return removed;
}
