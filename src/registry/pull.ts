/**
 * pullImage: reference → manifest (an index or manifest list resolved to one platform, the host's by
 * default) → config and layers streamed into the content store (at most `concurrency` at once, each
 * verified against its digest; blobs already present are skipped) → manifest → ref. Tries the
 * registry's mirrors first, then the registry itself. Nothing is stored that does not match the
 * digest it was asked for, and the ref is written last, so it never names an incomplete image.
 */
import { Readable } from 'node:stream';
import { DigestMismatchError, JettisonError, RegistryError } from '../errors.ts';
import { isDigest, sha256 } from '../image/digest.ts';
import { isConfigMediaType, parseManifestOrIndex } from '../image/manifest.ts';
import { hostPlatform, parsePlatform, selectManifest } from '../image/platform.ts';
import { formatReference, parseReference, type ImageReference } from '../image/reference.ts';
import type { Descriptor, Digest, ImageConfig, Manifest, Platform } from '../image/types.ts';
import type { ContentStore } from '../store/types.ts';
import { RegistryClient, serverDetail } from './client.ts';
import { mirrorEndpoint, registryEndpoint, resolveRegistryConfig, type RegistryConfig } from './config.ts';
import { readCredentials } from './credentials.ts';
import { mapLimit } from '../util/pool.ts';
import { recordBlobSources } from './sources.ts';

/** One step of a transfer, for progress displays. `id` is the blob's digest (or the reference). */
export interface TransferEvent {
  id: string;
  action: 'resolving' | 'resolved' | 'waiting' | 'exists' | 'downloading' | 'compressing' | 'uploading' | 'mounted' | 'retrying' | 'done';
  current: number;
  total: number;
  /** What the blob is, when known. */
  kind?: 'index' | 'manifest' | 'config' | 'layer';
}

export type ProgressCallback = (e: TransferEvent) => void;

/** Options shared by pulls and pushes. */
export interface TransferOptions {
  /** From resolveRegistryConfig(); default: resolved from the environment alone. */
  config?: RegistryConfig;
  onProgress?: ProgressCallback;
  /** Blobs transferred at once (default 4). */
  concurrency?: number;
  /** Extra tries after a retryable failure (default 3). */
  retries?: number;
  /** First backoff delay in ms, doubled each retry (default 250). */
  retryDelayMs?: number;
}

export interface PullOptions extends TransferOptions {
  store: ContentStore;
  /** "linux/arm64" or a Platform; default the host's. */
  platform?: string | Platform;
  /** The store ref to write (default: the reference, fully qualified). */
  name?: string;
}

export interface PullResult {
  /** The ref written in the store. */
  name: string;
  /** The digest the reference resolved to (an index's when the image is multi-platform). */
  digest: Digest;
  /** The manifest pulled (the ref's target). */
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  /** Base URL the image came from (a mirror or the registry). */
  source: string;
  /** Bytes downloaded (blobs that were already present are not counted). */
  downloaded: number;
}

function clientFor(ref: ImageReference, endpoint: URL, config: RegistryConfig, opts: TransferOptions): RegistryClient {
  const credentialHost = endpoint.host === registryEndpoint(ref.registry, config).host ? ref.registry : endpoint.host;
  return new RegistryClient({
    registry: ref.registry,
    endpoint,
    credentials: () => readCredentials(credentialHost, config.env),
    // A failing mirror should hand over to the registry quickly.
    retries: credentialHost === ref.registry ? opts.retries : Math.min(opts.retries ?? 3, 1),
    retryDelayMs: opts.retryDelayMs,
    onRetry: (what) => {
      const digest = /sha256:[a-f0-9]{64}/.exec(what)?.[0];
      opts.onProgress?.({ id: digest ?? formatReference(ref), action: 'retrying', current: 0, total: 0 });
    },
  });
}

/** The distinct error for a pull the registry refused for lack of rights (BuildKit's wording). */
function pullError(err: unknown, name: string): unknown {
  if (err instanceof RegistryError) {
    if (err.code === 'NOT_FOUND' && (err.registryCode === undefined || /^(MANIFEST_UNKNOWN|NAME_UNKNOWN|NOT_FOUND)$/.test(err.registryCode))) {
      return new RegistryError('NOT_FOUND', `${name}: not found`, { status: err.status, registryCode: err.registryCode }, { cause: err });
    }
    if (err.code === 'UNAUTHORIZED' && err.status !== undefined && !err.message.startsWith('failed to authorize')) {
      const detail = serverDetail(err);
      return new RegistryError(
        'UNAUTHORIZED',
        `pull access denied, repository does not exist or may require authorization: server message: ${detail}`,
        { status: err.status, registryCode: err.registryCode },
        { cause: err },
      );
    }
  }
  return err;
}

/** Verifies manifest bytes against the digest asked for, or else the registry's header. */
function verifyManifest(bytes: Buffer, want: Digest | undefined, header: string | undefined, what: string): Digest {
  const actual = sha256(bytes);
  if (want !== undefined && actual !== want) throw new DigestMismatchError(what, want, actual);
  if (want === undefined && header !== undefined && isDigest(header) && header !== actual) throw new DigestMismatchError(what, header, actual);
  return actual;
}

