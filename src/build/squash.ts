/**
 * Squashing (CEKit's default): the layers a final image adds on top of its base become one layer.
 * The layers are applied in order into a fresh overlay-format directory (later layers' whiteouts
 * remove earlier files; a whiteout of a base file stays a whiteout), then written as one layer.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeLayer, encodeLayer, type Compression } from '../image/layer.ts';
import { applyLayerTar, writeLayerTar } from '../image/tar/index.ts';
import type { LayerResult } from '../solver/index.ts';
import type { ContentStore } from '../store/types.ts';
import type { Worker } from '../worker/index.ts';

export async function squashLayers(store: ContentStore, worker: Worker, layers: LayerResult[], compression: Compression): Promise<LayerResult> {
  const dir = await mkdtemp(join(worker.stateDir, 'squash-'));
  try {
    for (const l of layers) {
      await applyLayerTar(decodeLayer(store.open(l.descriptor.digest), l.descriptor.mediaType), dir, { mode: 'overlay' });
    }
    const encoded = await encodeLayer(writeLayerTar({ type: 'overlay', upper: dir }), { compression }, store);
    return { descriptor: encoded.descriptor, diffID: encoded.diffID };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
