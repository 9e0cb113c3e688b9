/**
 * The worker: runs RUN steps. A RUN is
 *
 *   const snap = await worker.prepare(layerDirs);          // newest first; overlay-format applied layers
 *   const res = await worker.exec(snap, { args, env, cwd, user, network, mounts }, { onStdout, onStderr, signal });
 *   const commit = await worker.commit(snap);              // what the layer tar writer reads
 *   ... write the layer ...
 *   await worker.release(snap);
 *
 * State lives in `<root>/worker/` (root = the store root): snapshots/, exec/ (bundles, per-run mounts),
 * cache/ and cache-locks/ (RUN --mount=type=cache dirs, see cache-mounts.ts), runtime/<name>/ (the runtime's state), layers/<diffID hex>
 * (image layers unpacked as lower dirs, see layerDirs). Every snapshot and exec dir
 * is named by its owner process; createWorker cleans those whose process is gone (mounts, containers, dirs).
 * The snapshotter is overlayfs when an overlay can be mounted in the state dir, else a copy fallback;
 * JETTISON_SNAPSHOTTER=overlay|copy (or the option) forces one. The runtime (runc, crun) is found and
 * probed on first use; the `runtime` option (CLI --runtime) picks one. Passed probes are remembered in
 * probes.json (see probe-cache.ts) until the kernel, the boot or the runtime binary changes. Writable
 * overlays are mounted volatile where the kernel takes it (see snapshot/overlay.ts and image.ts).
 */
import { copyFile, chown, lstat, mkdir, readdir, rm, rmdir, stat, writeFile, chmod } from 'node:fs/promises';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { JettisonError } from '../errors.ts';
import { newOwnerToken, ownerAlive } from '../util/owner.ts';
import { ensurePath, resolveInRoot, restoreTimes, type CreatedStub, type SavedTimes } from './fs/rootpath.ts';
import { mount, unmountAll } from './mounts.ts';
import { CopySnapshotter } from './snapshot/copy.ts';
import { OverlaySnapshotter, probeOverlay } from './snapshot/overlay.ts';
import type { Commit, Snapshot, Snapshotter, SnapshotterName } from './snapshot/types.ts';
import { detectRuntime } from './runtime/detect.ts';
import { ProbeCache } from './probe-cache.ts';
import { openCacheDir, type CacheDir, type CacheSharing } from './cache-mounts.ts';
import { deleteContainer, runContainer, type Runtime } from './runtime/run.ts';
import { buildSpec, type NetworkMode, type OciMount } from './runtime/spec.ts';
import { resolveUser, type ResolvedUser } from './runtime/user.ts';

export type { Commit, Snapshot, SnapshotterName } from './snapshot/types.ts';
export type { Runtime } from './runtime/run.ts';
export type { ResolvedUser } from './runtime/user.ts';
export type { NetworkMode } from './runtime/spec.ts';
export type { CacheSharing } from './cache-mounts.ts';
export { commitChanges, type Change } from './snapshot/changes.ts';
export { resolveUser, resolveUserFrom } from './runtime/user.ts';
export { adoptUpper, layerDirs } from './image.ts';

export interface WorkerOptions {
  /** The store root; the worker keeps its state in `<root>/worker`. */
  root: string;
  /** 'runc', 'crun' or a path to a runtime binary; default: the first that works. */
  runtime?: string;
  /** Force a snapshotter; default: $JETTISON_SNAPSHOTTER, else overlay when it can be mounted, else copy. */
  snapshotter?: SnapshotterName;
  /** The environment $JETTISON_SNAPSHOTTER is read from (default process.env): a library caller's own. */
  env?: NodeJS.ProcessEnv;
}

