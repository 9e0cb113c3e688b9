/**
 * Manifests and indexes: media type tests, parsing with validation (OCI and Docker schema 2), and
 * creation helpers for the OCI forms jettison writes.
 */
import { JettisonError } from '../errors.ts';
import { isDigest } from './digest.ts';
import { MediaType, type Descriptor, type Index, type Manifest } from './types.ts';

/** The annotation an OCI layout's index.json uses for a manifest's tag. */
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';
/** containerd's and BuildKit's annotation for the full image name in an OCI layout. */
export const ANNOTATION_IMAGE_NAME = 'io.containerd.image.name';
export const ANNOTATION_CREATED = 'org.opencontainers.image.created';

export function isIndexMediaType(mt: string | undefined): boolean {
  return mt === MediaType.OciIndex || mt === MediaType.DockerManifestList;
}

export function isManifestMediaType(mt: string | undefined): boolean {
  return mt === MediaType.OciManifest || mt === MediaType.DockerManifest;
}

export function isConfigMediaType(mt: string | undefined): boolean {
  return mt === MediaType.OciConfig || mt === MediaType.DockerConfig;
}

function bad(what: string, detail: string): JettisonError {
  return new JettisonError('BAD_MANIFEST', `${what}: ${detail}`);
}

export function validateDescriptor(d: unknown, what: string): Descriptor {
  if (!d || typeof d !== 'object') throw bad(what, 'descriptor is not an object');
  const x = d as Descriptor;
  if (typeof x.mediaType !== 'string' || x.mediaType === '') throw bad(what, 'descriptor has no mediaType');
  if (typeof x.digest !== 'string' || !isDigest(x.digest)) throw bad(what, `descriptor digest "${String(x.digest)}" is not sha256:<64 hex>`);
  if (!Number.isSafeInteger(x.size) || x.size < 0) throw bad(what, `descriptor size ${String(x.size)} is not a non-negative integer`);
  return x;
}

export type ParsedContent = { kind: 'index'; index: Index; mediaType: string } | { kind: 'manifest'; manifest: Manifest; mediaType: string };

/**
 * Parses a manifest or index (OCI or Docker schema 2). `mediaType` (from the descriptor) wins over
 * the document's own field; without either, the shape decides. Throws BAD_MANIFEST when invalid.
 */
export function parseManifestOrIndex(bytes: Uint8Array | string, mediaType?: string, what = 'manifest'): ParsedContent {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw bad(what, `not valid JSON: ${(err as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw bad(what, 'not a JSON object');
  if (doc.schemaVersion !== 2) throw bad(what, `unsupported schemaVersion ${String(doc.schemaVersion)} (expected 2)`);
  const docType = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  const mt = mediaType ?? docType ?? (Array.isArray(doc.manifests) ? MediaType.OciIndex : MediaType.OciManifest);
  if (isIndexMediaType(mt)) {
    if (!Array.isArray(doc.manifests)) throw bad(what, 'index has no manifests list');
    doc.manifests.forEach((d, i) => validateDescriptor(d, `${what} manifests[${i}]`));
    return { kind: 'index', index: doc as unknown as Index, mediaType: mt };
  }
  if (isManifestMediaType(mt)) {
    validateDescriptor(doc.config, `${what} config`);
    if (!Array.isArray(doc.layers)) throw bad(what, 'manifest has no layers list');
    doc.layers.forEach((d, i) => validateDescriptor(d, `${what} layers[${i}]`));
    return { kind: 'manifest', manifest: doc as unknown as Manifest, mediaType: mt };
  }
  throw bad(what, `unsupported media type "${mt}"`);
}

/** An OCI image manifest. */
export function createManifest(config: Descriptor, layers: Descriptor[], annotations?: Record<string, string>): Manifest {
  const m: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: layers.map((l) => {
      const d: Descriptor = { mediaType: l.mediaType, digest: l.digest, size: l.size };
      if (l.annotations) d.annotations = l.annotations;
      return d;
    }),
  };
  if (annotations && Object.keys(annotations).length > 0) m.annotations = annotations;
  return m;
}

/** An OCI image index. */
export function createIndex(manifests: Descriptor[], annotations?: Record<string, string>): Index {
  const ix: Index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests };
  if (annotations && Object.keys(annotations).length > 0) ix.annotations = annotations;
  return ix;
}

/** The digests a manifest or index points at (children first for an index: its manifests). */
export function childDigests(content: ParsedContent): Descriptor[] {
  if (content.kind === 'index') return [...content.index.manifests];
  const m = content.manifest as Manifest & { subject?: Descriptor };
  return [m.config, ...m.layers];
}
