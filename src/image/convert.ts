/**
 * Converting an image's layers from one compression to another, the pure half: which media type a
 * layer gets when it is compressed, and manifests/indexes rewritten to name other blobs. The store
 * half (compressing a stored layer, remembering the result) is src/store/variants.ts.
 */
import { JettisonError } from '../errors.ts';
import { layerCompressionOf, layerMediaType, type Compression } from './compression.ts';
import { parseManifestOrIndex } from './manifest.ts';
import { MediaType, type Descriptor, type Digest } from './types.ts';

/** True for the media types of uncompressed layers (OCI, OCI non-distributable, Docker). */
export function isUncompressedLayer(mediaType: string): boolean {
  return layerCompressionOf(mediaType) === 'none';
}

/**
 * The media type an uncompressed layer of type `mediaType` has once compressed with `compression`, in
 * the same family (OCI, OCI non-distributable, Docker); undefined when the layer is not an
 * uncompressed one or `compression` is none (nothing to do). Docker's schema 2 has no zstd layer
 * type: asking for one is an UNSUPPORTED error.
 */
export function compressedLayerMediaType(mediaType: string, compression: Compression): string | undefined {
  if (compression === 'none' || !isUncompressedLayer(mediaType)) return undefined;
  if (mediaType === MediaType.OciLayerTar) return layerMediaType(compression);
  if (mediaType === MediaType.OciLayerNondistributableTar) {
    return compression === 'gzip' ? MediaType.OciLayerNondistributableGzip : MediaType.OciLayerNondistributableZstd;
  }
  if (compression === 'gzip') return MediaType.DockerLayerGzip;
  throw new JettisonError('UNSUPPORTED', `zstd compression needs an OCI manifest: Docker schema 2 has no zstd layer type (${mediaType})`);
}

/**
 * The manifest or index `bytes` (of media type `mediaType`) with every layer (manifest) or child
 * manifest (index) whose digest is a key of `replace` swapped for that descriptor's media type,
 * digest and size; other fields of the entries (annotations, platform, urls) and of the document are
 * kept. Returns undefined when nothing was replaced (the original bytes stand).
 */
export function replaceDescriptors(bytes: Uint8Array, mediaType: string | undefined, replace: ReadonlyMap<Digest, Descriptor>): Buffer | undefined {
  const parsed = parseManifestOrIndex(bytes, mediaType);
  const doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as { layers?: Descriptor[]; manifests?: Descriptor[] };
  const list = parsed.kind === 'index' ? doc.manifests : doc.layers;
  let changed = false;
  for (const d of list ?? []) {
    const r = replace.get(d.digest);
    if (!r || (r.digest === d.digest && r.mediaType === d.mediaType)) continue;
    d.mediaType = r.mediaType;
    d.digest = r.digest;
    d.size = r.size;
    changed = true;
  }
  return changed ? Buffer.from(JSON.stringify(doc)) : undefined;
}