/** A mount the caller asks for (RUN --mount). Targets missing in the rootfs are created and kept out of the diff. */
export type MountSpec =
  | {
      /** Bind a host path. Read-only by default; `readonly: false` gives a writable view whose writes are thrown away. */
      type: 'bind';
      source: string;
      target: string;
      readonly?: boolean;
    }
  | {
      /**
       * A persistent directory kept under the worker state, keyed by `id` (and `base.key`), kept
       * between runs and builds (see cache-mounts.ts).
       */
      type: 'cache';
      id: string;
      target: string;
      readonly?: boolean;
      /** shared (default): used by all at once; locked: one user at a time; private: a directory no one else uses now. */
      sharing?: CacheSharing;
      /**
       * BuildKit's from=: a new cache starts as a copy of this file system (its layer dirs, newest first,
       * asked for only when a cache is made); `key` identifies it, so another base is another cache.
       */
      base?: { key: string; layers: () => Promise<string[]> };
      /** The path inside the cache that is mounted (BuildKit's source=; with a base). Default "/". */
      source?: string;
      /** Owner and mode given to the directory when it is first created without a base (default 0:0 0755). */
      uid?: number;
      gid?: number;
      mode?: number;
    }
  | { type: 'tmpfs'; target: string; /** bytes */ size?: number }
  | {
      /** A secret file: held on a tmpfs outside the rootfs, bind-mounted read-only. */
      type: 'secret';
      target: string;
      data: Buffer | string;
      uid?: number;
      gid?: number;
      /** default 0400 */
      mode?: number;
    };

export interface ProcessSpec {
  args: string[];
  /** NAME=value. PATH gets the usual default when missing. */
  env?: string[];
  /** Working directory; created (root-owned, 0755) when missing, and kept like WORKDIR. Default "/". */
  cwd?: string;
  /** USER: name, uid, name:group, uid:gid; resolved in the rootfs. Default root. */
  user?: string;
  /** Default 'buildkitsandbox' (BuildKit's). */
  hostname?: string;
  /** 'host' (default) or 'none' (a new network namespace with only loopback). */
  network?: NetworkMode;
  mounts?: MountSpec[];
  /** Secrets given to the process as environment variables only (never written anywhere). */
  secretEnv?: Record<string, string>;
}

export interface ExecOptions {
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  /** Default: no stdin (/dev/null). */
  stdin?: Readable | Buffer | string;
  signal?: AbortSignal;
}

export interface ExecResult {
  exitCode: number;
  /** The user the process ran as. */
  user: ResolvedUser;
}

export interface Worker {
  /** `<root>/worker`. */
  readonly stateDir: string;
  readonly snapshotter: SnapshotterName;
  /** Why that snapshotter: "overlayfs works", "forced by JETTISON_SNAPSHOTTER", or the mount error. */
  readonly snapshotterReason: string;
  /** The runtime (found and probed on first call). */
  runtime(): Promise<Runtime>;
  prepare(lowers: string[]): Promise<Snapshot>;
  exec(snapshot: Snapshot, proc: ProcessSpec, opts?: ExecOptions): Promise<ExecResult>;
  commit(snapshot: Snapshot): Promise<Commit>;
  release(snapshot: Snapshot): Promise<void>;
  /** Releases every snapshot this worker still holds. */
  close(): Promise<void>;
}

function envSnapshotter(env: NodeJS.ProcessEnv): SnapshotterName | undefined {
  const v = env.JETTISON_SNAPSHOTTER;
  if (!v) return undefined;
  if (v === 'overlay' || v === 'copy') return v;
  throw new JettisonError('CONFIG', `JETTISON_SNAPSHOTTER must be overlay or copy, not ${JSON.stringify(v)}`);
}

/** Removes what dead processes left: containers, mounts and dirs under exec/ and snapshots/. */
async function cleanStale(stateDir: string): Promise<void> {
  const runtimeRoot = join(stateDir, 'runtime');
  for (const sub of ['exec', 'snapshots', 'probe', 'layers', 'cache']) {
    const dir = join(stateDir, sub);
    let names: string[] = [];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      // layers/ and cache/ hold what is kept, and ".tmp-OWNER" dirs being made.
      const kept = sub === 'layers' || sub === 'cache';
      if (kept && !name.startsWith('.tmp-')) continue;
      if (ownerAlive(kept ? name.slice(5) : name)) continue;
      const p = join(dir, name);
      if (sub === 'exec') {
        for (const rt of await readdir(runtimeRoot).catch(() => [] as string[])) {
          const { findOnPath } = await import('./runtime/detect.ts');
          const path = findOnPath(rt);
          if (path) await deleteContainer({ name: rt, path, stateRoot: join(runtimeRoot, rt) }, `j-${name}`);
        }
      }
      // A dir still busy (mounted in another process's namespace) is left for a later sweep, never fatal.
      try {
        await unmountAll(p);
        await rm(p, { recursive: true, force: true });
      } catch {
        /* retried by the next worker */
      }
    }
  }
}

