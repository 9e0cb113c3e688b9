/**
 * `jettison import`: a root file system tarball (uncompressed, gzip or zstd: recognised by its
 * magic bytes, not its name) becomes a one-layer image, the way `docker import` does it. The tar is
 * streamed once through encodeLayer (diffID + blob into the store; uncompressed unless asked).
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { JettisonError } from '../errors.ts';
import { createDecompressor } from '../image/compression.ts';
import { createImageConfig } from '../image/config.ts';
import { encodeLayer, type Compression } from '../image/layer.ts';
import { hostPlatform } from '../image/platform.ts';
import type { ContainerConfig, Descriptor, Platform } from '../image/types.ts';
import { peek, sniffCompression, unsupportedCompression } from '../util/magic.ts';
import { writeImage } from './image.ts';
import type { ContentStore } from './types.ts';

export interface ImportOptions {
  /** Layer compression in the store (default none: pushes and OCI exports compress). */
  compression?: Compression;
  platform?: Platform;
  config?: ContainerConfig;
  /** History comment (docker import writes "Imported from <source>"). */
  message?: string;
  /** ISO time for `created` (default now). */
  created?: string;
}

export interface ImportResult {
  name?: string;
  manifest: Descriptor;
  config: Descriptor;
  layer: Descriptor;
  diffID: string;
}

/** Imports a root file system tar stream as a one-layer image, tagged `name` when given. */
export async function importRootfs(store: ContentStore, source: AsyncIterable<Uint8Array>, name: string | undefined, opts: ImportOptions = {}): Promise<ImportResult> {
  const { head, stream } = await peek(source, 6);
  if (head.length === 0) throw new JettisonError('BAD_ARCHIVE', 'import: empty input');
  const magic = sniffCompression(head);
  if (magic === 'bzip2' || magic === 'xz') throw unsupportedCompression(magic, 'import');
  let tar: Readable = stream;
  if (magic !== 'none') {
    const d = createDecompressor(magic);
    stream.on('error', (e) => d.destroy(e));
    tar = stream.pipe(d);
  }
  const { descriptor, diffID } = await encodeLayer(tar, { compression: opts.compression ?? 'none' }, store);
  const created = opts.created ?? new Date().toISOString();
  const config = createImageConfig({
    platform: opts.platform ?? hostPlatform(),
    diffIDs: [diffID],
    config: opts.config ?? {},
    created,
    history: [{ created, created_by: 'jettison import', comment: opts.message ?? 'Imported from -' }],
  });
  const written = await writeImage(store, config, [descriptor], name);
  const out: ImportResult = { manifest: written.manifest, config: written.config, layer: descriptor, diffID };
  if (written.name) out.name = written.name;
  return out;
}

/** Imports a file. */
export function importRootfsFile(store: ContentStore, path: string, name: string | undefined, opts: ImportOptions = {}): Promise<ImportResult> {
  return importRootfs(store, createReadStream(path), name, { message: `Imported from ${path}`, ...opts });
}
