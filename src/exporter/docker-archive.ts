/**
 * Docker archives, as `docker save` (Docker 25+) writes them and `docker load` / `podman load` /
 * skopeo read them: `manifest.json` ([{ Config, RepoTags, Layers }]), `repositories`, the config as
 * `blobs/sha256/<config hex>` and each layer *uncompressed* as `blobs/sha256/<diffID hex>`.
 * Layers stored compressed are decompressed once into a temp file in the store (to learn the size
 * a tar header needs, and to check the diffID) and streamed from there: never held in memory.
 * Reading: resolveDockerManifest turns a loaded manifest.json entry into an OCI image in the store,
 * checking every layer against the config's diff_ids.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { DigestMismatchError, JettisonError } from '../errors.ts';
import { validateImageConfig } from '../image/config.ts';
import { DigestCounter, digestHex } from '../image/digest.ts';
import { compressionOf, createDecompressor, layerMediaType } from '../image/compression.ts';
import { diffIDOf } from '../image/layer.ts';
import { createManifest } from '../image/manifest.ts';
import { familiarName, familiarRepository, normalizeReference, parseReference } from '../image/reference.ts';
import { MediaType, type Descriptor, type Digest, type ImageConfig, type Platform } from '../image/types.ts';
import { readImageByDescriptor, type ContentStore } from '../store/index.ts';
import { unlinkIfExists } from '../util/fs.ts';
import { sniffCompression, unsupportedCompression } from '../util/magic.ts';
import { newOwnerToken } from '../util/owner.ts';
import { ArchiveTarWriter } from './archive-tar.ts';
import type { ImageToExport, LoadedImage } from './oci-layout.ts';

export interface DockerManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}


/** The compression of a layer media type, including Docker's uncompressed type (compressionOf). */
export const layerCompression = compressionOf;

/** A temp file name in the store's tmp dir (owner-named: removed if this process dies). */
function spoolPath(store: ContentStore): string {
  return join(store.root, 'tmp', `${newOwnerToken()}.spool`);
}

/**
 * Decompresses a stored layer into a temp file, checking its diffID; returns the path and size.
 * The caller removes the file.
 */
async function spoolLayer(store: ContentStore, layer: Descriptor, diffID: Digest): Promise<{ path: string; size: number }> {
  const path = spoolPath(store);
  const counter = new DigestCounter();
  const fh = await open(path, 'wx', 0o600);
  try {
    const out = fh.createWriteStream();
    await pipeline(store.open(layer.digest), createDecompressor(layerCompression(layer.mediaType)), async function* (src) {
      for await (const c of src) {
        counter.update(c as Buffer);
        yield c;
      }
    }, out);
  } catch (err) {
    await fh.close().catch(() => {});
    await unlinkIfExists(path);
    throw err;
  }
  if (counter.digest() !== diffID) {
    await unlinkIfExists(path);
    throw new DigestMismatchError(`layer ${layer.digest} (uncompressed)`, diffID, counter.digest());
  }
  return { path, size: counter.size };
}

/** "busybox:latest" for RepoTags (Docker's familiar form); digests-only names are left out. */
function repoTag(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const ref = parseReference(name);
  if (ref.tag === undefined) return undefined;
  return familiarName({ registry: ref.registry, repository: ref.repository, tag: ref.tag });
}

/**
 * Streams a docker archive of the images into `out`. An index is resolved to `platform` (default:
 * the host's). Resolves with the manifest.json entries written.
 */
export async function writeDockerArchive(
  store: ContentStore,
  images: ImageToExport[],
  out: Writable,
  opts: { platform?: Platform; end?: boolean } = {},
): Promise<DockerManifestEntry[]> {
  const tar = new ArchiveTarWriter(out);
  const entries: DockerManifestEntry[] = [];
  const byConfig = new Map<string, DockerManifestEntry>();
  const repositories: Record<string, Record<string, string>> = {};
  for (const img of images) {
    const stored = await readImageByDescriptor(store, img.target, opts.platform);
    const config = stored.configDescriptor;
    const tag = repoTag(img.name);
    const existing = byConfig.get(config.digest);
    if (existing) {
      if (tag && !existing.RepoTags!.includes(tag)) existing.RepoTags!.push(tag);
      continue;
    }
    const configPath = `blobs/sha256/${digestHex(config.digest)}`;
    if (!tar.files.has(configPath)) await tar.addFile(configPath, config.size, store.open(config.digest));
    const diffIDs = stored.config.rootfs.diff_ids;
    if (diffIDs.length !== stored.manifest.layers.length) {
      throw new JettisonError('BAD_CONFIG', `${config.digest}: ${diffIDs.length} diff_ids for ${stored.manifest.layers.length} layers`);
    }
    const layers: string[] = [];
    for (const [i, layer] of stored.manifest.layers.entries()) {
      const layerPath = `blobs/sha256/${digestHex(diffIDs[i])}`;
      layers.push(layerPath);
      if (tar.files.has(layerPath)) continue;
      if (layerCompression(layer.mediaType) === 'none') {
        if (layer.digest !== diffIDs[i]) throw new DigestMismatchError(`layer ${i} of ${config.digest}`, diffIDs[i], layer.digest);
        await tar.addFile(layerPath, layer.size, store.open(layer.digest));
        continue;
      }
      const spooled = await spoolLayer(store, layer, diffIDs[i]);
      try {
        await tar.addFile(layerPath, spooled.size, createReadStream(spooled.path));
      } finally {
        await unlinkIfExists(spooled.path);
      }
    }
    const entry: DockerManifestEntry = { Config: configPath, RepoTags: tag ? [tag] : null, Layers: layers };
    entries.push(entry);
    byConfig.set(config.digest, entry);
    if (tag && layers.length > 0) {
      const ref = parseReference(img.name!);
      const repo = familiarRepository(ref);
      (repositories[repo] ??= {})[ref.tag!] = digestHex(diffIDs[diffIDs.length - 1]);
    }
  }
  for (const e of entries) if (e.RepoTags && e.RepoTags.length === 0) e.RepoTags = null;
  await tar.addBytes('manifest.json', JSON.stringify(entries));
  if (Object.keys(repositories).length > 0) await tar.addBytes('repositories', JSON.stringify(repositories));
  await tar.finish(opts.end ?? true);
  return entries;
}

