/**
 * Crash-safe small-file writes for the build cache: write a temporary file in the target's
 * directory, fsync it, rename it over the target, fsync the directory. A reader sees the old file,
 * the new file, or nothing, never a partial one; a crash leaves at most a ".tmp-…" file behind,
 * which readers ignore and sweepTemporaries() removes.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export const TEMP_PREFIX = '.tmp-';

export interface AtomicWriteHooks {
  /** Called after the temporary file is durable and before it is renamed into place (crash tests). */
  beforeCommit?: (tempPath: string) => Promise<void>;
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function writeFileAtomic(path: string, data: string | Uint8Array, hooks: AtomicWriteHooks = {}): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
  let committed = false;
  try {
    const fh = await open(temp, 'wx', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (hooks.beforeCommit) await hooks.beforeCommit(temp);
    await rename(temp, path);
    committed = true;
    await fsyncDir(dir);
  } finally {
    if (!committed) await rm(temp, { force: true });
  }
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
