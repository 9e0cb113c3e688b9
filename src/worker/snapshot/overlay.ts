/**
 * The overlayfs snapshotter: lower dirs (newest first) + an upper and a work dir, mounted at `merged`.
 * After a RUN the upper dir IS the diff. Long lower lists are mounted with paths relative to their
 * common parent (mount runs there), and past one page of options the oldest layers are first stacked
 * into read-only overlays of their own. Mounted with index=off (no hard-link index to keep).
 *
 * Where the kernel has it (5.10+), the writable overlay is mounted `volatile`: without it, every unmount
 * syncs the whole file system the upper dir is on (overlayfs's sync_fs), which cost a 200 MB COPY
 * about 0.7 s and every RUN step a sync of whatever else was dirty. The cost of volatile is that an
 * upper dir kept as a layer dir is not on disk until the kernel writes it back; worker/image.ts marks
 * such layer dirs and drops them after a reboot (the store's blob of the layer is always fsynced).
 */
import { mkdir, rmdir } from 'node:fs/promises';
import { newOwnerToken } from '../../util/owner.ts';
import { join, relative, posix, sep } from 'node:path';
import { JettisonError } from '../../errors.ts';
import { mount, unmount, unmountAll } from '../mounts.ts';
import { restoreTimes, statTimes } from '../fs/rootpath.ts';
import type { Commit, Snapshot, Snapshotter } from './types.ts';

/** Mount option budget: the kernel takes one page (4096 bytes) of options. */
const OPTION_BUDGET = 3900;

