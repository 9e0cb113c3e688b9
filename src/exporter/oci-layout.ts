/**
 * OCI image layouts (image-spec "image-layout"): `oci-layout`, `index.json`, `blobs/sha256/<hex>`.
 * Writing: as a directory (merged into an existing layout: entries with the same name are replaced)
 * or as a tar stream. Blobs are copied as stored (compressed layers stay compressed). Each image's
 * index.json entry carries `org.opencontainers.image.ref.name` (the tag, as BuildKit and skopeo
 * use it) and `io.containerd.image.name` (the full name).
 * Reading a layout directory ingests every blob the index reaches, each verified against its
 * digest and size (an index's manifests for other platforms may be absent).
 */
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { JettisonError } from '../errors.ts';
import { assertDigest, digestHex } from '../image/digest.ts';
import { ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, createIndex, isIndexMediaType, isManifestMediaType, parseManifestOrIndex } from '../image/manifest.ts';
import { normalizeReference, parseReference } from '../image/reference.ts';
import type { Descriptor, Index } from '../image/types.ts';
import { imageBlobs, type ContentStore } from '../store/index.ts';
import { ArchiveTarWriter } from './archive-tar.ts';

export interface ImageToExport {
  /** Fully qualified name ("docker.io/library/busybox:latest"); absent for an untagged image. */
  name?: string;
  /** The manifest or index. */
  target: Descriptor;
}

export interface LoadedImage {
  /** Fully qualified names the image was tagged with in the store. */
  names: string[];
  target: Descriptor;
}

export const OCI_LAYOUT_FILE = 'oci-layout';
export const OCI_LAYOUT_CONTENT = `${JSON.stringify({ imageLayoutVersion: '1.0.0' })}`;
const MAX_INDEX = 16 * 1024 * 1024;

/** The index.json entry for an image. */
export function indexEntry(img: ImageToExport): Descriptor {
  const d: Descriptor = { mediaType: img.target.mediaType, digest: img.target.digest, size: img.target.size };
  if (img.target.platform) d.platform = img.target.platform;
  if (img.name) {
    const ref = parseReference(img.name);
    d.annotations = { [ANNOTATION_IMAGE_NAME]: normalizeReference(img.name) };
    if (ref.tag) d.annotations[ANNOTATION_REF_NAME] = ref.tag;
  }
  return d;
}

/** Every blob the images reach, each once, in a stable order. */
async function blobsOf(store: ContentStore, images: ImageToExport[]): Promise<Descriptor[]> {
  const seen = new Map<string, Descriptor>();
  for (const img of images) for (const d of await imageBlobs(store, img.target)) if (!seen.has(d.digest)) seen.set(d.digest, d);
  return [...seen.values()];
}

/** Writes the images as an OCI layout directory (created, or merged into an existing layout). */
export async function writeOciLayoutDir(store: ContentStore, images: ImageToExport[], dir: string): Promise<Index> {
  const blobDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });
  let index = createIndex([]);
  const existing = await readFile(join(dir, 'index.json'), 'utf8').catch(() => undefined);
  if (existing !== undefined) {
    const parsed = parseManifestOrIndex(existing, undefined, join(dir, 'index.json'));
    if (parsed.kind !== 'index') throw new JettisonError('BAD_LAYOUT', `${dir}/index.json is not an image index`);
    index = parsed.index;
  }
  for (const d of await blobsOf(store, images)) {
    const dest = join(blobDir, digestHex(d.digest));
    const have = await stat(dest).catch(() => undefined);
    if (have?.size === d.size) continue;
    const tmp = `${dest}.tmp-${process.pid}`;
    await copyFile(await store.pathOf(d.digest), tmp);
    await rename(tmp, dest);
  }
  const entries = images.map(indexEntry);
  const newNames = new Set(entries.map((e) => e.annotations?.[ANNOTATION_IMAGE_NAME]).filter(Boolean));
  index.manifests = [
    ...index.manifests.filter((m) => !newNames.has(m.annotations?.[ANNOTATION_IMAGE_NAME])),
    ...entries,
  ];
  await writeFile(join(dir, OCI_LAYOUT_FILE), OCI_LAYOUT_CONTENT);
  const tmpIndex = join(dir, `index.json.tmp-${process.pid}`);
  await writeFile(tmpIndex, JSON.stringify(index));
  await rename(tmpIndex, join(dir, 'index.json'));
  return index;
}

/** Streams the images as an OCI layout tar into `out`. */
export async function writeOciLayoutTar(store: ContentStore, images: ImageToExport[], out: Writable, opts: { end?: boolean } = {}): Promise<Index> {
  const tar = new ArchiveTarWriter(out);
  await tar.addBytes(OCI_LAYOUT_FILE, OCI_LAYOUT_CONTENT);
  for (const d of await blobsOf(store, images)) {
    await tar.addFile(`blobs/sha256/${digestHex(d.digest)}`, d.size, store.open(d.digest));
  }
  const index = createIndex(images.map(indexEntry));
  await tar.addBytes('index.json', JSON.stringify(index));
  await tar.finish(opts.end ?? true);
  return index;
}