export async function createWorker(opts: WorkerOptions): Promise<Worker> {
  const stateDir = join(resolve(opts.root), 'worker');
  for (const d of ['snapshots', 'exec', 'cache', 'runtime', 'probe']) await mkdir(join(stateDir, d), { recursive: true, mode: 0o700 });
  await cleanStale(stateDir);
  const probes = new ProbeCache(stateDir, join(stateDir, 'probe'));
  let name: SnapshotterName;
  let reason: string;
  let volatile = false;
  const forced = opts.snapshotter ?? envSnapshotter(opts.env ?? process.env);
  // Whether overlayfs mounts here, and with the volatile option (remembered: a probe mounts one).
  let why: string | undefined;
  if (forced !== 'copy') {
    const key = probes.overlayKey();
    // Remembered as 'overlay' = KEY|volatile or KEY|plain. A file from before volatile was probed holds
    // plain KEY, which matches neither: probe again.
    const recorded = await probes.recorded('overlay');
    if (recorded === `${key}|volatile`) volatile = true;
    else if (recorded !== `${key}|plain`) {
      const r = await probeOverlay(join(stateDir, 'probe'));
      if (r.error !== undefined) why = r.error;
      else {
        volatile = r.volatile;
        await probes.remember('overlay', `${key}|${volatile ? 'volatile' : 'plain'}`);
      }
    }
  }
  if (forced) {
    name = forced;
    reason = opts.snapshotter ? 'chosen by option' : 'forced by JETTISON_SNAPSHOTTER';
  } else {
    name = why === undefined ? 'overlay' : 'copy';
    reason = why === undefined ? 'overlayfs works' : `overlayfs cannot be mounted here (${why})`;
  }
  return new WorkerImpl(stateDir, name, reason, opts.runtime, probes, volatile);
}

class WorkerImpl implements Worker {
  readonly stateDir: string;
  readonly snapshotter: SnapshotterName;
  readonly snapshotterReason: string;
  private readonly impl: Snapshotter;
  private readonly runtimeChoice: string | undefined;
  private runtimePromise: Promise<Runtime> | undefined;
  private readonly live = new Set<Snapshot>();
  private readonly probes: ProbeCache;

  constructor(stateDir: string, name: SnapshotterName, reason: string, runtime: string | undefined, probes: ProbeCache, volatile: boolean) {
    this.probes = probes;
    this.stateDir = stateDir;
    this.snapshotter = name;
    this.snapshotterReason = reason;
    this.impl = name === 'overlay' ? new OverlaySnapshotter({ volatile }) : new CopySnapshotter();
    this.runtimeChoice = runtime;
  }

  runtime(): Promise<Runtime> {
    if (!this.runtimePromise) {
      const stateRoot = (n: string) => join(this.stateDir, 'runtime', n);
      this.runtimePromise = (async () => {
        // The state root depends on the runtime; probe with a per-name root.
        const rt = await detectRuntime(this.runtimeChoice, stateRoot('probe'), join(this.stateDir, 'probe'), undefined, this.probes);
        const final = { ...rt, stateRoot: stateRoot(rt.name) };
        await mkdir(final.stateRoot, { recursive: true, mode: 0o700 });
        return final;
      })();
      this.runtimePromise.catch(() => {
        this.runtimePromise = undefined;
      });
    }
    return this.runtimePromise;
  }

  async prepare(lowers: string[]): Promise<Snapshot> {
    const id = newOwnerToken();
    const dir = join(this.stateDir, 'snapshots', id);
    await mkdir(dir, { mode: 0o700 });
    try {
      const { rootfs } = await this.impl.prepare(dir, lowers.map((l) => resolve(l)));
      const snap: Snapshot = { id, kind: this.snapshotter, dir, rootfs, lowers: [...lowers], stubParents: new Set(), state: 'ready' };
      this.live.add(snap);
      return snap;
    } catch (err) {
      await unmountAll(dir).catch(() => {});
      await rm(dir, { recursive: true, force: true }).catch(() => {});
      throw err;
    }
  }