async function pullFrom(client: RegistryClient, ref: ImageReference, name: string, opts: PullOptions, platform: Platform): Promise<PullResult> {
  const { store, onProgress } = opts;
  const display = formatReference(ref);
  const repo = ref.repository;
  onProgress?.({ id: display, action: 'resolving', current: 0, total: 0 });
  const top = await client.getManifest(repo, ref.digest ?? (ref.tag as string), display);
  const topDigest = verifyManifest(top.bytes, ref.digest, top.digestHeader, display);
  let parsed = parseManifestOrIndex(top.bytes, undefined, display);
  let manifestBytes = top.bytes;
  let manifestDesc: Descriptor = { mediaType: parsed.mediaType, digest: topDigest, size: top.bytes.length };
  if (parsed.kind === 'index') {
    const chosen = selectManifest(parsed.index, platform, topDigest);
    const child = await client.getManifest(repo, chosen.digest, `${display}@${chosen.digest}`);
    verifyManifest(child.bytes, chosen.digest, undefined, `manifest ${chosen.digest}`);
    if (child.bytes.length !== chosen.size) {
      throw new JettisonError('SIZE_MISMATCH', `manifest ${chosen.digest}: ${child.bytes.length} bytes, the index says ${chosen.size}`);
    }
    parsed = parseManifestOrIndex(child.bytes, chosen.mediaType, chosen.digest);
    if (parsed.kind !== 'manifest') throw new JettisonError('BAD_MANIFEST', `${chosen.digest}: an index inside an index is not supported`);
    manifestBytes = child.bytes;
    manifestDesc = { mediaType: chosen.mediaType, digest: chosen.digest, size: chosen.size };
    if (chosen.platform) manifestDesc.platform = chosen.platform;
  }
  if (parsed.kind !== 'manifest') throw new JettisonError('BAD_MANIFEST', `${display}: not an image manifest`);
  const manifest: Manifest = parsed.manifest;
  if (!isConfigMediaType(manifest.config.mediaType)) {
    throw new JettisonError('BAD_MANIFEST', `${display}: config media type "${manifest.config.mediaType}" is not an image config`);
  }
  onProgress?.({ id: display, action: 'resolved', current: 0, total: 0, kind: parsed.kind });

  const blobs: { desc: Descriptor; kind: 'config' | 'layer' }[] = [
    { desc: manifest.config, kind: 'config' },
    ...manifest.layers.map((desc) => ({ desc, kind: 'layer' as const })),
  ];
  for (const b of blobs) onProgress?.({ id: b.desc.digest, action: 'waiting', current: 0, total: b.desc.size, kind: b.kind });
  let downloaded = 0;
  const seen = new Map<Digest, Promise<void>>();
  const fetchBlob = async ({ desc, kind }: { desc: Descriptor; kind: 'config' | 'layer' }): Promise<void> => {
    if (await store.has(desc.digest)) {
      const size = await store.size(desc.digest);
      if (size !== desc.size) throw new JettisonError('SIZE_MISMATCH', `${desc.digest}: stored blob is ${size} bytes, the manifest says ${desc.size}`);
      onProgress?.({ id: desc.digest, action: 'exists', current: desc.size, total: desc.size, kind });
      return;
    }
    let current = 0;
    onProgress?.({ id: desc.digest, action: 'downloading', current, total: desc.size, kind });
    const chunks = client.blobChunks(repo, desc, (n) => {
      current += n;
      downloaded += n;
      onProgress?.({ id: desc.digest, action: 'downloading', current, total: desc.size, kind });
    });
    await store.ingest(chunks, { digest: desc.digest, size: desc.size, mediaType: desc.mediaType });
    onProgress?.({ id: desc.digest, action: 'done', current: desc.size, total: desc.size, kind });
  };
  await mapLimit(blobs, opts.concurrency ?? 4, (b) => {
    // The same blob twice in one manifest (an empty layer repeated): fetch it once.
    let p = seen.get(b.desc.digest);
    if (!p) seen.set(b.desc.digest, (p = fetchBlob(b)));
    return p;
  });

  const config = await store.readJSON<ImageConfig>(manifest.config.digest);
  const diffIds = config?.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== manifest.layers.length) {
    throw new JettisonError(
      'BAD_MANIFEST',
      `${display}: the config lists ${Array.isArray(diffIds) ? diffIds.length : 'no'} layer diff IDs for ${manifest.layers.length} layers`,
    );
  }
  await store.ingest(Readable.from([manifestBytes]), { digest: manifestDesc.digest, size: manifestDesc.size, mediaType: manifestDesc.mediaType });
  await store.setRef(name, manifestDesc);
  await recordBlobSources(store, blobs.map((b) => b.desc.digest), ref.registry, repo);
  return {
    name,
    digest: topDigest,
    manifest: manifestDesc,
    config: manifest.config,
    layers: manifest.layers,
    source: client.endpoint.href.replace(/\/$/, ''),
    downloaded,
  };
}

/**
 * Pulls an image into the store and points a ref at it. `reference` is anything `docker pull`
 * accepts ("busybox", "host:5000/x:1", "x@sha256:…").
 */
export async function pullImage(reference: string | ImageReference, opts: PullOptions): Promise<PullResult> {
  const ref = typeof reference === 'string' ? parseReference(reference) : reference;
  const config = opts.config ?? (await resolveRegistryConfig({}, process.env));
  const platform = opts.platform === undefined ? hostPlatform() : typeof opts.platform === 'string' ? parsePlatform(opts.platform) : opts.platform;
  const name = opts.name ?? formatReference(ref);
  const endpoints = [...(config.mirrors[ref.registry] ?? []).map((m) => mirrorEndpoint(m, config)), registryEndpoint(ref.registry, config)];
  let lastError: unknown;
  for (const [i, endpoint] of endpoints.entries()) {
    const client = clientFor(ref, endpoint, config, opts);
    try {
      return await pullFrom(client, ref, name, opts, platform);
    } catch (err) {
      lastError = err;
      // A mirror that fails (down, missing the image, wrong content) is skipped; the registry itself is final.
      if (i === endpoints.length - 1) break;
      opts.onProgress?.({ id: formatReference(ref), action: 'retrying', current: 0, total: 0 });
    }
  }
  throw pullError(lastError, formatReference(ref));
}
