/**
 * Images in the store: resolve a user-typed name to its ref, read the image (an index resolved to a
 * platform, default the host's), and write a new single-platform image (config + manifest + ref).
 */
import { JettisonError } from '../errors.ts';
import { validateImageConfig } from '../image/config.ts';
import { isDigest } from '../image/digest.ts';
import { createManifest, isIndexMediaType, parseManifestOrIndex } from '../image/manifest.ts';
import { hostPlatform, selectManifest } from '../image/platform.ts';
import { normalizeReference, parseReference } from '../image/reference.ts';
import { MediaType, type Descriptor, type Digest, type ImageConfig, type Index, type Manifest, type Platform } from '../image/types.ts';
import type { ContentStore, RefRecord } from './types.ts';

export interface StoredImage {
  /** The ref it was found by, when found by name. */
  name?: string;
  /** What the ref points at: a manifest or an index. */
  target: Descriptor;
  /** The index, when the target is one. */
  index?: Index;
  manifestDescriptor: Descriptor;
  manifest: Manifest;
  configDescriptor: Descriptor;
  config: ImageConfig;
}

/**
 * Finds the ref a user means by `nameOrId`: a reference ("busybox" → docker.io/library/busybox:latest),
 * or a (prefix of an) image ID — the config digest, as `docker images` shows it — or a manifest digest.
 * Throws NOT_FOUND ("No such image: X", Docker's wording).
 */
export async function resolveImageRef(store: ContentStore, nameOrId: string): Promise<RefRecord> {
  let normalized: string | undefined;
  try {
    normalized = normalizeReference(nameOrId);
  } catch {
    /* maybe an ID */
  }
  if (normalized) {
    const rec = await store.getRef(normalized);
    if (rec) return rec;
  }
  const idPrefix = /^(sha256:)?([a-f0-9]{4,64})$/.exec(nameOrId)?.[2];
  if (idPrefix) {
    const matches: RefRecord[] = [];
    for (const rec of await store.listRefs()) {
      if (rec.target.digest.slice(7).startsWith(idPrefix)) {
        matches.push(rec);
        continue;
      }
      const cfg = await configDigestOf(store, rec.target).catch(() => undefined);
      if (cfg && cfg.slice(7).startsWith(idPrefix)) matches.push(rec);
    }
    const targets = new Set(matches.map((m) => m.target.digest));
    if (targets.size > 1) throw new JettisonError('AMBIGUOUS', `image ID prefix ${nameOrId} is ambiguous`);
    if (matches.length > 0) return matches[0];
  }
  throw new JettisonError('NOT_FOUND', `No such image: ${nameOrId}`);
}

async function configDigestOf(store: ContentStore, target: Descriptor): Promise<Digest> {
  const img = await readImageByDescriptor(store, target);
  return img.configDescriptor.digest;
}

/** Reads the image a descriptor (manifest or index) names, resolving an index to `platform`. */
export async function readImageByDescriptor(store: ContentStore, target: Descriptor, platform?: Platform): Promise<StoredImage> {
  const bytes = await store.readBytes(target.digest);
  const parsed = parseManifestOrIndex(bytes, target.mediaType, target.digest);
  let index: Index | undefined;
  let manifestDescriptor = target;
  let manifest: Manifest;
  if (parsed.kind === 'index') {
    index = parsed.index;
    manifestDescriptor = selectManifest(index, platform ?? hostPlatform(), target.digest);
    const inner = parseManifestOrIndex(await store.readBytes(manifestDescriptor.digest), manifestDescriptor.mediaType, manifestDescriptor.digest);
    if (inner.kind !== 'manifest') throw new JettisonError('BAD_MANIFEST', `${manifestDescriptor.digest}: nested indexes are not supported`);
    manifest = inner.manifest;
  } else {
    manifest = parsed.manifest;
  }
  const config = validateImageConfig(await store.readJSON(manifest.config.digest), manifest.config.digest);
  const img: StoredImage = { target, manifestDescriptor, manifest, configDescriptor: manifest.config, config };
  if (index) img.index = index;
  return img;
}

/** Reads an image by name or ID (see resolveImageRef). */
export async function readImage(store: ContentStore, nameOrId: string, platform?: Platform): Promise<StoredImage> {
  const rec = await resolveImageRef(store, nameOrId);
  const img = await readImageByDescriptor(store, rec.target, platform);
  img.name = rec.name;
  return img;
}

/** Every digest an image's target reaches that is present in the store (index, manifests, configs, layers). */
export async function imageBlobs(store: ContentStore, target: Descriptor): Promise<Descriptor[]> {
  const out: Descriptor[] = [target];
  if (isIndexMediaType(target.mediaType) || target.mediaType === MediaType.OciManifest || target.mediaType === MediaType.DockerManifest) {
    const parsed = parseManifestOrIndex(await store.readBytes(target.digest), target.mediaType, target.digest);
    if (parsed.kind === 'index') {
      for (const m of parsed.index.manifests) if (await store.has(m.digest)) out.push(...(await imageBlobs(store, m)));
    } else {
      out.push(parsed.manifest.config, ...parsed.manifest.layers);
    }
  }
  return out;
}

/** Total stored size of an image: its target and everything it reaches (each blob once). */
export async function imageSize(store: ContentStore, target: Descriptor): Promise<number> {
  const seen = new Map<string, number>();
  for (const d of await imageBlobs(store, target)) {
    if (seen.has(d.digest)) continue;
    seen.set(d.digest, (await store.size(d.digest)) ?? 0);
  }
  let n = 0;
  for (const v of seen.values()) n += v;
  return n;
}

/**
 * Stores `config` and an OCI manifest over `layers` (already in the store) and, when `name` is
 * given, points the normalised ref at it. Returns the manifest descriptor.
 */
export async function writeImage(
  store: ContentStore,
  config: ImageConfig,
  layers: Descriptor[],
  name?: string,
): Promise<{ manifest: Descriptor; config: Descriptor; name?: string }> {
  const configDesc = await store.putJSON(config, MediaType.OciConfig);
  const manifest = createManifest(configDesc, layers);
  const manifestDesc = await store.putJSON(manifest, MediaType.OciManifest);
  const out: { manifest: Descriptor; config: Descriptor; name?: string } = { manifest: manifestDesc, config: configDesc };
  if (name !== undefined) {
    out.name = normalizeReference(name);
    await store.setRef(out.name, manifestDesc);
  }
  return out;
}

/** True when `s` names a ref rather than an ID. */
export function looksLikeReference(s: string): boolean {
  if (isDigest(s) || /^[a-f0-9]{64}$/.test(s)) return false;
  try {
    parseReference(s);
    return true;
  } catch {
    return false;
  }
}