  async commit(s: Snapshot): Promise<Commit> {
    if (s.state === 'released') throw new JettisonError('SNAPSHOT', `snapshot ${s.id} was released`);
    const c = await this.impl.commit(s);
    s.state = 'committed';
    return c;
  }

  async release(s: Snapshot): Promise<void> {
    if (s.state === 'released') return;
    await this.impl.teardown(s);
    if (this.impl.name !== 'overlay') await unmountAll(s.dir); // the overlay's teardown just did
    await rm(s.dir, { recursive: true, force: true });
    s.state = 'released';
    this.live.delete(s);
  }

  async close(): Promise<void> {
    for (const s of [...this.live]) await this.release(s);
  }

  async exec(snap: Snapshot, proc: ProcessSpec, opts: ExecOptions = {}): Promise<ExecResult> {
    if (snap.state !== 'ready') throw new JettisonError('SNAPSHOT', `snapshot ${snap.id} is ${snap.state}, not ready to run in`);
    if (proc.args.length === 0) throw new JettisonError('RUNTIME', 'no command to run');
    const rt = await this.runtime();
    const token = newOwnerToken();
    const execDir = join(this.stateDir, 'exec', token);
    const containerId = `j-${token}`;
    await mkdir(execDir, { mode: 0o700 });
    const rootfs = snap.rootfs;
    // The overlay's upper dir, where stubs land (copied-up parents included).
    const upper = snap.kind === 'overlay' ? join(snap.dir, 'upper') : undefined;
    const stubs: StubRecord = { created: [], parents: new Map(), copiedUp: new Map() };
    // Whether anything was mounted under execDir (secrets' tmpfs, writable bind views).
    let execMounts = false;
    const cacheDirs: CacheDir[] = [];
    const openedCaches = new Map<string, CacheDir>();
    try {
      const user = await resolveUser(rootfs, proc.user);
      const cwd = posix.normalize('/' + (proc.cwd ?? '/'));
      await ensurePath(rootfs, cwd, 'dir');
      const network = proc.network ?? 'host';
      const env = [...(proc.env ?? [])];
      for (const [k, v] of Object.entries(proc.secretEnv ?? {})) env.push(`${k}=${v}`);

      const mounts: OciMount[] = [];
      for (const f of ['/etc/resolv.conf', '/etc/hosts']) {
        if (existsSync(f)) mounts.push({ destination: f, type: 'bind', source: realpathSync(f), options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] });
      }
      let i = 0;
      let secretsDir: string | undefined;
      for (const m of proc.mounts ?? []) {
        i++;
        const target = posix.normalize('/' + m.target);
        if (m.type === 'bind') {
          const src = resolve(m.source);
          const st = await stat(src).catch(() => {
            throw new JettisonError('MOUNT', `bind mount source ${m.source}: no such file or directory`);
          });
          if (m.readonly !== false) {
            mounts.push({ destination: target, type: 'bind', source: src, options: ['rbind', 'ro'] });
          } else {
            execMounts = true;
            mounts.push({ destination: target, type: 'bind', source: await this.scratchView(execDir, i, src, st.isDirectory()), options: ['rbind', 'rw'] });
          }
        } else if (m.type === 'cache') {
          // One cache (id and from) mounted twice in one RUN is one directory, opened (and locked) once.
          const cacheKey = `${m.id}\0${m.base?.key ?? ''}`;
          let c = openedCaches.get(cacheKey);
          if (!c) {
            c = await openCacheDir(
              this.stateDir,
              { id: m.id, sharing: m.sharing ?? 'shared', ...(m.base ? { base: m.base } : {}), uid: m.uid, gid: m.gid, mode: m.mode, signal: opts.signal },
              token,
            );
            openedCaches.set(cacheKey, c);
            cacheDirs.push(c);
          }
          const source = m.source === undefined || posix.normalize('/' + m.source) === '/' ? c.dir : await resolveInRoot(c.dir, m.source);
          const st = await stat(source).catch(() => undefined);
          if (!st) throw new JettisonError('MOUNT', `cache mount ${target}: source ${posix.normalize('/' + m.source)} not found in the cache${m.base ? "'s from" : ''}`);
          mounts.push({ destination: target, type: 'bind', source, options: ['rbind', m.readonly ? 'ro' : 'rw'] });
        } else if (m.type === 'tmpfs') {
          const o = ['nosuid', 'nodev', 'mode=1777'];
          if (m.size !== undefined) o.push(`size=${Math.max(4096, Math.floor(m.size))}`);
          mounts.push({ destination: target, type: 'tmpfs', source: 'tmpfs', options: o });
        } else if (m.type === 'secret') {
          if (!secretsDir) {
            secretsDir = join(execDir, 'secrets');
            await mkdir(secretsDir, { mode: 0o700 });
            execMounts = true;
            await mount('tmpfs', 'tmpfs', secretsDir, 'mode=0700,size=16m,nosuid,nodev,noexec');
          }
          const file = join(secretsDir, String(i));
          await writeFile(file, m.data, { mode: 0o600, flag: 'wx' });
          await chown(file, m.uid ?? 0, m.gid ?? 0);
          await chmod(file, m.mode ?? 0o400);
          mounts.push({ destination: target, type: 'bind', source: file, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] });
        } else {
          throw new JettisonError('MOUNT', `unknown mount type ${(m as { type: string }).type}`);
        }
      }