function checkPath(p: string): void {
  if (/[:,\\\n"]/.test(p)) {
    throw new JettisonError('SNAPSHOT', `cannot use ${JSON.stringify(p)} as an overlay layer dir: it contains : , \\ or a quote`);
  }
}

/** The longest common ancestor directory of absolute paths. */
function commonDir(paths: string[]): string {
  let parts = paths[0].split(sep);
  for (const p of paths.slice(1)) {
    const q = p.split(sep);
    let i = 0;
    while (i < parts.length && i < q.length && parts[i] === q[i]) i++;
    parts = parts.slice(0, i);
  }
  return parts.join(sep) || '/';
}

/** The lowerdir value for `lowers` relative to `cwd`. */
function lowerOption(lowers: string[], cwd: string): string {
  return lowers.map((l) => relative(cwd, l) || '.').join(':');
}

/** Splits lowers (newest first) into runs whose lowerdir option fits the budget. */
function chunk(lowers: string[], budget: number): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  for (const l of lowers) {
    const next = [...cur, l];
    if (cur.length > 0 && lowerOption(next, commonDir(next)).length > budget) {
      out.push(cur);
      cur = [l];
    } else cur = next;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

export class OverlaySnapshotter implements Snapshotter {
  readonly name = 'overlay' as const;
  /** Whether writable overlays are mounted with the volatile option (probeOverlay says if it works). */
  readonly volatile: boolean;

  constructor(opts: { volatile?: boolean } = {}) {
    this.volatile = opts.volatile ?? false;
  }

  async prepare(dir: string, lowersIn: string[]): Promise<{ rootfs: string }> {
    const upper = join(dir, 'upper');
    const work = join(dir, 'work');
    const merged = join(dir, 'merged');
    await mkdir(upper, { mode: 0o755 });
    await mkdir(work, { mode: 0o700 });
    await mkdir(merged, { mode: 0o755 });
    let lowers = [...lowersIn];
    for (const l of lowers) checkPath(l);
    checkPath(dir);
    if (lowers.length === 0) {
      // FROM scratch: overlayfs needs a lower dir; an empty one.
      const empty = join(dir, 'empty');
      await mkdir(empty, { mode: 0o755 });
      lowers = [empty];
    }
    const tail = `,upperdir=${upper},workdir=${work},index=off${this.volatile ? ',volatile' : ''}`;
    const budget = OPTION_BUDGET - tail.length - 'lowerdir='.length;
    if (lowerOption(lowers, commonDir(lowers)).length > budget) {
      const chunks = chunk(lowers, budget);
      const stacked: string[] = [];
      for (let i = 0; i < chunks.length; i++) {
        const c = chunks[i];
        if (c.length === 1) {
          stacked.push(c[0]);
          continue;
        }
        const at = join(dir, 's', String(i));
        await mkdir(at, { recursive: true });
        const cwd = commonDir(c);
        await mount('overlay', 'overlay', at, `lowerdir=${lowerOption(c, cwd)},index=off`, cwd);
        stacked.push(at);
      }
      lowers = stacked;
      if (lowerOption(lowers, commonDir(lowers)).length > budget) {
        throw new JettisonError('SNAPSHOT', `too many layers to mount (${lowersIn.length})`);
      }
    }
    const cwd = commonDir(lowers);
    await mount('overlay', 'overlay', merged, `lowerdir=${lowerOption(lowers, cwd)}${tail}`, cwd);
    return { rootfs: merged };
  }

  async commit(s: Snapshot): Promise<Commit> {
    await unmountAll(s.dir);
    const upper = join(s.dir, 'upper');
    if (s.state === 'ready') await this.pruneStubParents(s, upper);
    return { kind: 'overlay-upper', upperDir: upper, lowerDirs: [...s.lowers], durable: !this.volatile };
  }

  async teardown(s: Snapshot): Promise<void> {
    await unmountAll(s.dir);
  }

  /**
   * Removes from the upper dir the directories that are there only because a mount stub was made (and
   * removed) in them (`stubParents`: the exec checked they were left unchanged and empty), deepest
   * first. A directory that stays keeps its times (removing a child changes its mtime).
   */
  private async pruneStubParents(s: Snapshot, upper: string): Promise<void> {
    const ordered = [...s.stubParents].sort((a, b) => b.split('/').length - a.split('/').length);
    for (const rel of ordered) {
      const parent = posix.dirname(rel);
      const keepTimes = parent !== '.' && !s.stubParents.has(parent);
      const times = keepTimes ? await statTimes(join(upper, parent)).catch(() => undefined) : undefined;
      try {
        await rmdir(join(upper, rel));
      } catch {
        continue; // not empty after all, or gone
      }
      if (times) await restoreTimes(join(upper, parent), times).catch(() => {});
    }
  }
}

/**
 * Probes whether an overlay can be mounted with its upper dir under `dir`, and whether the volatile
 * option is taken: `{ volatile }` when it can (volatile tried first), else `{ error }` with why not.
 */
export async function probeOverlay(dir: string): Promise<{ volatile: boolean; error?: undefined } | { error: string }> {
  // Named by its owner, like every worker dir, so another process's stale-state sweep leaves it alone.
  const p = join(dir, newOwnerToken());
  const options = (work: string, extra: string) => `lowerdir=l1:l2,upperdir=${join(p, 'u')},workdir=${join(p, work)},index=off${extra}`;
  try {
    for (const d of ['l1', 'l2', 'u', 'w', 'm']) await mkdir(join(p, d), { recursive: true });
    try {
      await mount('overlay', 'overlay', join(p, 'm'), options('w', ',volatile'), p);
      await unmount(join(p, 'm'));
      return { volatile: true };
    } catch {
      // An older kernel: EINVAL for the option. (A volatile mount leaves work/incompat/volatile behind,
      // so the plain mount uses a fresh work dir.)
      await mkdir(join(p, 'w2'));
    }
    await mount('overlay', 'overlay', join(p, 'm'), options('w2', ''), p);
    await unmount(join(p, 'm'));
    return { volatile: false };
  } catch (err) {
    return { error: (err as Error).message };
  } finally {
    await unmountAll(p).catch(() => {});
    const { rm } = await import('node:fs/promises');
    await rm(p, { recursive: true, force: true }).catch(() => {});
  }
}
