/**
 * Helpers for the registry tests: temporary stores, small synthetic images (real tar layers made
 * with the `tar` command, gzip-compressed by the layer codec unless asked otherwise), and unpacking
 * an image's layers into a directory to compare file trees.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, lstat, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { encodeLayer, type Compression } from '../../../src/image/layer.ts';
import { hostPlatform } from '../../../src/image/platform.ts';
import type { Descriptor, ImageConfig } from '../../../src/image/types.ts';
import { openStore } from '../../../src/store/index.ts';
import { writeImage } from '../../../src/store/image.ts';
import type { ContentStore } from '../../../src/store/types.ts';

export async function tempDir(prefix = 'jettison-regtest-'): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

export async function tempStore(): Promise<{ store: ContentStore; root: string; cleanup: () => Promise<void> }> {
  const dir = await tempDir('jettison-store-');
  return { store: openStore(join(dir.path, 'root')), root: join(dir.path, 'root'), cleanup: dir.cleanup };
}

/** A tar stream of `files` (path → content), made by GNU tar with fixed metadata. */
async function tarOf(files: Record<string, string | Buffer>): Promise<{ stream: NodeJS.ReadableStream & import('node:stream').Readable; done: Promise<void>; cleanup: () => Promise<void> }> {
  const dir = await tempDir('jettison-layer-');
  for (const [p, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir.path, p)), { recursive: true });
    await writeFile(join(dir.path, p), content);
  }
  const child = spawn('tar', ['-C', dir.path, '--sort=name', '--mtime=@1000000000', '--owner=0', '--group=0', '--numeric-owner', '-cf', '-', '.'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar exited ${code}`))));
  });
  return { stream: child.stdout, done, cleanup: dir.cleanup };
}

export interface TestImage {
  name: string;
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
}

/**
 * Stores an image of one layer per entry of `layers` and points `name` at it. Layers are gzip blobs
 * (as pulled images have them) unless `compression` says otherwise ('none': as builds store them).
 */
export async function makeImage(store: ContentStore, name: string, layers: Record<string, string | Buffer>[], compression: Compression = 'gzip'): Promise<TestImage> {
  const descs: Descriptor[] = [];
  const diffIds: string[] = [];
  for (const files of layers) {
    const tar = await tarOf(files);
    try {
      const [enc] = await Promise.all([encodeLayer(tar.stream, { compression }, store), tar.done]);
      descs.push(enc.descriptor);
      diffIds.push(enc.diffID);
    } finally {
      await tar.cleanup();
    }
  }
  const platform = hostPlatform();
  const config: ImageConfig = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: { Cmd: ['/bin/sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: layers.map((_, i) => ({ created_by: `test layer ${i}` })),
  };
  const out = await writeImage(store, config, descs, name);
  return { name: out.name as string, manifest: out.manifest, config: out.config, layers: descs };
}

/** Extracts layers (tars, gzip or plain: GNU tar tells them apart; no whiteouts) in order into `dir` with the `tar` command. */
export async function unpackLayers(store: ContentStore, layers: Descriptor[], dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const l of layers) {
    const path = await store.pathOf(l.digest);
    await new Promise<void>((resolve, reject) => {
      const child = spawn('tar', ['-C', dir, '--no-same-owner', '-xf', path], { stdio: ['ignore', 'ignore', 'inherit'] });
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar -x exited ${code}`))));
    });
  }
}

/** A listing of a tree: "path type mode size sha256" lines, sorted (for equality checks). */
export async function treeListing(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(root, p));
      if (st.isDirectory()) {
        out.push(`${p} dir ${(st.mode & 0o7777).toString(8)}`);
        await walk(p);
      } else if (st.isSymbolicLink()) {
        out.push(`${p} link ${await readlink(join(root, p))}`);
      } else {
        const hash = createHash('sha256').update(await readFile(join(root, p))).digest('hex');
        out.push(`${p} file ${(st.mode & 0o7777).toString(8)} ${st.size} ${hash}`);
      }
    }
  };
  await walk('');
  return out;
}

/** Deterministic pseudo-random bytes (incompressible test content). */
export function noise(size: number, seed: string): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(seed).digest();
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}
