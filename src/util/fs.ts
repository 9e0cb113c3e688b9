/**
 * Durable file-system helpers: fsync a directory, write a file atomically (temp file beside it,
 * fsync, rename, fsync the directory), and ignore-missing variants of unlink/readdir.
 */
import { lstat, open, rename, unlink, readdir, mkdir } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { newOwnerToken } from './owner.ts';

/** fsyncs a directory so that a rename or unlink in it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (err) {
    // Some file systems refuse fsync on directories; the rename is still atomic there.
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
  } finally {
    await fh.close();
  }
}

/**
 * Writes `data` to `file` so that readers see either the old content or the new, never a part.
 * The temp file is created in `tmpDir` (same file system; default: beside the file) with a name
 * starting with this process's owner token, so a crashed writer's leftovers can be recognised.
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  opts: {
    tmpDir?: string;
    mode?: number;
    /** The temp file's name (default: `<owner token>.tmp`), for callers whose readers skip their own pattern. */
    tempName?: string;
    /** Called once the temp file is durable, before the rename (crash tests). */
    beforeCommit?: (tempPath: string) => Promise<void>;
  } = {},
): Promise<void> {
  const tmpDir = opts.tmpDir ?? dirname(file);
  const tmp = join(tmpDir, opts.tempName ?? `${newOwnerToken()}.tmp`);
  const fh = await open(tmp, 'wx', opts.mode ?? 0o644);
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (opts.beforeCommit) await opts.beforeCommit(tmp);
    await rename(tmp, file);
  } catch (err) {
    await unlinkIfExists(tmp);
    throw err;
  }
  await fsyncDir(dirname(file));
}

export async function unlinkIfExists(file: string): Promise<boolean> {
  try {
    await unlink(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** lstat, or null when nothing can be found at `p` (every lstat failure counts as absent). */
export async function lstatOrNull(p: string): Promise<Stats | null> {
  try {
    return await lstat(p);
  } catch {
    return null;
  }
}

/** Whether something (a symlink counts, whatever it points to) is at `p`. */
export async function pathExists(p: string): Promise<boolean> {
  return (await lstatOrNull(p)) !== null;
}

/** readdir that returns [] for a missing directory. */
export async function readdirIfExists(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export async function mkdirp(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
}
