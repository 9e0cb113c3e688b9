/**
 * Artifact content: the local artifact cache (`<root>/cekit/artifacts/<sha256>` plus an index of the
 * md5, sha1, sha256 and sha512 of every file, filled by `jettison cekit cache add` and by downloads),
 * streaming digests, checksum verification, and fetching artifacts (path, url, git, plain) into a
 * build context. Content is streamed, never held in memory; a file whose digest does not match is
 * never used.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { DigestMismatchError, JettisonError } from '../../errors.ts';
import type { Artifact, Checksums } from './descriptor.ts';
import { where } from './descriptor.ts';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm } from './schema.ts';

export type Digests = Record<ChecksumAlgorithm, string>;

export interface CacheEntry extends Digests {
  size: number;
  /** File names it was added under. */
  names: string[];
  added: string;
}

/** Copies a stream to a file while computing all four digests. */
export async function streamToFile(source: Readable, file: string): Promise<{ digests: Digests; size: number }> {
  const hashes = Object.fromEntries(CHECKSUM_ALGORITHMS.map((a) => [a, createHash(a)])) as Record<ChecksumAlgorithm, ReturnType<typeof createHash>>;
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      for (const h of Object.values(hashes)) h.update(chunk);
      cb(null, chunk);
    },
  });
  await pipeline(source, tap, createWriteStream(file, { mode: 0o644 }));
  const digests = Object.fromEntries(CHECKSUM_ALGORITHMS.map((a) => [a, hashes[a].digest('hex')])) as Digests;
  return { digests, size };
}

/** All four digests of a file, streamed. */
export async function digestFile(file: string): Promise<Digests> {
  const hashes = CHECKSUM_ALGORITHMS.map((a) => createHash(a));
  for await (const chunk of createReadStream(file)) for (const h of hashes) h.update(chunk as Buffer);
  return Object.fromEntries(CHECKSUM_ALGORITHMS.map((a, i) => [a, hashes[i]!.digest('hex')])) as Digests;
}

/** Throws DigestMismatchError naming the artifact when any given checksum differs. */
export function verifyChecksums(what: string, expected: Checksums, actual: Digests): void {
  for (const a of CHECKSUM_ALGORITHMS) {
    const want = expected[a];
    if (want !== undefined && want !== actual[a]) throw new DigestMismatchError(`${what} (${a})`, want, actual[a]);
  }
}

function hasChecksum(c: Checksums): boolean {
  return CHECKSUM_ALGORITHMS.some((a) => c[a] !== undefined);
}

/** The artifact cache under the jettison root. */
export class ArtifactCache {
  readonly dir: string;
  constructor(root: string) {
    this.dir = join(root, 'cekit', 'artifacts');
  }

  private get indexFile(): string {
    return join(this.dir, 'index.json');
  }

