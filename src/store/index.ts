/**
 * The embedded content store's public surface: openStore() gives a ContentStore on the local file
 * system (see local.ts for the layout and its crash and concurrency guarantees), plus GC (prune),
 * fsck, image helpers that read images from the store, and compressed variants of uncompressed
 * layers for pushes and exports (variants.ts).
 */
import { LocalStore } from './local.ts';
import { resolveRoot } from './root.ts';

export type { ContentStore, ExpectedContent, RefRecord } from './types.ts';
export { LocalStore } from './local.ts';
export { resolveRoot } from './root.ts';

/** Opens (creating on first write) the store at `root`, else the root resolveRoot() picks from env. */
export function openStore(root?: string, env: NodeJS.ProcessEnv = process.env): LocalStore {
  return new LocalStore(root ?? resolveRoot({}, env));
}
export { prune, addRootProvider, collectRoots, reachable, type PruneResult, type RootProvider } from './gc.ts';
export { fsck, type FsckResult } from './fsck.ts';
export {
  readImage,
  readImageByDescriptor,
  resolveImageRef,
  imageBlobs,
  imageSize,
  writeImage,
  looksLikeReference,
  type StoredImage,
} from './image.ts';
export { importRootfs, importRootfsFile, type ImportOptions, type ImportResult } from './import.ts';
export {
  compressLayer,
  compressLayers,
  convertImage,
  type CompressedLayer,
  type CompressOptions,
  type ConvertOptions,
  type LayerCompression,
} from './variants.ts';
