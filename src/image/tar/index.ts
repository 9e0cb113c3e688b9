/**
 * The layer tar codec: a deterministic streaming writer (plain directory, overlayfs upper directory,
 * or a diff of two directories), a hardened streaming reader, and an applier (merge or overlay mode).
 */
export { writeLayerTar, WHITEOUT_PREFIX, OPAQUE_MARKER, type LayerSource, type WriteLayerOptions } from './writer.ts';
export { applyLayerTar, type ApplyMode, type ApplyOptions, type ApplyResult } from './apply.ts';
export { readTar, type TarEntry } from './reader.ts';
export type { EntryType, TarHeader } from './header.ts';
