/**
 * Squashing (CEKit's default): the layers a final image adds on top of its base become one layer.
 * The layers are applied in order into a fresh overlay-format directory (later layers' whiteouts
 * remove earlier files). A whiteout left at the end matters only when the base has that path; the
 * others (files created and deleted within the squashed layers) are dropped.
 */
import { lstat, mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { pathExists } from '../util/fs.ts';
import { join } from 'node:path';
import { decodeLayer, encodeLayer, type Compression } from '../image/layer.ts';
import { applyLayerTar, writeLayerTar } from '../image/tar/index.ts';
import type { LayerResult } from '../solver/index.ts';
import type { ContentStore } from '../store/types.ts';
import type { Worker } from '../worker/index.ts';

/** Removes whiteouts (char 0/0) for paths no base layer dir has, keeping the directories' times (the layer stays reproducible). */
async function dropNeedlessWhiteouts(dir: string, rel: string, baseDirs: string[]): Promise<void> {
  const here = await lstat(join(dir, rel));
  let removed = false;
  for (const name of await readdir(join(dir, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    const st = await lstat(join(dir, r));
    if (st.isCharacterDevice() && st.rdev === 0) {
      let needed = false;
      for (const b of baseDirs) if (await pathExists(join(b, r))) needed = true;
      if (!needed) {
        await rm(join(dir, r));
        removed = true;
      }
    } else if (st.isDirectory()) {
      await dropNeedlessWhiteouts(dir, r, baseDirs);
    }
  }
  if (removed) await utimes(join(dir, rel), here.atimeMs / 1000, here.mtimeMs / 1000);
}

/** `baseDirs`: the base image's layers unpacked in overlay format (the worker's layer dirs). */
export async function squashLayers(
  store: ContentStore,
  worker: Worker,
  layers: LayerResult[],
  compression: Compression,
  baseDirs: string[],
): Promise<LayerResult> {
  const dir = await mkdtemp(join(worker.stateDir, 'squash-'));
  try {
    for (const l of layers) {
      await applyLayerTar(decodeLayer(store.open(l.descriptor.digest), l.descriptor.mediaType), dir, { mode: 'overlay' });
    }
    await dropNeedlessWhiteouts(dir, '', baseDirs);
    const encoded = await encodeLayer(writeLayerTar({ type: 'overlay', upper: dir }), { compression }, store);
    return { descriptor: encoded.descriptor, diffID: encoded.diffID };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