/**
 * The names an index.json entry gives its image: the full name annotation, or a ref.name that is a
 * full reference. When the full name's tag and a bare-tag ref.name disagree (tools such as umoci
 * copy the annotations of the image they derive from and set only ref.name), ref.name wins.
 */
export function namesFromAnnotations(annotations: Record<string, string> | undefined): string[] {
  const full = annotations?.[ANNOTATION_IMAGE_NAME];
  const refName = annotations?.[ANNOTATION_REF_NAME];
  const bareTag = refName !== undefined && !/[/:@]/.test(refName) ? refName : undefined;
  const candidates: string[] = [];
  if (full) {
    try {
      const ref = parseReference(full);
      if (bareTag !== undefined && ref.digest === undefined && ref.tag !== bareTag) {
        candidates.push(`${ref.registry}/${ref.repository}:${bareTag}`);
      } else {
        candidates.push(full);
      }
    } catch {
      /* not a reference: ignored */
    }
  }
  if (refName !== undefined && bareTag === undefined) candidates.push(refName);
  const out = new Set<string>();
  for (const c of candidates) {
    try {
      out.add(normalizeReference(c));
    } catch {
      /* not a reference: ignored */
    }
  }
  return [...out];
}

/** Reads and checks index.json text. */
export function parseLayoutIndex(text: string | Uint8Array, where: string): Index {
  const parsed = parseManifestOrIndex(text, undefined, where);
  if (parsed.kind !== 'index') throw new JettisonError('BAD_LAYOUT', `${where}: not an image index`);
  return parsed.index;
}

/**
 * Ingests into the store what `desc` reaches, reading blobs through `openBlob` (which returns
 * undefined for an absent blob). Every blob is verified against its descriptor as it enters.
 */
export async function ingestTree(
  store: ContentStore,
  desc: Descriptor,
  openBlob: (d: Descriptor) => Promise<AsyncIterable<Uint8Array> | undefined>,
  optional = false,
  where = desc.digest,
): Promise<boolean> {
  assertDigest(desc.digest, `${where} digest`);
  if (!(await store.has(desc.digest))) {
    const src = await openBlob(desc);
    if (!src) {
      if (optional) return false;
      throw new JettisonError('NOT_FOUND', `${where}: blob ${desc.digest} is missing from the archive`);
    }
    await store.ingest(src, { digest: desc.digest, size: desc.size, mediaType: desc.mediaType });
  } else if ((await store.size(desc.digest)) !== desc.size) {
    throw new JettisonError('SIZE_MISMATCH', `${where}: blob ${desc.digest} is ${await store.size(desc.digest)} bytes, descriptor says ${desc.size}`);
  }
  if (isIndexMediaType(desc.mediaType) || isManifestMediaType(desc.mediaType)) {
    const parsed = parseManifestOrIndex(await store.readBytes(desc.digest), desc.mediaType, desc.digest);
    if (parsed.kind === 'index') {
      let any = false;
      for (const m of parsed.index.manifests) any = (await ingestTree(store, m, openBlob, true, `${where} → ${m.digest}`)) || any;
      if (!any && parsed.index.manifests.length > 0) {
        throw new JettisonError('NOT_FOUND', `${where}: none of the index's manifests is in the archive`);
      }
    } else {
      await ingestTree(store, parsed.manifest.config, openBlob, false, `${where} → config`);
      for (const [i, l] of parsed.manifest.layers.entries()) await ingestTree(store, l, openBlob, false, `${where} → layer ${i}`);
    }
  }
  return true;
}

/** Tags what index.json names and returns the images. */
export async function tagIndexEntries(store: ContentStore, index: Index): Promise<LoadedImage[]> {
  const out: LoadedImage[] = [];
  for (const m of index.manifests) {
    const target: Descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.size };
    if (m.platform) target.platform = m.platform;
    const names = namesFromAnnotations(m.annotations);
    for (const n of names) await store.setRef(n, target);
    out.push({ names, target });
  }
  return out;
}

/** Loads an OCI layout directory into the store. */
export async function loadOciLayoutDir(store: ContentStore, dir: string): Promise<LoadedImage[]> {
  const layout = await readFile(join(dir, OCI_LAYOUT_FILE), 'utf8').catch(() => undefined);
  if (layout === undefined) throw new JettisonError('BAD_LAYOUT', `${dir}: not an OCI layout (no ${OCI_LAYOUT_FILE} file)`);
  const indexPath = join(dir, 'index.json');
  const st = await stat(indexPath).catch(() => undefined);
  if (!st) throw new JettisonError('BAD_LAYOUT', `${dir}: not an OCI layout (no index.json)`);
  if (st.size > MAX_INDEX) throw new JettisonError('BAD_LAYOUT', `${indexPath}: too large`);
  const index = parseLayoutIndex(await readFile(indexPath), indexPath);
  const openBlob = async (d: Descriptor) => {
    const [alg, hex] = d.digest.split(':');
    const p = join(dir, 'blobs', alg, hex);
    const s = await stat(p).catch(() => undefined);
    return s?.isFile() ? createReadStream(p) : undefined;
  };
  for (const m of index.manifests) await ingestTree(store, m, openBlob, false, `${indexPath} → ${m.digest}`);
  return tagIndexEntries(store, index);
}
