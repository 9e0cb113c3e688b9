/**
 * An image's layers as snapshot lower dirs: each layer blob is unpacked once (overlay format, checked
 * against its diffID) into `<worker state>/layers/<diffID hex>` and reused by every later run or build.
 * Unpacking goes to a temp dir named by its owner process and is renamed into place, so concurrent
 * unpackers and crashes never leave a half layer under the final name.
 */
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { pathExists } from '../util/fs.ts';
import { join } from 'node:path';
import { JettisonError } from '../errors.ts';
import { digestHex } from '../image/digest.ts';
import { unpackLayer } from '../image/layer.ts';
import type { Descriptor, Digest } from '../image/types.ts';
import type { ContentStore } from '../store/types.ts';
import { newOwnerToken } from '../util/owner.ts';

/**
 * The unpacked dirs of `layers` (manifest order, base first) with diffIDs `diffIDs`, returned newest
 * first as Worker.prepare wants them.
 */
export async function layerDirs(
  stateDir: string,
  store: ContentStore,
  layers: Descriptor[],
  diffIDs: Digest[],
  onProgress?: (message: string) => void,
): Promise<string[]> {
  if (layers.length !== diffIDs.length) {
    throw new JettisonError('BAD_IMAGE', `image has ${layers.length} layers but ${diffIDs.length} diff_ids`);
  }
  const root = join(stateDir, 'layers');
  await mkdir(root, { recursive: true, mode: 0o700 });
  const dirs: string[] = [];
  for (let i = 0; i < layers.length; i++) {
    const final = join(root, digestHex(diffIDs[i]));
    if (!(await pathExists(final))) {
      onProgress?.(`unpacking layer ${layers[i].digest}`);
      const tmp = join(root, `.tmp-${newOwnerToken()}`);
      try {
        const blob = createReadStream(await store.pathOf(layers[i].digest));
        await unpackLayer(blob, layers[i].mediaType, tmp, { mode: 'overlay', diffID: diffIDs[i] });
        await rename(tmp, final).catch(async (err: NodeJS.ErrnoException) => {
          // Someone else unpacked it first: theirs is as good.
          if (!(await pathExists(final))) throw err;
        });
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    }
    dirs.push(final);
  }
  return dirs.reverse();
}
