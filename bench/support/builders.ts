/**
 * The builders the build benchmarks compare, each driven the way its users drive it — a fresh
 * client process per build, output quiet, RUN steps without network:
 *
 * - jettison: the published CLI, `node bin/jettison.cjs --root ROOT build --network none -q -t TAG
 *   [--no-cache] CTX` (startup included; peak RSS measured with GNU time when it is installed). The bin
 *   runs dist/ (the bundled CLI, dist/jettison.cjs), which is rebuilt first (`npm run build`'s two
 *   steps) when it is missing or older than a source file; $JETTISON_BENCH_FROM=sources runs
 *   `node src/cli/main.ts` instead.
 * - BuildKit: Debian's docker.io — a dockerd of our own (its own --data-root, exec root and socket
 *   under the bench's work dir, `--bridge=none --iptables=false`), started once and kept warm, driven
 *   by the 20.10 client /usr/bin/docker with DOCKER_BUILDKIT=1 and `--network=none`.
 * - buildah: Debian's buildah with its own --root/--runroot (overlay), `--isolation oci --runtime
 *   runc --layers --jobs 4 --pull=never --network none` (crun, buildah's default, fails on this
 *   host's hybrid cgroups; runc works).
 *
 * Every builder starts from the same base images: busybox and gcc root file systems imported with
 * `jettison import`, written with `jettison save` as a docker archive, and loaded from that with
 * `docker load` / `buildah pull docker-archive:`. Nothing is installed here: a builder whose
 * binaries are missing says so (`unavailable`) and the benchmarks leave it out.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { firstExisting, mustRun, removeTree, REPO, runProcess, type RunResult } from './proc.ts';

export type Tool = 'jettison' | 'BuildKit' | 'buildah';
export const TOOLS: Tool[] = ['jettison', 'BuildKit', 'buildah'];

export interface BuildRequest {
  context: string;
  tag: string;
  noCache?: boolean;
}

export interface Builder {
  readonly tool: Tool;
  /** Why this builder cannot run here ("not installed: …"), or undefined. */
  readonly unavailable: string | undefined;
  /** Starts the builder (a daemon, for BuildKit) and loads the base images; later calls are no-ops. */
  prepare(): Promise<void>;
  /** One build as its CLI runs it; throws when the build fails. */
  build(req: BuildRequest): Promise<RunResult>;
  /** Drops the build cache and every image but the base images (a cold start, daemon kept warm). */
  resetCache(): Promise<void>;
  /** Stops daemons, unmounts and removes the builder's state. */
  stop(): Promise<void>;
}

/** Base images every builder has, as `jettison save` wrote them (docker archive). */
export interface BaseImages {
  /** The docker archive holding all of `names`. */
  archive: string;
  /** Names as given to `jettison import` (short, as in the Dockerfiles): busybox:latest, gcc:12. */
  names: string[];
  /** A store root holding only the base images (copied for a cold jettison). */
  jettisonTemplate: string;
}

export const NODE = join(REPO, 'node_modules', '.bin', 'node');
export const MAIN = join(REPO, 'src', 'cli', 'main.ts');
export const BIN = join(REPO, 'bin', 'jettison.cjs');
/** What bin/jettison.cjs runs: the bundle and its loader, and the compiled modules it falls back to. */
const distOutputs = (repo: string): string[] => [join(repo, 'dist', 'jettison.cjs'), join(repo, 'dist', 'loader.cjs'), join(repo, 'dist', 'cli', 'main.js')];

/** Newest modification time (ms) of the files dist/ is made from. */
function newestInput(repo: string): number {
  let newest = 0;
  const visit = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) visit(p);
      else newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  visit(join(repo, 'src'));
  for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/bundle.ts']) {
    const p = join(repo, f);
    if (existsSync(p)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Why `repo`'s dist/ must be rebuilt before the bin is timed ("missing dist/…", "older than the
 * sources"), or undefined when it is current.
 */
export function distStale(repo: string = REPO): string | undefined {
  const outputs = distOutputs(repo);
  const missing = outputs.find((f) => !existsSync(f));
  if (missing) return `missing ${missing.slice(repo.length + 1)}`;
  const oldest = Math.min(...outputs.map((f) => statSync(f).mtimeMs));
  return oldest < newestInput(repo) ? 'older than the sources' : undefined;
}

let distReady: Promise<void> | undefined;

/**
 * Makes dist/ current when it is stale: `npm run build`'s steps, tsc then scripts/bundle.ts. A type
 * error does not stop the bench (tsc still writes dist/, and the timings do not depend on types); a
 * bundle that cannot be made does.
 */
export function ensureDist(): Promise<void> {
  distReady ??= (async () => {
    const why = distStale();
    if (!why) return;
    process.stderr.write(`  dist/ ${why}: building it (tsc, scripts/bundle.ts)\n`);
    const tsc = await runProcess(NODE, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(REPO, 'tsconfig.build.json')], { cwd: REPO });
    if (tsc.code !== 0) {
      const first = tsc.stdout.trim().split('\n').slice(0, 5).join('\n    ');
      process.stderr.write(`  tsc reported errors (dist/ written anyway):\n    ${first}\n`);
    }
    await mustRun(NODE, [join(REPO, 'scripts', 'bundle.ts')], { cwd: REPO });
    const still = distStale();
    if (still) throw new Error(`dist/ is still ${still} after the build`);
  })();
  distReady.catch(() => {
    distReady = undefined;
  });
  return distReady;
}

