/**
 * Finding an OCI runtime that works here: runc and crun on PATH (or an explicit name or path), each
 * probed once per process by running a real container (a root of read-only binds of the host's /usr,
 * /bin, /lib… running `true`), because an installed runtime may still fail (crun 1.8.1 on hybrid
 * cgroups). The first that works wins, runc first; an explicit choice that fails is an error saying why.
 * With a ProbeCache a runtime that passed before (same binary, kernel and boot) is not probed again.
 */
import { accessSync, constants, existsSync, lstatSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { basename, delimiter, isAbsolute, join } from 'node:path';
import { JettisonError } from '../../errors.ts';
import { buildSpec, type OciMount } from './spec.ts';
import { runContainer, type Runtime } from './run.ts';
import { newOwnerToken } from '../../util/owner.ts';
import type { ProbeCache } from '../probe-cache.ts';

export const KNOWN_RUNTIMES = ['runc', 'crun'] as const;

/** The absolute path of `name` on PATH (or `name` itself when it is a path), if executable. */
export function findOnPath(name: string, pathEnv?: string): string | undefined {
  const sbinFallback = pathEnv === undefined;
  pathEnv ??= process.env.PATH ?? '';
  const candidates = name.includes('/') ? [name] : pathEnv.split(delimiter).filter(Boolean).map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      if (isAbsolute(c)) return c;
    } catch {
      /* next */
    }
  }
  // Root's PATH may lack sbin dirs where Debian puts runc.
  if (!name.includes('/') && sbinFallback) {
    for (const d of ['/usr/local/sbin', '/usr/sbin', '/sbin']) {
      const c = join(d, name);
      try {
        accessSync(c, constants.X_OK);
        return c;
      } catch {
        /* next */
      }
    }
  }
  return undefined;
}

const probeCache = new Map<string, Promise<string | undefined>>();

/** Runs a trivial container with `rt`: undefined when it works, else what went wrong. */
export function probeRuntime(rt: Runtime, scratchDir: string): Promise<string | undefined> {
  const key = `${rt.path}\0${rt.stateRoot}`;
  let p = probeCache.get(key);
  if (!p) {
    p = doProbe(rt, scratchDir);
    probeCache.set(key, p);
  }
  return p;
}

async function doProbe(rt: Runtime, scratchDir: string): Promise<string | undefined> {
  await mkdir(scratchDir, { recursive: true });
  const dir = await mkdtemp(join(scratchDir, `${newOwnerToken()}-probe-`));
  try {
    const rootfs = join(dir, 'rootfs');
    await mkdir(rootfs);
    const mounts: OciMount[] = [];
    for (const name of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32', 'usr']) {
      const host = `/${name}`;
      let st;
      try {
        st = lstatSync(host);
      } catch {
        continue;
      }
      if (st.isSymbolicLink()) await symlink(readlinkSync(host), join(rootfs, name));
      else if (st.isDirectory()) {
        await mkdir(join(rootfs, name));
        mounts.push({ destination: host, type: 'bind', source: host, options: ['rbind', 'ro'] });
      }
    }
    for (const d of ['proc', 'dev', 'sys']) await mkdir(join(rootfs, d));
    const trueBin = ['/usr/bin/true', '/bin/true'].find((p) => existsSync(p));
    if (!trueBin) return 'cannot probe: no /usr/bin/true on this machine';
    const spec = buildSpec({
      rootfs,
      args: [trueBin],
      env: [],
      cwd: '/',
      user: { uid: 0, gid: 0, additionalGids: [] },
      hostname: 'probe',
      network: 'none',
      mounts,
    });
    const errs: Buffer[] = [];
    const id = `j-${basename(dir)}`;
    const res = await runContainer(rt, dir, id, spec, { onStderr: (c) => errs.push(c) });
    if (res.exitCode !== 0) {
      return `exit code ${res.exitCode}${errs.length ? `: ${Buffer.concat(errs).toString().trim()}` : ''}`;
    }
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

/** probeRuntime, skipped when `cache` says this binary passed before; a pass is remembered there. */
async function probeOrRecall(rt: Runtime, scratchDir: string, cache: ProbeCache | undefined): Promise<string | undefined> {
  const name = `runtime:${rt.path}`;
  const key = cache?.runtimeKey(rt.path);
  if (cache && (await cache.passed(name, key))) return undefined;
  const why = await probeRuntime(rt, scratchDir);
  if (why === undefined) await cache?.remember(name, key);
  return why;
}

/**
 * The runtime to use. `choice` is a name (runc, crun) or a path; without it every known runtime on
 * PATH is probed and the first that works is taken. `pathEnv` replaces $PATH (and the sbin fallback).
 * `cache` remembers passed probes across processes.
 */
export async function detectRuntime(
  choice: string | undefined,
  stateRoot: string,
  scratchDir: string,
  pathEnv?: string,
  cache?: ProbeCache,
): Promise<Runtime> {
  if (choice) {
    const path = findOnPath(choice, pathEnv);
    if (!path) {
      throw new JettisonError('RUNTIME_NOT_FOUND', `OCI runtime ${choice} not found on PATH${choice === 'runc' || choice === 'crun' ? ` (install it: apt-get install ${choice})` : ''}`);
    }
    const rt = { name: basename(path), path, stateRoot };
    const why = await probeOrRecall(rt, scratchDir, cache);
    if (why !== undefined) throw new JettisonError('RUNTIME_BROKEN', `OCI runtime ${path} cannot run containers here: ${why}`);
    return rt;
  }
  const found = KNOWN_RUNTIMES.map((n) => ({ n, path: findOnPath(n, pathEnv) })).filter((x) => x.path !== undefined);
  if (found.length === 0) {
    throw new JettisonError('RUNTIME_NOT_FOUND', 'no OCI runtime found on PATH (looked for runc, crun): install runc (apt-get install runc)');
  }
  const failures: string[] = [];
  for (const f of found) {
    const rt = { name: f.n, path: f.path!, stateRoot };
    const why = await probeOrRecall(rt, scratchDir, cache);
    if (why === undefined) return rt;
    failures.push(`${f.path}: ${why}`);
  }
  throw new JettisonError('RUNTIME_BROKEN', `no OCI runtime can run containers here:\n  ${failures.join('\n  ')}\ninstall runc (apt-get install runc)`);
}