      // Create missing mount points ourselves (recording them), so that none is left in the diff.
      const spec = buildSpec({ rootfs, args: proc.args, env, cwd, user, hostname: proc.hostname ?? 'buildkitsandbox', network, mounts });
      const all = spec.mounts as OciMount[];
      const covered: string[] = [];
      for (const m of all) {
        const under = covered.some((c) => m.destination === c || m.destination.startsWith(c === '/' ? '/' : c + '/'));
        covered.push(m.destination);
        if (under) continue;
        let kind: 'dir' | 'file' = 'dir';
        if (m.type === 'bind') kind = (await stat(m.source)).isDirectory() ? 'dir' : 'file';
        const r = await ensurePath(rootfs, m.destination, kind, 0o755, upper ? (parentHost) => noteCopyUps(rootfs, upper, parentHost, stubs.copiedUp) : undefined);
        if (r.created.length === 0 || r.parentHost === undefined) continue;
        stubs.created.push(...r.created);
        if (!stubs.parents.has(r.parentHost)) stubs.parents.set(r.parentHost, { saved: r.parentTimes[0] });
      }
      await recordStubState(stubs, upper);
      const res = await runContainer(rt, execDir, containerId, spec, {
        onStdout: opts.onStdout,
        onStderr: opts.onStderr,
        stdin: opts.stdin,
        signal: opts.signal,
      });
      return { exitCode: res.exitCode, user };
    } finally {
      // runContainer removed the container (or deleted what was left of it).
      if (execMounts) await unmountAll(execDir);
      await removeStubs(snap, stubs, upper);
      for (const c of cacheDirs) await c.release().catch(() => {});
      await rm(execDir, { recursive: true, force: true });
    }
  }

  /** A writable view of `src` whose writes are thrown away: an overlay over it (or a copy). */
  private async scratchView(execDir: string, i: number, src: string, isDir: boolean): Promise<string> {
    const base = join(execDir, `b${i}`);
    await mkdir(base, { mode: 0o700 });
    if (!isDir) {
      const f = join(base, 'file');
      await copyFile(src, f);
      const st = await stat(src);
      await chown(f, st.uid, st.gid);
      await chmod(f, st.mode & 0o7777);
      return f;
    }
    const merged = join(base, 'm');
    await mkdir(merged);
    if (this.snapshotter === 'overlay') {
      for (const d of ['u', 'w']) await mkdir(join(base, d));
      await mount('overlay', 'overlay', merged, `lowerdir=${src},upperdir=${join(base, 'u')},workdir=${join(base, 'w')},index=off`);
    } else {
      const { execFile } = await import('node:child_process');
      await new Promise<void>((ok, fail) =>
        execFile('cp', ['-a', '--reflink=auto', '--', `${src}/.`, `${merged}/`], (err) => (err ? fail(err) : ok())),
      );
    }
    return merged;
  }
}

