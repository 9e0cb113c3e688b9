/**
 * `jettison load`: reads a docker archive or an OCI layout (a directory, or a tar of either,
 * optionally gzip/zstd compressed) into the store, verifying every digest.
 *
 * A tar is read in one streaming pass: `blobs/<alg>/<hex>` files are ingested with their names as
 * the expected digests; other files (classic `<id>/layer.tar`, `<hex>.json`) are ingested and
 * remembered by path; `manifest.json`, `index.json`, `oci-layout` and `repositories` are kept in
 * memory (bounded). Then index.json (an OCI layout, also written by Docker 25+) or else
 * manifest.json decides the images. Blobs ingested for nothing are left to `jettison prune`.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { JettisonError } from '../errors.ts';
import { createDecompressor } from '../image/compression.ts';
import { isDigest } from '../image/digest.ts';
import { readTar } from '../image/tar/reader.ts';
import type { Descriptor } from '../image/types.ts';
import type { ContentStore } from '../store/index.ts';
import { peek, sniffCompression, unsupportedCompression } from '../util/magic.ts';
import { parseDockerManifest, resolveDockerManifest } from './docker-archive.ts';
import { ingestTree, loadOciLayoutDir, parseLayoutIndex, tagIndexEntries, type LoadedImage } from './oci-layout.ts';

const SMALL_FILES = new Set(['manifest.json', 'index.json', 'oci-layout', 'repositories']);
const MAX_SMALL = 16 * 1024 * 1024;
const MAX_LINK_HOPS = 16;

/** Cleans an archive path; undefined for paths that leave the archive root. */
function cleanPath(p: string): string | undefined {
  const n = posix.normalize(p.replace(/^\/+/, ''));
  if (n === '..' || n.startsWith('../') || n === '.' || n === '') return undefined;
  return n.replace(/\/$/, '');
}

async function collect(body: AsyncIterable<Uint8Array>, limit: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    n += c.length;
    if (n > limit) throw new JettisonError('BAD_ARCHIVE', `${what}: larger than ${limit} bytes`);
    parts.push(Buffer.from(c));
  }
  return Buffer.concat(parts);
}

/** Loads a tar stream (uncompressed, gzip or zstd) of a docker archive or an OCI layout. */
export async function loadArchiveStream(store: ContentStore, source: AsyncIterable<Uint8Array>, what = 'archive'): Promise<LoadedImage[]> {
  const { head, stream } = await peek(source, 6);
  if (head.length === 0) throw new JettisonError('BAD_ARCHIVE', `${what}: empty input`);
  const magic = sniffCompression(head);
  if (magic === 'bzip2' || magic === 'xz') throw unsupportedCompression(magic, what);
  const tarStream = magic === 'none' ? stream : stream.pipe(createDecompressor(magic));
  if (magic !== 'none') stream.on('error', (e) => tarStream.destroy(e));

  const files = new Map<string, Descriptor>();
  const links = new Map<string, string>();
  const small = new Map<string, Buffer>();
  for await (const entry of readTar(tarStream)) {
    const path = cleanPath(entry.header.path);
    if (path === undefined) throw new JettisonError('PATH_ESCAPE', `${what}: entry "${entry.header.path}" leaves the archive`);
    if (entry.header.type === 'symlink' || entry.header.type === 'hardlink') {
      const target = entry.header.type === 'symlink' ? posix.join(posix.dirname(path), entry.header.linkname) : entry.header.linkname;
      const t = cleanPath(target);
      if (t !== undefined) links.set(path, t);
      continue;
    }
    if (entry.header.type !== 'file') continue;
    if (SMALL_FILES.has(path)) {
      small.set(path, await collect(entry.body, MAX_SMALL, `${what}: ${path}`));
      continue;
    }
    const base = posix.basename(path);
    if (base === 'VERSION' || base === 'json') {
      for await (const _ of entry.body); // classic docker v1 metadata: not needed
      continue;
    }
    const m = /^blobs\/([a-z0-9]+)\/([a-f0-9]+)$/.exec(path);
    if (m) {
      const digest = `${m[1]}:${m[2]}`;
      if (m[1] !== 'sha256' || !isDigest(digest)) {
        throw new JettisonError('UNSUPPORTED', `${what}: ${path}: only sha256 blobs are supported`);
      }
      files.set(path, await store.ingest(entry.body, { digest, size: entry.header.size }));
    } else {
      files.set(path, await store.ingest(entry.body, { size: entry.header.size }));
    }
  }

  const fileDigest = (p: string): Descriptor | undefined => {
    let cur = cleanPath(p);
    for (let i = 0; cur !== undefined && i < MAX_LINK_HOPS; i++) {
      const f = files.get(cur);
      if (f) return f;
      cur = links.get(cur);
    }
    return undefined;
  };

  const indexText = small.get('index.json');
  const manifestText = small.get('manifest.json');
  if (indexText && (small.has('oci-layout') || !manifestText)) {
    const index = parseLayoutIndex(indexText, `${what}: index.json`);
    // Blobs were ingested (verified) as they streamed past: what is not in the store now is missing.
    const openBlob = async () => undefined;
    let complete = true;
    for (const m of index.manifests) {
      try {
        await ingestTree(store, m, openBlob, false, `${what}: index.json → ${m.digest}`);
      } catch (err) {
        if (!manifestText) throw err;
        complete = false;
      }
    }
    if (complete) return tagIndexEntries(store, index);
  }
  if (manifestText) {
    const out: LoadedImage[] = [];
    for (const entry of parseDockerManifest(manifestText)) out.push(await resolveDockerManifest(store, entry, fileDigest));
    return out;
  }
  throw new JettisonError('BAD_ARCHIVE', `${what}: neither a docker archive (manifest.json) nor an OCI layout (index.json)`);
}

/** Loads a file (tar, possibly compressed) or an OCI layout directory. */
export async function loadArchive(store: ContentStore, path: string): Promise<LoadedImage[]> {
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new JettisonError('NOT_FOUND', `open ${path}: no such file or directory`);
  if (st.isDirectory()) return loadOciLayoutDir(store, path);
  return loadArchiveStream(store, createReadStream(path), path);
}
