/**
 * Compressed variants of uncompressed layers. Builds keep their layers uncompressed in the store
 * (digest = diffID); pushes and OCI exports need them compressed. compressLayer streams a stored
 * layer through a compressor into the store once and remembers the result as a small record,
 *
 *   variants/<uncompressed hex>.<gzip|zstd>[-<level>]   {"digest":"sha256:…","size":N}
 *
 * written atomically after the compressed blob is durable (so a half-written variant never counts).
 * A record is used only when its blob is present with its size (it is leased first, so a concurrent
 * prune cannot take it meanwhile); prune may remove a variant's blob (no ref reaches it), which is then
 * made again. convertImage applies this to a whole image (manifest or index) and stores the rewritten
 * manifests; fsck verifies the records (checkVariants), prune drops those whose blobs are gone.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { DigestMismatchError } from '../errors.ts';
import type { Compression } from '../image/compression.ts';
import { compressedLayerMediaType, replaceDescriptors } from '../image/convert.ts';
import { digestHex, isDigest } from '../image/digest.ts';
import { diffIDOf, encodeLayer } from '../image/layer.ts';
import { parseManifestOrIndex } from '../image/manifest.ts';
import type { Descriptor, Digest } from '../image/types.ts';
import { mkdirp, readdirIfExists, unlinkIfExists, writeFileAtomic } from '../util/fs.ts';
import { mapLimit } from '../util/pool.ts';
import type { ContentStore } from './types.ts';

export type LayerCompression = Exclude<Compression, 'none'>;

export interface CompressOptions {
  /** Compression level (gzip 1–9, default 6; zstd 1–19, default 3); variants are remembered per level. */
  level?: number;
}

export interface CompressedLayer {
  /** The layer as it should appear in a manifest (compressed media type, digest, size). */
  descriptor: Descriptor;
  /** True when a remembered variant was used, false when the layer was compressed now. */
  reused: boolean;
}

interface VariantRecord {
  digest: Digest;
  size: number;
}

function variantDir(store: ContentStore): string {
  return join(store.root, 'variants');
}

/** A record's file: the level is part of the name when one was asked for (the default level has none). */
function variantFile(store: ContentStore, source: Digest, compression: LayerCompression, level?: number): string {
  return join(variantDir(store), `${digestHex(source)}.${compression}${level === undefined ? '' : `-${level}`}`);
}

const RECORD_NAME = /^([a-f0-9]{64})\.(gzip|zstd)(?:-\d{1,2})?$/;

/** The record for `source` compressed with `compression` (at `level`), if one was written and is well formed. */
async function readVariant(store: ContentStore, source: Digest, compression: LayerCompression, level?: number): Promise<VariantRecord | undefined> {
  let text: string;
  try {
    text = await readFile(variantFile(store, source, compression, level), 'utf8');
  } catch {
    return undefined;
  }
  return parseRecord(text);
}

function parseRecord(text: string): VariantRecord | undefined {
  try {
    const rec = JSON.parse(text) as VariantRecord;
    if (typeof rec.digest !== 'string' || !isDigest(rec.digest) || !Number.isSafeInteger(rec.size) || rec.size < 0) return undefined;
    return { digest: rec.digest, size: rec.size };
  } catch {
    return undefined;
  }
}

/**
 * The remembered `compression` variant of the uncompressed blob `source`, when its blob is in the
 * store with the recorded size (and then leased: prune leaves it alone while this store's work lasts).
 */
async function findVariant(store: ContentStore, source: Digest, compression: LayerCompression, level?: number): Promise<VariantRecord | undefined> {
  const rec = await readVariant(store, source, compression, level);
  if (!rec || !(await store.retain(rec.digest))) return undefined;
  return (await store.size(rec.digest)) === rec.size ? rec : undefined;
}

// Compressions of one blob in flight in this process, so concurrent callers share one.
const inFlight = new Map<string, Promise<CompressedLayer>>();

/**
 * `layer` (a stored layer) as a `compression`-compressed blob in the store. A layer that is not an
 * uncompressed one is returned as it is (pulled layers keep the registry's compression). Otherwise the
 * remembered variant is used when present, else the layer is streamed through the compressor into the
 * store (checking on the way that it hashes to its digest) and the variant is recorded.
 */
export function compressLayer(store: ContentStore, layer: Descriptor, compression: LayerCompression, opts: CompressOptions = {}): Promise<CompressedLayer> {
  const mediaType = compressedLayerMediaType(layer.mediaType, compression);
  if (mediaType === undefined) return Promise.resolve({ descriptor: layer, reused: true });
  const key = `${store.root}\0${layer.digest}\0${compression}\0${opts.level ?? ''}`;
  let p = inFlight.get(key);
  if (!p) {
    p = (async (): Promise<CompressedLayer> => {
      const withType = (rec: VariantRecord): Descriptor => {
        const d: Descriptor = { mediaType, digest: rec.digest, size: rec.size };
        if (layer.annotations) d.annotations = layer.annotations;
        return d;
      };
      const known = await findVariant(store, layer.digest, compression, opts.level);
      if (known) return { descriptor: withType(known), reused: true };
      const encoded = await encodeLayer(store.open(layer.digest), { compression, ...(opts.level !== undefined ? { level: opts.level } : {}) }, store);
      if (encoded.diffID !== layer.digest) throw new DigestMismatchError(`stored layer ${layer.digest}`, layer.digest, encoded.diffID);
      const rec: VariantRecord = { digest: encoded.descriptor.digest, size: encoded.descriptor.size };
      await mkdirp(variantDir(store));
      await writeFileAtomic(variantFile(store, layer.digest, compression, opts.level), `${JSON.stringify(rec)}\n`, { tmpDir: join(store.root, 'tmp') });
      return { descriptor: withType(rec), reused: false };
    })().finally(() => inFlight.delete(key));
    inFlight.set(key, p);
  }
  return p;
}