/** The mount-point stubs one exec made, and what is needed to take them out of the snapshot again. */
interface StubRecord {
  /** Every entry created, in creation order. */
  created: CreatedStub[];
  /** Host path of each directory a first stub was made in → its times before, its mtime once all stubs were made. */
  parents: Map<string, { saved: SavedTimes; afterMtime?: bigint }>;
  /** Overlay: upper-relative paths of directories copied up only because a stub was made in them → their state then. */
  copiedUp: Map<string, { ino: bigint; ctimeNs: bigint; mtimeNs: bigint } | undefined>;
}

/** Before a stub is made in `parentHost`: notes it and its ancestors that are not in the upper dir yet (the copy-up adds them). */
async function noteCopyUps(rootfs: string, upper: string, parentHost: string, copiedUp: StubRecord['copiedUp']): Promise<void> {
  for (let rel = relative(rootfs, parentHost); rel !== '' && rel !== '.' && !rel.startsWith('..'); rel = dirname(rel)) {
    if (copiedUp.has(rel)) break;
    try {
      await lstat(join(upper, rel));
      break; // already in the upper dir, and so are its ancestors
    } catch {
      copiedUp.set(rel, undefined);
    }
  }
}

/** Once every stub exists: the state that tells, after the run, whether the process changed those directories. */
async function recordStubState(stubs: StubRecord, upper: string | undefined): Promise<void> {
  for (const [host, p] of stubs.parents) p.afterMtime = (await lstat(host, { bigint: true }).catch(() => undefined))?.mtimeNs;
  if (!upper) return;
  for (const rel of stubs.copiedUp.keys()) {
    const st = await lstat(join(upper, rel), { bigint: true }).catch(() => undefined);
    stubs.copiedUp.set(rel, st?.isDirectory() ? { ino: st.ino, ctimeNs: st.ctimeNs, mtimeNs: st.mtimeNs } : undefined);
  }
}

/**
 * Takes the mount stubs out of the rootfs again (newest first). A directory that was copied up into the
 * upper dir only to hold stubs, and that the process left unchanged and empty, is noted in
 * `snap.stubParents` and removed from the upper dir at commit; any other directory the process left
 * unchanged gets its times back (in-process; a touch process only for nanosecond times).
 */
async function removeStubs(snap: Snapshot, stubs: StubRecord, upper: string | undefined): Promise<void> {
  if (stubs.created.length === 0) return;
  // What the process left alone, checked before our own removals change the directories.
  const untouched: string[] = [];
  for (const [host, p] of stubs.parents) {
    const st = await lstat(host, { bigint: true }).catch(() => undefined);
    if (st?.isDirectory() && p.afterMtime !== undefined && st.mtimeNs === p.afterMtime) untouched.push(host);
  }
  const unchanged: string[] = [];
  if (upper) {
    for (const [rel, was] of stubs.copiedUp) {
      const st = await lstat(join(upper, rel), { bigint: true }).catch(() => undefined);
      if (was && st?.isDirectory() && st.ino === was.ino && st.ctimeNs === was.ctimeNs && st.mtimeNs === was.mtimeNs) unchanged.push(rel);
    }
  }
  const removed = new Set<string>();
  for (const c of [...stubs.created].reverse()) {
    const host = await resolveInRoot(snap.rootfs, c.path, false);
    try {
      const st = await lstat(host);
      if (c.dir && st.isDirectory()) await rmdir(host);
      else if (!c.dir && st.isFile() && st.size === 0) await rm(host);
      else continue;
      removed.add(host);
    } catch {
      /* gone already, or no longer empty: the RUN put something there, keep it */
    }
  }
  // Copied-up directories now empty but for others that go too (deepest first).
  const prune = new Set<string>();
  for (const rel of unchanged.sort((a, b) => b.split('/').length - a.split('/').length)) {
    const names = await readdir(join(upper!, rel)).catch(() => undefined);
    if (names && names.every((n) => prune.has(`${rel}/${n}`))) prune.add(rel);
  }
  for (const rel of prune) snap.stubParents.add(rel);
  for (const host of untouched) {
    if (host === snap.rootfs || removed.has(host)) continue; // the root's times are in no layer
    // A directory about to leave the upper dir needs no exact times (only a later exec in this snapshot could keep it).
    await restoreTimes(host, stubs.parents.get(host)!.saved, { exact: !prune.has(relative(snap.rootfs, host)) }).catch(() => {});
  }
}
