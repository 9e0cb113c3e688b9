/**
 * pushImage: a ref of the content store → a registry. Uncompressed layers (how builds store them) are
 * compressed on the way (gzip by default, as docker push does; zstd, or none to send them as stored),
 * through the store's remembered variants (src/store/variants.ts), so a second push does not compress
 * again; the pushed manifest names the compressed blobs, so its digest differs from the local one.
 * Layers already compressed (pulled ones) go up as they are. For each blob (config, layers): HEAD to
 * skip what the repository has, a cross-repository mount when the blob is known to be in another
 * repository of the same registry (remembered from pulls and pushes, or the caller's `mountFrom`),
 * else an upload (POST, then one PUT or PATCH chunks and a PUT), restarted from scratch on a
 * retryable failure; up to `concurrency` layers are compressed and uploaded at once. Before any of
 * that the whole image is checked: every manifest and blob in the store, no zstd for a Docker
 * manifest, and no compressing for a push by digest (it would change the digest). Then the
 * manifest (for an index: each child manifest by digest, then the index) with its own media type as
 * Content-Type; the digest the registry reports must match.
 */
import { DigestMismatchError, JettisonError, RegistryError } from '../errors.ts';
import type { Compression } from '../image/compression.ts';
import { compressedLayerMediaType, replaceDescriptors } from '../image/convert.ts';
import { sha256 } from '../image/digest.ts';
import { parseManifestOrIndex, type ParsedContent } from '../image/manifest.ts';
import { formatReference, normalizeReference, parseReference, type ImageReference } from '../image/reference.ts';
import type { Descriptor, Digest } from '../image/types.ts';
import type { ContentStore } from '../store/types.ts';
import { compressLayer, type LayerCompression } from '../store/variants.ts';
import { repositoryScope } from './auth.ts';
import { RegistryClient, serverDetail } from './client.ts';
import { registryEndpoint, registryHostOf, resolveRegistryConfig } from './config.ts';
import { readCredentials } from './credentials.ts';
import { retryableError } from './http.ts';
import { mapLimit } from '../util/pool.ts';
import type { TransferOptions } from './pull.ts';
import { blobSources, recordBlobSources } from './sources.ts';

export interface PushOptions extends TransferOptions {
  store: ContentStore;
  /** The local image to push (a store ref name as users type it); default: the destination itself. */
  source?: string;
  /** The manifest or index to push, when it is not named by a ref (wins over `source`). */
  target?: Descriptor;
  /**
   * A repository of the destination registry that already holds the blobs ("ns/base" or
   * "host/ns/base"): they are mounted from it rather than uploaded.
   */
  mountFrom?: string;
  /** Upload blobs larger than this in PATCH chunks of this size (default: one PUT per blob). */
  chunkSize?: number;
  /** Try cross-repository mounts (default true). */
  mount?: boolean;
  /**
   * How uncompressed layers are sent: gzip (default, as docker push), zstd, or none (as stored).
   * Layers stored compressed are sent as they are.
   */
  compression?: Compression;
  /** Compression level for layers compressed by this push (gzip 1–9, zstd 1–19). */
  compressionLevel?: number;
}

export type BlobOutcome = 'exists' | 'mounted' | 'pushed';

export interface PushResult {
  /** The destination, fully qualified. */
  name: string;
  /**
   * Digest, media type and size of the manifest or index pushed (differs from the local one when
   * layers were compressed on the way).
   */
  digest: Digest;
  mediaType: string;
  size: number;
  /** What happened to each blob (the digests as pushed). */
  blobs: { digest: Digest; size: number; outcome: BlobOutcome }[];
  /** Bytes uploaded. */
  uploaded: number;
  /** Layers compressed by this push (a remembered variant reused does not count). */
  compressed: number;
}

function isRetryable(err: unknown): boolean {
  if (retryableError(err)) return true;
  return err instanceof RegistryError && err.status !== undefined && (err.status >= 500 || err.status === 429 || err.status === 408);
}

function pushError(err: unknown, name: string): unknown {
  if (err instanceof RegistryError && err.code === 'UNAUTHORIZED' && !err.message.startsWith('failed to authorize')) {
    const detail = serverDetail(err);
    return new RegistryError('UNAUTHORIZED', `failed to push ${name}: server message: ${detail}`, { status: err.status, registryCode: err.registryCode }, { cause: err });
  }
  return err;
}

/**
 * The repository named by a `mountFrom` hint on `registry`: "ns/base[:tag]" as is, "host/ns/base" only
 * when host is that registry (else undefined: mounts work within one registry).
 */
function mountRepository(from: string, registry: string): string | undefined {
  const first = from.split('/')[0];
  const hasHost = from.includes('/') && (/[.:]/.test(first) || first === 'localhost');
  if (!hasHost) return from.replace(/[@:].*$/, '');
  const r = parseReference(from, { defaultTag: false });
  return registryHostOf(r.registry) === registry ? r.repository : undefined;
}