/** Where the benchmarked jettison comes from: `bin` (the published bin over dist/, default) or `sources`. */
export function jettisonFrom(env: NodeJS.ProcessEnv = process.env): 'bin' | 'sources' {
  const v = env.JETTISON_BENCH_FROM ?? 'bin';
  if (v !== 'bin' && v !== 'sources') throw new Error(`JETTISON_BENCH_FROM must be bin or sources, not ${JSON.stringify(v)}`);
  return v;
}

/**
 * The arguments to node that start jettison as the benchmarks run it ($JETTISON_BENCH_NODE_FLAGS,
 * unless `withFlags` is false, then the script), once dist/ is current when that is what runs.
 */
export async function jettisonCommand(withFlags = true): Promise<string[]> {
  const from = jettisonFrom();
  if (from === 'bin') await ensureDist();
  return [...(withFlags ? nodeFlags() : []), from === 'bin' ? BIN : MAIN];
}

function failed(r: RunResult, what: string): Error {
  const tail = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-20).join('\n');
  return new Error(`${what} failed (exit ${r.code ?? r.signal}):\n${tail}`);
}

/**
 * Extra node flags for the jettison process from $JETTISON_BENCH_NODE_FLAGS (e.g. "--cpu-prof
 * --cpu-prof-dir=/var/tmp/prof" to profile every build the bench runs).
 */
