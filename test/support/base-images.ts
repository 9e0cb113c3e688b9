/**
 * Base images for end-to-end build tests, served by a local registry so that a Dockerfile's `FROM busybox`
 * resolves through `--registry-mirror docker.io=http://127.0.0.1:PORT` exactly as it would against Docker Hub.
 *
 *   const base = await baseImages();        // once per test process; later calls share it
 *   await runCli([...base.mirrorArgs, '--root', root, 'build', ctx]);
 *   after(stopBaseImages);                  // the registry is a child process: stop it when the file is done
 *
 * The registry holds (repository names as on Docker Hub):
 *   library/busybox:latest   busyboxRootfs()                                     Cmd ["sh"]
 *   library/debian:bookworm  debianRootfs({ packages: [] })                      Cmd ["bash"]
 *   library/gcc:12           debianRootfs({ packages: ['gcc','libc6-dev','make'] })
 *   library/golang:1.19      debianRootfs({ packages: ['golang-1.19-go','ca-certificates'] }) plus a layer
 *                            with /go, /go/src, /go/bin (1777); Env PATH=/go/bin:/usr/lib/go-1.19/bin:…, GOPATH=/go,
 *                            WorkingDir /go (as the real image)
 * Every image has the real images' default PATH in Env. The images are imported with jettison's store API
 * (what `jettison import` runs, plus a config) into a temporary store and uploaded with `jettison push`.
 *
 * The root filesystem tars are cached by images.ts; the registry's storage dir is cached as well, in
 * `$JETTISON_TEST_CACHE/registry-<key>`, keyed by the tars (name, size, mtime) and this recipe, and copied
 * into a fresh registry on later runs (the registry's data does not depend on its port).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { runCli } from './cli.ts';
import { busyboxRootfs, debianRootfs, testCacheDir } from './images.ts';
import { startRegistry, type TestRegistry } from './registry.ts';
import { createImageConfig } from '../../src/image/config.ts';
import { encodeLayer } from '../../src/image/layer.ts';
import { hostPlatform } from '../../src/image/platform.ts';
import type { ContainerConfig } from '../../src/image/types.ts';
import { importRootfsFile, openStore, writeImage } from '../../src/store/index.ts';

const run = promisify(execFile);

/** Bump when the images' recipe (names, configs, extra layers) changes so the registry cache rebuilds. */
const RECIPE = 1;