/** Parses manifest.json. */
export function parseDockerManifest(text: string | Uint8Array): DockerManifestEntry[] {
  let v: unknown;
  try {
    v = JSON.parse(typeof text === 'string' ? text : Buffer.from(text).toString('utf8'));
  } catch (err) {
    throw new JettisonError('BAD_ARCHIVE', `manifest.json: not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(v)) throw new JettisonError('BAD_ARCHIVE', 'manifest.json: expected a list of images');
  for (const [i, e] of v.entries()) {
    const x = e as DockerManifestEntry;
    if (!x || typeof x.Config !== 'string' || !Array.isArray(x.Layers) || x.Layers.some((l) => typeof l !== 'string')) {
      throw new JettisonError('BAD_ARCHIVE', `manifest.json: entry ${i} needs Config and Layers`);
    }
    if (x.RepoTags != null && (!Array.isArray(x.RepoTags) || x.RepoTags.some((t) => typeof t !== 'string'))) {
      throw new JettisonError('BAD_ARCHIVE', `manifest.json: entry ${i} has invalid RepoTags`);
    }
  }
  return v as DockerManifestEntry[];
}

/** The first bytes of a stored blob. */
async function headOf(store: ContentStore, digest: Digest, n: number): Promise<Buffer> {
  const fh = await open(await store.pathOf(digest), 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Builds an OCI image in the store from a manifest.json entry whose files are already ingested
 * (`fileDigest` maps an archive path to its blob). Every layer is checked against the config's
 * diff_ids. Tags the image with its RepoTags.
 */
export async function resolveDockerManifest(
  store: ContentStore,
  entry: DockerManifestEntry,
  fileDigest: (path: string) => Descriptor | undefined,
): Promise<LoadedImage> {
  const cfgFile = fileDigest(entry.Config);
  if (!cfgFile) throw new JettisonError('NOT_FOUND', `manifest.json: config ${entry.Config} is missing from the archive`);
  const config: ImageConfig = validateImageConfig(await store.readJSON(cfgFile.digest), entry.Config);
  const diffIDs = config.rootfs.diff_ids;
  if (diffIDs.length !== entry.Layers.length) {
    throw new JettisonError('BAD_ARCHIVE', `${entry.Config}: ${diffIDs.length} diff_ids for ${entry.Layers.length} layers`);
  }
  const layers: Descriptor[] = [];
  for (const [i, p] of entry.Layers.entries()) {
    const file = fileDigest(p);
    if (!file) throw new JettisonError('NOT_FOUND', `manifest.json: layer ${p} is missing from the archive`);
    const magic = sniffCompression(await headOf(store, file.digest, 6));
    if (magic === 'bzip2' || magic === 'xz') throw unsupportedCompression(magic, p);
    // An uncompressed layer's blob digest is its diffID: no need to read it again.
    const diffID = magic === 'none' ? file.digest : await diffIDOf(store.open(file.digest), magic);
    if (diffID !== diffIDs[i]) throw new DigestMismatchError(`layer ${p}`, diffIDs[i], diffID);
    layers.push({ mediaType: layerMediaType(magic), digest: file.digest, size: file.size });
  }
  const configDesc: Descriptor = { mediaType: MediaType.OciConfig, digest: cfgFile.digest, size: cfgFile.size };
  const manifest = await store.putJSON(createManifest(configDesc, layers), MediaType.OciManifest);
  const names: string[] = [];
  for (const t of entry.RepoTags ?? []) {
    const name = normalizeReference(t);
    await store.setRef(name, manifest);
    names.push(name);
  }
  return { names, target: manifest };
}

export async function isFile(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isFile() ?? false;
}