  entries(): CacheEntry[] {
    if (!existsSync(this.indexFile)) return [];
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(this.indexFile, 'utf8'));
    } catch (err) {
      throw new JettisonError('CEKIT_CACHE', `artifact cache index ${this.indexFile} is corrupt: ${(err as Error).message}`);
    }
    if (!Array.isArray(data)) throw new JettisonError('CEKIT_CACHE', `artifact cache index ${this.indexFile} is corrupt`);
    return (data as CacheEntry[]).filter((e) => typeof e?.sha256 === 'string' && /^[0-9a-f]{64}$/.test(e.sha256));
  }

  private writeIndex(entries: CacheEntry[]): void {
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${this.indexFile}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(tmp, `${JSON.stringify(entries, null, 2)}\n`);
    renameSync(tmp, this.indexFile);
  }

  pathOf(entry: CacheEntry): string {
    return join(this.dir, entry.sha256);
  }

  /** The cached file matching the given checksums (every given one must match), if present. */
  find(checksums: Checksums): CacheEntry | undefined {
    if (!hasChecksum(checksums)) return undefined;
    return this.entries().find(
      (e) => CHECKSUM_ALGORITHMS.every((a) => checksums[a] === undefined || checksums[a] === e[a]) && existsSync(this.pathOf(e)),
    );
  }

  /** Adds content (streamed into the cache, then renamed to its sha256). */
  async addStream(source: Readable, name: string): Promise<CacheEntry> {
    mkdirSync(this.dir, { recursive: true });
    const tmp = join(this.dir, `.incoming-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      const { digests, size } = await streamToFile(source, tmp);
      return this.commit(tmp, digests, size, name);
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  /** Adds a file that was already written (and digested) inside the cache directory. */
  commit(tmp: string, digests: Digests, size: number, name: string): CacheEntry {
    const final = join(this.dir, digests.sha256);
    renameSync(tmp, final);
    const entries = this.entries();
    let entry = entries.find((e) => e.sha256 === digests.sha256);
    if (entry) {
      if (!entry.names.includes(name)) entry.names.push(name);
    } else {
      entry = { ...digests, size, names: [name], added: new Date().toISOString() };
      entries.push(entry);
    }
    this.writeIndex(entries);
    return entry;
  }

  async addFile(file: string): Promise<CacheEntry> {
    if (!existsSync(file) || !statSync(file).isFile()) throw new JettisonError('CEKIT_CACHE', `${file}: not a file`);
    return this.addStream(createReadStream(file), basename(file));
  }

  /** A temporary file name inside the cache directory (same filesystem, for renames). */
  tempFile(): string {
    mkdirSync(this.dir, { recursive: true });
    return join(this.dir, `.incoming-${process.pid}-${randomBytes(6).toString('hex')}`);
  }
}

async function openUrl(url: string, what: string): Promise<Readable> {
  if (url.startsWith('file:')) return createReadStream(fileURLToPath(url));
  if (!/^https?:\/\//i.test(url)) throw new JettisonError('CEKIT_ARTIFACT', `${what}: unsupported URL ${url} (expected http, https or file)`);
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (err) {
    throw new JettisonError('CEKIT_ARTIFACT', `${what}: cannot download ${url}: ${(err as Error).message}`);
  }
  if (!res.ok || !res.body) throw new JettisonError('CEKIT_ARTIFACT', `${what}: cannot download ${url}: HTTP ${res.status}`);
  return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
}

export function describeArtifact(a: Artifact): string {
  return `artifact '${a.name}' (${where(a.pos)})`;
}

/**
 * Writes a file artifact (path, url or plain) to `dest`, verified against its checksums. Downloads
 * with checksums go through the cache (looked up first, stored after).
 */
export async function fetchArtifactFile(a: Artifact, dest: string, cache: ArtifactCache): Promise<void> {
  const what = describeArtifact(a);
  mkdirSync(dirname(dest), { recursive: true });
  if (a.kind === 'image' || a.kind === 'git') throw new JettisonError('CEKIT_ARTIFACT', `${what}: not a file artifact`);
  const checksums = a.checksums;
  if (a.kind === 'path') {
    const tmp = `${dest}.partial`;
    try {
      const { digests } = await streamToFile(createReadStream(a.path), tmp);
      verifyChecksums(what, checksums, digests);
      renameSync(tmp, dest);
    } finally {
      rmSync(tmp, { force: true });
    }
    return;
  }
  const cached = cache.find(checksums);
  if (cached) {
    const tmp = `${dest}.partial`;
    try {
      const { digests } = await streamToFile(createReadStream(cache.pathOf(cached)), tmp);
      verifyChecksums(`${what} from the artifact cache`, checksums, digests);
      renameSync(tmp, dest);
    } finally {
      rmSync(tmp, { force: true });
    }
    return;
  }
  if (a.kind === 'plain') {
    const sums = CHECKSUM_ALGORITHMS.filter((x) => checksums[x]).map((x) => `${x}:${checksums[x]}`).join(', ');
    throw new JettisonError(
      'CEKIT_ARTIFACT_MISSING',
      `${what}: not found in the artifact cache (${sums}); add the file with \`jettison cekit cache add FILE\``,
    );
  }
  // url
  const tmp = hasChecksum(checksums) ? cache.tempFile() : `${dest}.partial`;
  try {
    const { digests, size } = await streamToFile(await openUrl(a.url, what), tmp);
    verifyChecksums(what, checksums, digests);
    if (hasChecksum(checksums)) {
      const entry = cache.commit(tmp, digests, size, a.target);
      await copyFile(cache.pathOf(entry), dest);
    } else {
      renameSync(tmp, dest);
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Downloads a URL to a file (package repository files). */
export async function downloadTo(url: string, dest: string, what: string): Promise<void> {
  mkdirSync(dirname(dest), { recursive: true });
  await streamToFile(await openUrl(url, what), dest);
}
