/**
 * pushImage: a ref of the content store → a registry. For each blob (config, layers): HEAD to skip
 * what the repository has, a cross-repository mount when the blob is known to be in another
 * repository of the same registry (remembered from pulls and pushes, or the caller's `mountFrom`),
 * else an upload (POST, then one PUT or PATCH chunks and a PUT), restarted from scratch on a
 * retryable failure. Then the manifest (for an index: each child manifest by digest, then the index)
 * with its own media type as Content-Type; the digest the registry reports must match.
 */
import { DigestMismatchError, JettisonError, RegistryError } from '../errors.ts';
import { sha256 } from '../image/digest.ts';
import { parseManifestOrIndex } from '../image/manifest.ts';
import { formatReference, normalizeReference, parseReference, type ImageReference } from '../image/reference.ts';
import type { Descriptor, Digest } from '../image/types.ts';
import type { ContentStore } from '../store/types.ts';
import { repositoryScope } from './auth.ts';
import { RegistryClient, serverDetail } from './client.ts';
import { registryEndpoint, registryHostOf, resolveRegistryConfig } from './config.ts';
import { readCredentials } from './credentials.ts';
import { retryableError } from './http.ts';
import { mapLimit } from './pool.ts';
import type { TransferOptions } from './pull.ts';
import { blobSources, recordBlobSources } from './sources.ts';

export interface PushOptions extends TransferOptions {
  store: ContentStore;
  /** The local image to push (a store ref name as users type it); default: the destination itself. */
  source?: string;
  /**
   * A repository of the destination registry that already holds the blobs ("ns/base" or
   * "host/ns/base"): they are mounted from it rather than uploaded.
   */
  mountFrom?: string;
  /** Upload blobs larger than this in PATCH chunks of this size (default: one PUT per blob). */
  chunkSize?: number;
  /** Try cross-repository mounts (default true). */
  mount?: boolean;
}

export type BlobOutcome = 'exists' | 'mounted' | 'pushed';

export interface PushResult {
  /** The destination, fully qualified. */
  name: string;
  /** Digest, media type and size of the manifest or index pushed. */
  digest: Digest;
  mediaType: string;
  size: number;
  /** What happened to each blob. */
  blobs: { digest: Digest; size: number; outcome: BlobOutcome }[];
  /** Bytes uploaded. */
  uploaded: number;
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
  const record = await store.getRef(sourceName);
  if (!record) throw new JettisonError('NOT_FOUND', `An image does not exist locally with the tag: ${opts.source ?? name}`);
  const target = record.target;
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

  const pushBlob = async (desc: Descriptor, kind: 'config' | 'layer'): Promise<void> => {
    const scopes = [repositoryScope(repo, ['pull', 'push'])];
    if (await client.hasBlob(repo, desc.digest, scopes)) {
      outcomes.set(desc.digest, { digest: desc.digest, size: desc.size, outcome: 'exists' });
      onProgress?.({ id: desc.digest, action: 'exists', current: desc.size, total: desc.size, kind });
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
        onProgress?.({ id: desc.digest, action: 'mounted', current: desc.size, total: desc.size, kind });
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
        onProgress?.({ id: desc.digest, action: 'uploading', current: 0, total: desc.size, kind });
        await client.uploadBlob(repo, session, path, desc, {
          chunkSize: opts.chunkSize,
          onBytes: (n) => {
            sent += n;
            onProgress?.({ id: desc.digest, action: 'uploading', current: sent, total: desc.size, kind });
          },
        });
        uploaded += sent;
        break;
      } catch (err) {
        session = undefined;
        if (!isRetryable(err) || attempt >= client.maxRetries) throw err;
        onProgress?.({ id: desc.digest, action: 'retrying', current: 0, total: desc.size, kind });
        await client.backoff(attempt + 1);
      }
    }
    outcomes.set(desc.digest, { digest: desc.digest, size: desc.size, outcome: 'pushed' });
    onProgress?.({ id: desc.digest, action: 'done', current: desc.size, total: desc.size, kind });
  };

  const ensureBlob = (desc: Descriptor, kind: 'config' | 'layer'): Promise<void> => {
    let p = inFlight.get(desc.digest);
    if (!p) inFlight.set(desc.digest, (p = pushBlob(desc, kind)));
    return p;
  };

  /** Pushes a manifest's blobs then the manifest itself; returns nothing (verifies the registry's digest). */
  const pushManifest = async (desc: Descriptor, tagOrDigest: string): Promise<void> => {
    const bytes = await store.readBytes(desc.digest);
    if (sha256(bytes) !== desc.digest) throw new DigestMismatchError(`local manifest ${desc.digest}`, desc.digest, sha256(bytes));
    const parsed = parseManifestOrIndex(bytes, desc.mediaType, desc.digest);
    if (parsed.kind === 'index') {
      const children = parsed.index.manifests;
      for (const child of children) {
        if (!(await store.has(child.digest))) {
          throw new JettisonError('NOT_FOUND', `${name}: manifest ${child.digest} of index ${desc.digest} is not in the local store`);
        }
      }
      // Children one after another (their blobs in parallel), so concurrency stays bounded.
      for (const child of children) await pushManifest(child, child.digest);
    } else {
      const blobs: { d: Descriptor; kind: 'config' | 'layer' }[] = [
        { d: parsed.manifest.config, kind: 'config' },
        ...parsed.manifest.layers.map((d) => ({ d, kind: 'layer' as const })),
      ];
      for (const { d, kind } of blobs) {
        if (!(await store.has(d.digest))) throw new JettisonError('NOT_FOUND', `${name}: blob ${d.digest} is not in the local store`);
        onProgress?.({ id: d.digest, action: 'waiting', current: 0, total: d.size, kind });
      }
      await mapLimit(blobs, opts.concurrency ?? 4, ({ d, kind }) => ensureBlob(d, kind));
    }
    const docType = (JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown }).mediaType;
    const mediaType = typeof docType === 'string' && docType ? docType : desc.mediaType;
    const reported = await client.putManifest(repo, tagOrDigest, bytes, mediaType, `failed to push ${name}`);
    if (reported !== undefined && reported !== desc.digest) throw new DigestMismatchError(`${name}: the registry stored the manifest`, desc.digest, reported);
  };

  try {
    await pushManifest(target, ref.tag ?? target.digest);
  } catch (err) {
    throw pushError(err, name);
  }
  await recordBlobSources(store, [...outcomes.keys()], ref.registry, repo);
  return {
    name,
    digest: target.digest,
    mediaType: target.mediaType,
    size: target.size,
    blobs: [...outcomes.values()],
    uploaded,
  };
}