/** Default number of layers compressed at once. */
function defaultCompressJobs(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

export interface ConvertOptions extends CompressOptions {
  /** Layers compressed at once (default: CPUs, at most 4). */
  concurrency?: number;
  /** Called as each layer is compressed or found (for progress). */
  onLayer?: (source: Descriptor, result: CompressedLayer) => void;
}

/** compressLayer over a list of layers, at most `concurrency` at once; the results in order. */
export async function compressLayers(store: ContentStore, layers: readonly Descriptor[], compression: LayerCompression, opts: ConvertOptions = {}): Promise<Descriptor[]> {
  const out = [...layers];
  const todo = layers.map((l, i) => ({ l, i })).filter(({ l }) => compressedLayerMediaType(l.mediaType, compression) !== undefined);
  await mapLimit(todo, opts.concurrency ?? defaultCompressJobs(), async ({ l, i }) => {
    const r = await compressLayer(store, l, compression, opts);
    out[i] = r.descriptor;
    opts.onLayer?.(l, r);
  });
  return out;
}

/**
 * The image `target` (a manifest, or an index and those of its manifests that are in the store) with
 * every uncompressed layer compressed (see compressLayer); the rewritten manifests and index are
 * stored (leased: no ref names them). Returns `target` itself when nothing needed compressing,
 * else the new descriptor (platform and annotations kept).
 */
export async function convertImage(store: ContentStore, target: Descriptor, compression: Compression, opts: ConvertOptions = {}): Promise<Descriptor> {
  if (compression === 'none') return target;
  const bytes = await store.readBytes(target.digest);
  const parsed = parseManifestOrIndex(bytes, target.mediaType, target.digest);
  const replace = new Map<Digest, Descriptor>();
  if (parsed.kind === 'index') {
    for (const m of parsed.index.manifests) {
      if (await store.has(m.digest)) replace.set(m.digest, await convertImage(store, m, compression, opts));
    }
  } else {
    const layers = parsed.manifest.layers;
    const compressed = await compressLayers(store, layers, compression, opts);
    layers.forEach((l, i) => replace.set(l.digest, compressed[i]));
  }
  const rewritten = replaceDescriptors(bytes, target.mediaType, replace);
  if (!rewritten) return target;
  const stored = await store.putBytes(rewritten, target.mediaType);
  return { ...target, digest: stored.digest, size: stored.size };
}

/** Removes variant records whose blob (or source) is no longer in the store; returns how many. */
export async function dropStaleVariants(store: ContentStore): Promise<number> {
  let n = 0;
  for (const name of await readdirIfExists(variantDir(store))) {
    const m = RECORD_NAME.exec(name);
    const path = join(variantDir(store), name);
    if (!m) continue;
    const rec = parseRecord(await readFile(path, 'utf8').catch(() => ''));
    const stale = !rec || !(await store.has(rec.digest)) || !(await store.has(`sha256:${m[1]}`));
    if (stale && (await unlinkIfExists(path))) n++;
  }
  return n;
}

/**
 * fsck's check of the variant records: each must be well formed, and where both blobs are present the
 * compressed one must decompress to the uncompressed one. Returns the problems found.
 */
export async function checkVariants(store: ContentStore): Promise<string[]> {
  const problems: string[] = [];
  for (const name of await readdirIfExists(variantDir(store))) {
    const where = `variants/${name}`;
    const m = RECORD_NAME.exec(name);
    if (!m) {
      problems.push(`${where}: not a variant record name`);
      continue;
    }
    const rec = parseRecord(await readFile(join(variantDir(store), name), 'utf8').catch(() => ''));
    if (!rec) {
      problems.push(`${where}: unreadable or malformed variant record`);
      continue;
    }
    const source = `sha256:${m[1]}`;
    const size = await store.size(rec.digest);
    if (size === undefined || !(await store.has(source))) continue; // pruned: made again when needed
    if (size !== rec.size) {
      problems.push(`${where}: ${rec.digest} is ${size} bytes, the record says ${rec.size}`);
      continue;
    }
    const got = await diffIDOf(store.open(rec.digest), m[2] as LayerCompression).catch((e: Error) => e);
    if (got instanceof Error) problems.push(`${where}: ${rec.digest} does not decompress: ${got.message}`);
    else if (got !== source) problems.push(`${where}: ${rec.digest} decompresses to ${got}, not ${source}`);
  }
  return problems;
}
