/**
 * An image's layers as snapshot lower dirs: each layer blob is unpacked once (overlay format, checked
 * against its diffID) into `<worker state>/layers/<diffID hex>` and reused by every later run or build.
 * Unpacking goes to a temp dir named by its owner process and is renamed into place, so concurrent
 * unpackers and crashes never leave a half layer under the final name.
 *
 * A build also keeps a RUN's or COPY's overlay upper dir as the dir of the layer it made (adoptUpper),
 * saving the unpack. When that overlay was mounted volatile, the dir's data reaches the disk only when
 * the kernel writes it back, so a power loss could leave it incomplete: such a dir gets a marker,
 * `<diffID hex>.boot`, holding the boot it was made in, and a dir whose marker names another boot is
 * dropped and unpacked again from the blob (which the store fsynced).
 */
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { pathExists } from '../util/fs.ts';
import { dirname, join } from 'node:path';
import { JettisonError } from '../errors.ts';
import { digestHex } from '../image/digest.ts';
import { unpackLayer } from '../image/layer.ts';
import type { Descriptor, Digest } from '../image/types.ts';
import type { ContentStore } from '../store/types.ts';
import { newOwnerToken } from '../util/owner.ts';
import { bootId } from './probe-cache.ts';

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
    if (!(await usable(final))) {
      onProgress?.(`unpacking layer ${layers[i].digest}`);
      const tmp = join(root, `.tmp-${newOwnerToken()}`);
      try {
        const blob = createReadStream(await store.pathOf(layers[i].digest));
        await unpackLayer(blob, layers[i].mediaType, tmp, { mode: 'overlay', diffID: diffIDs[i] });
        // An unpacked dir is as durable as anything unpacked: the marker of an earlier kept upper goes first.
        await rm(`${final}.boot`, { force: true });
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

const checked = new Set<string>();

/**
 * Whether the layer dir `final` can be used: it exists, and it is not a kept upper dir from another
 * boot (its marker says which; that dir is removed here). Checked once per dir per process.
 */
async function usable(final: string): Promise<boolean> {
  if (checked.has(final)) return true;
  if (!(await pathExists(final))) return false;
  const made = await readFile(`${final}.boot`, 'utf8').catch(() => undefined);
  if (made !== undefined && made.trim() !== bootId()) {
    // Renamed aside first, so no other process sees a half-removed dir under the final name.
    const aside = join(dirname(final), `.tmp-${newOwnerToken()}`);
    await rename(final, aside).catch(() => undefined);
    await rm(aside, { recursive: true, force: true });
    await rm(`${final}.boot`, { force: true });
    return false;
  }
  checked.add(final);
  return true;
}

/**
 * Keeps a committed overlay upper dir as the unpacked dir of the layer it was written to (diffID), so
 * the next step need not unpack that layer. A dir that is there already wins (this upper is left for the
 * snapshot's release to remove). `durable: false` (a volatile overlay) marks it with this boot.
 */
export async function adoptUpper(stateDir: string, upperDir: string, diffID: Digest, durable: boolean): Promise<void> {
  const root = join(stateDir, 'layers');
  const final = join(root, digestHex(diffID));
  if (await pathExists(final)) return;
  await mkdir(root, { recursive: true, mode: 0o700 });
  // The marker before the dir: a crash between them leaves a marker alone, which the next unpack removes.
  if (!durable) await writeFile(`${final}.boot`, `${bootId()}\n`);
  await rename(upperDir, final).catch(async () => {
    if (!durable && !(await pathExists(final))) await rm(`${final}.boot`, { force: true });
  });
}
