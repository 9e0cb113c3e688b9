/**
 * Layer blobs: encodeLayer streams an uncompressed layer tar once — hashing it (the diffID),
 * compressing it (or not: an uncompressed blob's digest is its diffID), hashing the compressed bytes
 * (the blob digest) and ingesting them into a content store — and decodeLayer turns a stored blob
 * back into its tar stream by media type (diffIDOf: only its hash).
 * Nothing is held in memory beyond stream buffers. createLayer and unpackLayer join these to the
 * tar codec (src/image/tar/): directory → stored blob, and stored blob → directory.
 */
import { PassThrough, Transform, pipeline, type Readable } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { DigestMismatchError, JettisonError } from '../errors.ts';
import type { ContentStore } from '../store/types.ts';
import { compressionOf, createCompressor, createDecompressor, layerMediaType, type Compression } from './compression.ts';
import { DigestCounter } from './digest.ts';
import { applyLayerTar, writeLayerTar, type ApplyOptions, type ApplyResult, type LayerSource, type WriteLayerOptions } from './tar/index.ts';
import type { Descriptor, Digest } from './types.ts';

export type { Compression } from './compression.ts';
export { compressionOf, layerMediaType, parseCompression, zstdAvailable } from './compression.ts';
export { applyLayerTar, writeLayerTar, type ApplyMode, type ApplyOptions, type ApplyResult, type LayerSource, type WriteLayerOptions } from './tar/index.ts';

export interface EncodeLayerOptions {
  compression: Compression;
  /** Compression level (gzip 1–9, default 6; zstd 1–19, default 3). */
  level?: number;
}

export interface EncodedLayer {
  /** The stored blob: its media type, digest and size. */
  descriptor: Descriptor;
  /** sha256 of the uncompressed tar (what goes in the image config's rootfs.diff_ids). */
  diffID: Digest;
}

/** A pass-through transform that feeds every chunk into a DigestCounter. */
function tap(counter: DigestCounter): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      counter.update(chunk);
      cb(null, chunk);
    },
  });
}

/**
 * Compresses `tar` into `store` in one pass; resolves with the blob's descriptor (media type from the
 * compression) and the diffID. A failure anywhere (source, compressor, store) rejects and the store
 * keeps nothing.
 */
export async function encodeLayer(tar: Readable, opts: EncodeLayerOptions, store: ContentStore): Promise<EncodedLayer> {
  const mediaType = layerMediaType(opts.compression);
  // Uncompressed, the blob is the tar: the store's own hash is the diffID (no compressor, no extra hashing).
  const plain = opts.compression === 'none';
  const raw = new DigestCounter();
  const blob = new DigestCounter();
  // `out` is the stream the store reads; pipeline destroys it with the error if anything upstream fails.
  // The pipeline starts reading `tar` now (a child process's stdout not read by then is discarded).
  const out = new PassThrough();
  const stages: NodeJS.ReadWriteStream[] = plain ? [] : [tap(raw), createCompressor(opts.compression, opts.level), tap(blob)];
  let pipeError: Error | undefined;
  const piped = new Promise<void>((resolve) => {
    pipeline([tar, ...stages, out], (err) => {
      if (err) pipeError = err;
      resolve();
    });
  });
  let stored: Descriptor;
  try {
    stored = await store.ingest(out, { mediaType });
  } catch (err) {
    tar.destroy();
    await piped;
    throw err;
  }
  await piped;
  if (pipeError) throw pipeError;
  if (plain) return { descriptor: { mediaType, digest: stored.digest, size: stored.size }, diffID: stored.digest };
  const digest = blob.digest();
  if (stored.digest !== digest || stored.size !== blob.size) {
    throw new JettisonError(
      'STORE',
      `content store recorded ${stored.digest} (${stored.size} bytes) for a layer that hashed to ${digest} (${blob.size} bytes)`,
    );
  }
  return { descriptor: { mediaType, digest, size: blob.size }, diffID: raw.digest() };
}

/**
 * The uncompressed tar stream of a layer blob, decompressed by its media type (OCI gzip/zstd/tar,
 * Docker gzip). Throws UNSUPPORTED_MEDIA_TYPE for other types; stream errors (including corrupt
 * compressed data) surface on the returned stream.
 */
export function decodeLayer(stream: Readable, mediaType: string): Readable {
  const decompressor = createDecompressor(compressionOf(mediaType));
  pipeline(stream, decompressor, () => {});
  return decompressor;
}

/**
 * A layer blob's diffID: the sha256 of `stream` decompressed with `compression` (of the stream itself
 * for none). Reads the whole stream; rejects on corrupt compressed data or a failing stream.
 */
export async function diffIDOf(stream: Readable, compression: Compression): Promise<Digest> {
  const counter = new DigestCounter();
  await pipelineAsync(stream, createDecompressor(compression), async (src: AsyncIterable<Buffer>) => {
    for await (const c of src) counter.update(c);
  });
  return counter.digest();
}

/** Writes `source` as a layer tar (see writeLayerTar) and encodes it into `store` in the same pass. */
export async function createLayer(
  source: LayerSource,
  opts: EncodeLayerOptions & WriteLayerOptions,
  store: ContentStore,
): Promise<EncodedLayer> {
  return encodeLayer(writeLayerTar(source, opts), opts, store);
}

export interface UnpackLayerOptions extends ApplyOptions {
  /** When given, the uncompressed stream must hash to it, else DigestMismatchError (after applying: discard `root`). */
  diffID?: Digest;
}

async function* hashing(source: Readable, counter: DigestCounter): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    counter.update(chunk as Buffer);
    yield chunk as Buffer;
  }
}

/**
 * Decompresses a layer blob by media type and applies it to `root` (see applyLayerTar), computing
 * its diffID on the way. A failure destroys the blob stream.
 */
export async function unpackLayer(
  blob: Readable,
  mediaType: string,
  root: string,
  opts: UnpackLayerOptions,
): Promise<ApplyResult & { diffID: Digest }> {
  const counter = new DigestCounter();
  let tar: Readable;
  try {
    tar = decodeLayer(blob, mediaType);
  } catch (err) {
    blob.destroy();
    throw err;
  }
  const result = await applyLayerTar(hashing(tar, counter), root, opts);
  const diffID = counter.digest();
  if (opts.diffID !== undefined && opts.diffID !== diffID) throw new DigestMismatchError('layer diffID', opts.diffID, diffID);
  return { ...result, diffID };
}