/** Pushes a stored image (manifest or index and everything it names) to `reference`. */
export async function pushImage(reference: string | ImageReference, opts: PushOptions): Promise<PushResult> {
  const ref = typeof reference === 'string' ? parseReference(reference) : reference;
  const name = formatReference(ref);
  const { store, onProgress } = opts;
  const config = opts.config ?? (await resolveRegistryConfig({}, process.env));
  const sourceName = opts.source ? normalizeReference(opts.source) : name;
  const target = opts.target ?? (await store.getRef(sourceName))?.target;
  if (!target) throw new JettisonError('NOT_FOUND', `An image does not exist locally with the tag: ${opts.source ?? name}`);
  const compression = opts.compression ?? 'gzip';
  if (compression !== 'none' && compression !== 'gzip' && compression !== 'zstd') {
    throw new JettisonError('USAGE', `invalid compression "${String(compression)}": expected gzip, zstd or none`);
  }
  if (ref.digest && ref.digest !== target.digest) {
    throw new JettisonError('DIGEST_MISMATCH', `${name}: the local image ${sourceName} has digest ${target.digest}`);
  }
  const client = new RegistryClient({
    registry: ref.registry,
    endpoint: registryEndpoint(ref.registry, config),
    credentials: () => readCredentials(ref.registry, config.env),
    retries: opts.retries,
    retryDelayMs: opts.retryDelayMs,
  });
  const repo = ref.repository;
  const mountFrom = opts.mountFrom ? mountRepository(opts.mountFrom, ref.registry) : undefined;

  const outcomes = new Map<Digest, { digest: Digest; size: number; outcome: BlobOutcome }>();
  const inFlight = new Map<Digest, Promise<void>>();
  let uploaded = 0;
  let compressed = 0;

  /** Uploads `desc` unless the repository has it; progress events name `id` (the stored blob's digest). */
  const pushBlob = async (desc: Descriptor, kind: 'config' | 'layer', id: Digest): Promise<void> => {
    const scopes = [repositoryScope(repo, ['pull', 'push'])];
    if (await client.hasBlob(repo, desc.digest, scopes)) {
      outcomes.set(desc.digest, { digest: desc.digest, size: desc.size, outcome: 'exists' });
      onProgress?.({ id, action: 'exists', current: desc.size, total: desc.size, kind });
      return;
    }
    const path = await store.pathOf(desc.digest);
    const candidates = opts.mount === false ? [] : [
      ...(mountFrom ? [mountFrom] : []),
      ...(await blobSources(store, desc.digest)).filter((s) => s.registry === ref.registry).map((s) => s.repository),
    ].filter((r, i, all) => r !== repo && all.indexOf(r) === i);
    let session: URL | undefined;
    for (const from of candidates.slice(0, 3)) {
      const mounted = await client.mountBlob(repo, desc.digest, from).catch(() => undefined);
      if (mounted === true) {
        outcomes.set(desc.digest, { digest: desc.digest, size: desc.size, outcome: 'mounted' });
        onProgress?.({ id, action: 'mounted', current: desc.size, total: desc.size, kind });
        return;
      }
      if (mounted instanceof URL) {
        session = mounted;
        break;
      }
    }
    for (let attempt = 0; ; attempt++) {
      let sent = 0;
      try {
        session ??= await client.startUpload(repo);
        onProgress?.({ id, action: 'uploading', current: 0, total: desc.size, kind });
        await client.uploadBlob(repo, session, path, desc, {
          chunkSize: opts.chunkSize,
          onBytes: (n) => {
            sent += n;
            onProgress?.({ id, action: 'uploading', current: sent, total: desc.size, kind });
          },
        });
        uploaded += sent;
        break;
      } catch (err) {
        session = undefined;
        if (!isRetryable(err) || attempt >= client.maxRetries) throw err;
        onProgress?.({ id, action: 'retrying', current: 0, total: desc.size, kind });
        await client.backoff(attempt + 1);
      }
    }
    outcomes.set(desc.digest, { digest: desc.digest, size: desc.size, outcome: 'pushed' });
    onProgress?.({ id, action: 'done', current: desc.size, total: desc.size, kind });
  };

  const ensureBlob = (desc: Descriptor, kind: 'config' | 'layer', id: Digest): Promise<void> => {
    let p = inFlight.get(desc.digest);
    if (!p) inFlight.set(desc.digest, (p = pushBlob(desc, kind, id)));
    return p;
  };

  /** A stored layer as it goes up: compressed (a remembered variant, or made now) when it is uncompressed. */
  const layerToSend = async (d: Descriptor, c: LayerCompression): Promise<Descriptor> => {
    if (compressedLayerMediaType(d.mediaType, c) === undefined) return d;
    onProgress?.({ id: d.digest, action: 'compressing', current: 0, total: d.size, kind: 'layer' });
    const r = await compressLayer(store, d, c, opts.compressionLevel !== undefined ? { level: opts.compressionLevel } : {});
    if (!r.reused) compressed++;
    return r.descriptor;
  };

  /** The manifests and indexes of the image, read (and checked against their digests) once. */
  const documents = new Map<Digest, { bytes: Buffer; parsed: ParsedContent }>();
  const readDocument = async (desc: Descriptor): Promise<{ bytes: Buffer; parsed: ParsedContent }> => {
    let doc = documents.get(desc.digest);
    if (!doc) {
      const bytes = await store.readBytes(desc.digest);
      if (sha256(bytes) !== desc.digest) throw new DigestMismatchError(`local manifest ${desc.digest}`, desc.digest, sha256(bytes));
      doc = { bytes, parsed: parseManifestOrIndex(bytes, desc.mediaType, desc.digest) };
      documents.set(desc.digest, doc);
    }
    return doc;
  };

  /**
   * Walks the whole image before anything is compressed or sent: fails when a manifest or blob is not
   * in the store, or zstd is asked of a Docker schema 2 manifest (it has no zstd layer type). Returns
   * true when some layer will be compressed, i.e. the manifests pushed will not be the local ones.
   */
  const check = async (desc: Descriptor): Promise<boolean> => {
    const { parsed } = await readDocument(desc);
    let compresses = false;
    if (parsed.kind === 'index') {
      for (const child of parsed.index.manifests) {
        if (!(await store.has(child.digest))) {
          throw new JettisonError('NOT_FOUND', `${name}: manifest ${child.digest} of index ${desc.digest} is not in the local store`);
        }
        if (await check(child)) compresses = true;
      }
      return compresses;
    }
    for (const d of [parsed.manifest.config, ...parsed.manifest.layers]) {
      if (!(await store.has(d.digest))) throw new JettisonError('NOT_FOUND', `${name}: blob ${d.digest} is not in the local store`);
    }
    for (const l of parsed.manifest.layers) if (compressedLayerMediaType(l.mediaType, compression) !== undefined) compresses = true;
    return compresses;
  };

  /**
   * Pushes a manifest's blobs then the manifest itself, under `tag` (else by its digest); returns the
   * descriptor of what was pushed (verified against the digest the registry reports).
   */
  const pushManifest = async (desc: Descriptor, tag: string | undefined): Promise<Descriptor> => {
    const { bytes, parsed } = await readDocument(desc);
    const replace = new Map<Digest, Descriptor>();
    if (parsed.kind === 'index') {
      // Children one after another (their blobs in parallel), so concurrency stays bounded.
      for (const child of parsed.index.manifests) replace.set(child.digest, await pushManifest(child, undefined));
    } else {
      const blobs: { d: Descriptor; kind: 'config' | 'layer' }[] = [
        { d: parsed.manifest.config, kind: 'config' },
        ...parsed.manifest.layers.map((d) => ({ d, kind: 'layer' as const })),
      ];
      for (const { d, kind } of blobs) onProgress?.({ id: d.digest, action: 'waiting', current: 0, total: d.size, kind });
      await mapLimit(blobs, opts.concurrency ?? 4, async ({ d, kind }) => {
        const send = kind === 'layer' && compression !== 'none' ? await layerToSend(d, compression) : d;
        if (send !== d) replace.set(d.digest, send);
        await ensureBlob(send, kind, d.digest);
      });
    }
    const out = replaceDescriptors(bytes, desc.mediaType, replace) ?? bytes;
    const pushed: Descriptor = { ...desc, digest: out === bytes ? desc.digest : sha256(out), size: out.length };
    const docType = (JSON.parse(out.toString('utf8')) as { mediaType?: unknown }).mediaType;
    const mediaType = typeof docType === 'string' && docType ? docType : desc.mediaType;
    const reported = await client.putManifest(repo, tag ?? pushed.digest, out, mediaType, `failed to push ${name}`);
    if (reported !== undefined && reported !== pushed.digest) throw new DigestMismatchError(`${name}: the registry stored the manifest`, pushed.digest, reported);
    return pushed;
  };

  let pushed: Descriptor;
  try {
    // A push by digest must leave the manifest as it is: decided here, before any layer is compressed or any blob sent.
    if ((await check(target)) && ref.digest !== undefined) {
      throw new JettisonError(
        'DIGEST_MISMATCH',
        `${name}: the image has uncompressed layers and compressing them (${compression}) changes its digest: push it by tag, or uncompressed to keep ${target.digest}`,
      );
    }
    pushed = await pushManifest(target, ref.tag);
  } catch (err) {
    throw pushError(err, name);
  }
  await recordBlobSources(store, [...outcomes.keys()], ref.registry, repo);
  return {
    name,
    digest: pushed.digest,
    mediaType: pushed.mediaType,
    size: pushed.size,
    blobs: [...outcomes.values()],
    uploaded,
    compressed,
  };
}
