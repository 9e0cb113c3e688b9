/**
 * The copy snapshotter, for where overlayfs cannot be mounted: the layer dirs (overlay format) are
 * merged oldest-first into `base` (whiteouts delete, opaque dirs are emptied first), `base` is copied to
 * `rootfs` with `cp -a --reflink=auto`, the container runs in `rootfs`, and the commit is the diff of
 * the two trees.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { lstatOrNull } from '../../util/fs.ts';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { JettisonError } from '../../errors.ts';
import { OPAQUE_XATTR, isWhiteout, opaqueDirs, removeXattr, walk } from './walk.ts';
import type { Commit, Snapshot, Snapshotter } from './types.ts';

const run = promisify(execFile);

async function cpTree(from: string, to: string): Promise<void> {
  try {
    await run('cp', ['-a', '--reflink=auto', '--', `${from}/.`, `${to}/`], { maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    throw new JettisonError('SNAPSHOT', `cp -a ${from} ${to}: ${((err as { stderr?: string }).stderr ?? String(err)).trim()}`);
  }
}

/** Applies overlay-format layer dir `layer` onto plain tree `dest`. */
export async function applyLayerDir(layer: string, dest: string): Promise<void> {
  const opaque = await opaqueDirs(layer);
  const whiteouts: string[] = [];
  // 1. Make room: opaque dirs are emptied, whiteouts delete, type changes (dir <-> non-dir) remove.
  for (const rel of opaque) {
    const d = rel ? join(dest, rel) : dest;
    const st = await lstatOrNull(d);
    if (st?.isDirectory()) for (const n of await readdir(d)) await rm(join(d, n), { recursive: true, force: true });
    else if (st) await rm(d, { force: true });
  }
  for await (const e of walk(layer)) {
    const target = join(dest, e.rel);
    if (isWhiteout(e.stat)) {
      whiteouts.push(e.rel);
      await rm(target, { recursive: true, force: true });
      continue;
    }
    const cur = await lstatOrNull(target);
    if (cur && (cur.isDirectory() !== e.stat.isDirectory() || !e.stat.isDirectory())) {
      await rm(target, { recursive: true, force: true });
    }
  }
  // 2. Copy everything (whiteout devices too, removed right after; cp does the metadata and xattrs).
  await cpTree(layer, dest);
  for (const rel of whiteouts) await rm(join(dest, rel), { force: true });
  for (const rel of opaque) await removeXattr(rel ? join(dest, rel) : dest, OPAQUE_XATTR);
}

export class CopySnapshotter implements Snapshotter {
  readonly name = 'copy' as const;

  async prepare(dir: string, lowers: string[]): Promise<{ rootfs: string }> {
    const base = join(dir, 'base');
    const rootfs = join(dir, 'rootfs');
    await mkdir(base, { mode: 0o755 });
    await mkdir(rootfs, { mode: 0o755 });
    for (const l of [...lowers].reverse()) await applyLayerDir(l, base);
    await cpTree(base, rootfs);
    return { rootfs };
  }

  async commit(s: Snapshot): Promise<Commit> {
    return { kind: 'diff', lowerDir: join(s.dir, 'base'), upperDir: join(s.dir, 'rootfs') };
  }

  async teardown(): Promise<void> {}
}