function nodeFlags(): string[] {
  return (process.env.JETTISON_BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
}

export function jettisonBuilder(work: string, base: BaseImages): Builder {
  const root = join(work, 'jettison-root');
  const rssFile = join(work, 'jettison-rss');
  let prepared = false;
  let cli: string[] | undefined;
  const reset = (): void => {
    rmSync(root, { recursive: true, force: true });
    cpSync(base.jettisonTemplate, root, { recursive: true, verbatimSymlinks: true });
  };
  return {
    tool: 'jettison',
    unavailable:
      process.getuid?.() !== 0
        ? 'needs root (runc, overlayfs)'
        : firstExisting('/usr/sbin/runc', '/usr/bin/runc', '/usr/local/sbin/runc') === undefined
          ? 'not installed: runc'
          : undefined,
    async prepare() {
      if (prepared) return;
      cli = await jettisonCommand();
      reset();
      prepared = true;
    },
    async build(req) {
      cli ??= await jettisonCommand();
      const args = [...cli, '--root', root, 'build', '--network', 'none', '-q', '-t', req.tag];
      if (req.noCache) args.push('--no-cache');
      args.push(req.context);
      const r = await runProcess(NODE, args, { rssFile, cwd: work });
      if (r.code !== 0) throw failed(r, 'jettison build');
      return r;
    },
    async resetCache() {
      // The whole root back to the base images only: no cache records, no context hashes, no
      // unpacked layers, no built images.
      reset();
    },
    async stop() {
      await removeTree(root);
    },
  };
}

const DOCKER = '/usr/bin/docker';
const DOCKERD = '/usr/sbin/dockerd';

export function buildkitBuilder(work: string, base: BaseImages): Builder {
  const dir = join(work, 'docker');
  const sock = join(dir, 'docker.sock');
  const env = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_BUILDKIT: '1', DOCKER_CONFIG: join(dir, 'config') };
  let daemon: ChildProcess | undefined;
  let exited: Promise<void> | undefined;
  let baseIds = new Set<string>();
  const docker = (args: string[]) => mustRun(DOCKER, args, { env });
  const killOnExit = (): void => {
    daemon?.kill('SIGKILL');
  };
  const missing = [DOCKER, DOCKERD].filter((p) => !existsSync(p));
  return {
    tool: 'BuildKit',
    unavailable:
      missing.length > 0
        ? `not installed: ${missing.join(', ')} (apt-get install docker.io)`
        : process.getuid?.() !== 0
          ? 'needs root (dockerd)'
          : undefined,
    async prepare() {
      if (daemon) return;
      mkdirSync(join(dir, 'config'), { recursive: true });
      const child = spawn(
        DOCKERD,
        [
          '--bridge=none', '--iptables=false', '--ip6tables=false', '--storage-driver=overlay2',
          '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'dockerd.pid'),
          '-H', `unix://${sock}`,
        ],
        { stdio: ['ignore', 'ignore', 'ignore'], env: process.env },
      );
      daemon = child;
      exited = new Promise((res) => child.once('exit', () => res()));
      process.once('exit', killOnExit);
      const deadline = Date.now() + 60_000;
      for (;;) {
        const r = await runProcess(DOCKER, ['version', '--format', '{{.Server.Version}}'], { env });
        if (r.code === 0) break;
        if (child.exitCode !== null || Date.now() > deadline) {
          await this.stop();
          throw new Error(`dockerd did not start: ${r.stderr.trim().split('\n').pop()}`);
        }
        await sleep(250);
      }
      await docker(['load', '-q', '-i', base.archive]);
      baseIds = new Set((await docker(['images', '-q', '--no-trunc'])).stdout.split('\n').filter(Boolean));
    },
    async build(req) {
      const args = ['build', '--network=none', '-q', '-t', req.tag];
      if (req.noCache) args.push('--no-cache');
      args.push(req.context);
      const r = await runProcess(DOCKER, args, { env });
      if (r.code !== 0) throw failed(r, 'docker build');
      return r;
    },
    async resetCache() {
      const ids = (await docker(['images', '-a', '-q', '--no-trunc'])).stdout.split('\n').filter((id) => id && !baseIds.has(id));
      if (ids.length > 0) await docker(['rmi', '-f', ...new Set(ids)]);
      await docker(['builder', 'prune', '-a', '-f']);
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      if (daemon && daemon.exitCode === null) {
        daemon.kill('SIGTERM');
        const timeout = sleep(30_000).then(() => 'timeout');
        if ((await Promise.race([exited, timeout])) === 'timeout') {
          daemon.kill('SIGKILL');
          await exited;
        }
      }
      daemon = undefined;
      await removeTree(dir);
    },
  };
}

const BUILDAH = '/usr/bin/buildah';

export function buildahBuilder(work: string, base: BaseImages): Builder {
  const dir = join(work, 'buildah');
  const global = ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--storage-driver', 'overlay'];
  const runc = firstExisting('/usr/sbin/runc', '/usr/bin/runc');
  let prepared = false;
  let baseIds = new Set<string>();
  const buildah = (args: string[]) => mustRun(BUILDAH, [...global, ...args]);
  return {
    tool: 'buildah',
    unavailable: !existsSync(BUILDAH)
      ? 'not installed: buildah (apt-get install buildah)'
      : runc === undefined
        ? 'not installed: runc'
        : process.getuid?.() !== 0
          ? 'needs root'
          : undefined,
    async prepare() {
      if (prepared) return;
      mkdirSync(dir, { recursive: true });
      for (const name of base.names) await buildah(['pull', '-q', `docker-archive:${base.archive}:${name}`]);
      baseIds = new Set((await buildah(['images', '-q', '--no-trunc'])).stdout.split('\n').filter(Boolean));
      prepared = true;
    },
    async build(req) {
      const args = [
        ...global, 'build', '-q', '--pull=never', '--isolation', 'oci', '--runtime', runc!, '--layers', '--jobs', '4',
        '--network', 'none', '-t', req.tag,
      ];
      if (req.noCache) args.push('--no-cache');
      args.push(req.context);
      const r = await runProcess(BUILDAH, args);
      if (r.code !== 0) throw failed(r, 'buildah build');
      return r;
    },
    async resetCache() {
      await buildah(['rm', '--all']);
      // Intermediate images are buildah's layer cache: remove every image but the bases.
      const ids = (await buildah(['images', '-a', '-q', '--no-trunc'])).stdout.split('\n').filter((id) => id && !baseIds.has(id));
      if (ids.length > 0) await buildah(['rmi', '-f', ...new Set(ids)]);
    },
    async stop() {
      if (prepared) {
        await runProcess(BUILDAH, [...global, 'rm', '--all']);
        await runProcess(BUILDAH, [...global, 'rmi', '--all', '--force']);
      }
      prepared = false;
      await removeTree(dir);
    },
  };
}