export interface BaseImages {
  /** "http://127.0.0.1:PORT" */
  registry: string;
  /** "127.0.0.1:PORT" */
  host: string;
  /** Global flags that send docker.io through this registry: ['--registry-mirror', 'docker.io=http://127.0.0.1:PORT']. */
  mirrorArgs: string[];
  /** The registry process (for pushes of tests' own images: `${host}/x/y:1`). */
  testRegistry: TestRegistry;
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const CREATED = '2024-01-01T00:00:00Z';

interface ImageRecipe {
  repository: string;
  tag: string;
  rootfs: () => Promise<string>;
  config: ContainerConfig;
  /** Empty directories (mode 1777) added as a second layer. */
  dirs?: string[];
}

const RECIPES: ImageRecipe[] = [
  { repository: 'library/busybox', tag: 'latest', rootfs: busyboxRootfs, config: { Env: [DEFAULT_PATH], Cmd: ['sh'] } },
  { repository: 'library/debian', tag: 'bookworm', rootfs: () => debianRootfs({ packages: [] }), config: { Env: [DEFAULT_PATH], Cmd: ['bash'] } },
  {
    repository: 'library/gcc',
    tag: '12',
    rootfs: () => debianRootfs({ packages: ['gcc', 'libc6-dev', 'make'] }),
    config: { Env: [DEFAULT_PATH], Cmd: ['bash'] },
  },
  {
    repository: 'library/golang',
    tag: '1.19',
    rootfs: () => debianRootfs({ packages: ['golang-1.19-go', 'ca-certificates'] }),
    config: {
      Env: ['PATH=/go/bin:/usr/lib/go-1.19/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'GOLANG_VERSION=1.19', 'GOPATH=/go'],
      Cmd: ['bash'],
      WorkingDir: '/go',
    },
    dirs: ['go', 'go/bin', 'go/src'],
  },
];

let shared: Promise<BaseImages> | undefined;

/** The local registry holding the base images (started once per process). */
export function baseImages(): Promise<BaseImages> {
  shared ??= start();
  shared.catch(() => {
    shared = undefined;
  });
  return shared;
}

/** Stops the registry baseImages() started (if any). */
export async function stopBaseImages(): Promise<void> {
  const p = shared;
  shared = undefined;
  if (!p) return;
  const b = await p.catch(() => undefined);
  await b?.testRegistry.stop();
}

async function start(): Promise<BaseImages> {
  // Tars first (slow the first time: mmdebstrap), one at a time so two mmdebstraps don't fight for 2 cores.
  const tars: string[] = [];
  for (const r of RECIPES) tars.push(await r.rootfs());
  const key = await cacheKey(tars);
  const cached = join(testCacheDir(), `registry-${key}`);
  const reg = await startRegistry();
  try {
    if (existsSync(join(cached, '.complete'))) {
      await mkdir(reg.storageDir, { recursive: true });
      await run('cp', ['-a', '--reflink=auto', `${cached}/storage/.`, reg.storageDir]);
    } else {
      await populate(reg, tars);
      await saveCache(reg.storageDir, cached);
    }
  } catch (err) {
    await reg.stop();
    throw err;
  }
  return { registry: reg.url, host: reg.host, mirrorArgs: ['--registry-mirror', `docker.io=${reg.url}`], testRegistry: reg };
}

async function cacheKey(tars: string[]): Promise<string> {
  const h = createHash('sha256').update(JSON.stringify({ RECIPE, recipes: RECIPES.map((r) => [r.repository, r.tag, r.config, r.dirs]) }));
  for (const t of tars) {
    const s = await stat(t);
    h.update(JSON.stringify([basename(t), s.size, s.mtimeMs]));
  }
  return h.digest('hex').slice(0, 16);
}

/** Imports every image into a temporary store, then pushes it with the CLI. */
async function populate(reg: TestRegistry, tars: string[]): Promise<void> {
  const tmp = await mkdtemp(join(testCacheDir(), '.tmp-base-'));
  try {
    const storeRoot = join(tmp, 'store');
    const store = openStore(storeRoot);
    for (const [i, r] of RECIPES.entries()) {
      const name = `${reg.host}/${r.repository}:${r.tag}`;
      const imported = await importRootfsFile(store, tars[i], r.dirs ? undefined : name, {
        config: r.config,
        created: CREATED,
        message: `${r.repository}:${r.tag} test base image`,
      });
      if (r.dirs) {
        const tree = join(tmp, `dirs-${i}`);
        for (const d of r.dirs) {
          await mkdir(join(tree, d), { recursive: true });
          await chmod(join(tree, d), 0o1777);
        }
        const layerTar = join(tmp, `dirs-${i}.tar`);
        await run('tar', ['--create', '--file', layerTar, '--directory', tree, '--sort=name', '--numeric-owner', '--owner=0', '--group=0', '--mtime=@0', '--format=posix', '--pax-option=delete=atime,delete=ctime', ...r.dirs]);
        const extra = await encodeLayer(createReadStream(layerTar), { compression: 'gzip' }, store);
        const config = createImageConfig({
          platform: hostPlatform(),
          diffIDs: [imported.diffID, extra.diffID],
          config: r.config,
          created: CREATED,
          history: [
            { created: CREATED, created_by: 'jettison import', comment: `${r.repository}:${r.tag} test base image` },
            { created: CREATED, created_by: `RUN mkdir -p ${r.dirs.map((d) => `/${d}`).join(' ')} && chmod 1777 …` },
          ],
        });
        await writeImage(store, config, [imported.layer, extra.descriptor], name);
      }
      const pushed = await runCli(['--root', storeRoot, 'push', '-q', name]);
      if (pushed.code !== 0) throw new Error(`jettison push ${name} failed (${pushed.code}): ${pushed.stderr}`);
    }
    await store.releaseLease();
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Copies the registry's storage into the cache (temp dir, then rename; a concurrent winner is kept). */
async function saveCache(storageDir: string, target: string): Promise<void> {
  await mkdir(testCacheDir(), { recursive: true });
  const tmp = await mkdtemp(join(testCacheDir(), '.tmp-registry-'));
  try {
    await run('cp', ['-a', storageDir, join(tmp, 'storage')]);
    await writeFile(join(tmp, '.complete'), `${new Date().toISOString()}\n`);
    await rename(tmp, target).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
