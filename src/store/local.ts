/**
 * The embedded content store on the local file system. Layout under the root:
 *
 *   blobs/sha256/<hex>     content, read-only, named by its sha256 (verified on the way in)
 *   refs/<sha256(name)>.json  { name, target, updated }: one file per ref, replaced atomically
 *   tmp/<owner>.*          files being written; an owner is "<pid>.<start>.<rand>", so the leftovers
 *                          of a dead process are recognised and removed
 *   leases/<owner>         digests this store instance ingested (one per line): GC roots while the
 *                          owning process lives, so prune never takes a blob between its ingest and
 *                          the ref that will name it
 *   roots/<anything>       extra GC roots for other subsystems (build cache…): text files with one
 *                          digest per line; the blobs they name (and what those reach) are kept
 *   locks/                 the shared/exclusive lock of src/util/lock.ts: blob commits and ref
 *                          writes take it shared, prune takes it exclusive
 *   variants/<hex>.<alg>   the compressed variant of an uncompressed layer (see variants.ts)
 *
 * A blob appears only by rename of a complete, fsynced, verified temp file; a ref only by rename of
 * a complete ref file whose target blob exists. So a kill -9 at any moment leaves a consistent store.
 */
import { createReadStream, statSync, unlinkSync } from 'node:fs';
import { appendFile, open, readFile, rename, stat } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { DigestMismatchError, JettisonError } from '../errors.ts';
import { assertDigest, digestHex, DigestCounter, sha256 } from '../image/digest.ts';
import type { Descriptor, Digest } from '../image/types.ts';
import { fsyncDir, mkdirp, readdirIfExists, unlinkIfExists, writeFileAtomic } from '../util/fs.ts';
import { lockShared, withLock } from '../util/lock.ts';
import { newOwnerToken, ownerAlive } from '../util/owner.ts';
import type { ContentStore, ExpectedContent, RefRecord } from './types.ts';

const OCTET = 'application/octet-stream';
const MAX_JSON = 64 * 1024 * 1024;
const FLUSH_EVERY = 16 * 1024 * 1024;

export function notFound(what: string): JettisonError {
  return new JettisonError('NOT_FOUND', `${what}: not found`);
}

export function refFileName(name: string): string {
  return `${createHash('sha256').update(name).digest('hex')}.json`;
}

function checkRefName(name: string): void {
  if (!name || name.length > 1024 || /[\s\0]/.test(name)) {
    throw new JettisonError('INVALID_REFERENCE', `invalid ref name "${name}"`);
  }
}

function checkDescriptor(d: Descriptor, what: string): void {
  if (!d || typeof d !== 'object' || typeof d.mediaType !== 'string' || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw new JettisonError('BAD_DESCRIPTOR', `${what}: not a valid descriptor`);
  }
  assertDigest(d.digest, `${what} digest`);
}

export class LocalStore implements ContentStore {
  readonly root: string;
  readonly blobDir: string;
  readonly refDir: string;
  readonly tmpDir: string;
  readonly leaseDir: string;
  readonly rootsDir: string;
  readonly lockDir: string;
  private readonly owner = newOwnerToken();
  private ready: Promise<void> | undefined;
  private leaseFile: string | undefined;
  private leased = new Set<Digest>();

  constructor(root: string) {
    this.root = root;
    this.blobDir = join(root, 'blobs', 'sha256');
    this.refDir = join(root, 'refs');
    this.tmpDir = join(root, 'tmp');
    this.leaseDir = join(root, 'leases');
    this.rootsDir = join(root, 'roots');
    this.lockDir = join(root, 'locks');
  }

  /** Creates the directories and removes temp files and leases of dead processes (once). */
  init(): Promise<void> {
    this.ready ??= (async () => {
      for (const d of [this.blobDir, this.refDir, this.tmpDir, this.leaseDir, this.rootsDir, this.lockDir]) await mkdirp(d);
      await this.cleanStale();
    })();
    return this.ready;
  }

  /** Removes temp files and leases whose owner process is gone; returns how many. */
  async cleanStale(): Promise<number> {
    let n = 0;
    for (const dir of [this.tmpDir, this.leaseDir]) {
      for (const name of await readdirIfExists(dir)) {
        if (!ownerAlive(name)) {
          if (await unlinkIfExists(join(dir, name))) n++;
        }
      }
    }
    return n;
  }

  blobPath(digest: Digest): string {
    return join(this.blobDir, digestHex(digest));
  }

  async has(digest: Digest): Promise<boolean> {
    return (await this.size(digest)) !== undefined;
  }

  async size(digest: Digest): Promise<number | undefined> {
    try {
      return (await stat(this.blobPath(digest))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  open(digest: Digest): Readable {
    const path = this.blobPath(digest);
    try {
      statSync(path);
    } catch {
      throw notFound(`blob ${digest}`);
    }
    return createReadStream(path);
  }

  async pathOf(digest: Digest): Promise<string> {
    if (!(await this.has(digest))) throw notFound(`blob ${digest}`);
    return this.blobPath(digest);
  }

  async readBytes(digest: Digest): Promise<Buffer> {
    try {
      return await readFile(this.blobPath(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`blob ${digest}`);
      throw err;
    }
  }

  async readJSON<T>(digest: Digest): Promise<T> {
    const size = await this.size(digest);
    if (size === undefined) throw notFound(`blob ${digest}`);
    if (size > MAX_JSON) throw new JettisonError('TOO_LARGE', `blob ${digest} is ${size} bytes: too large for a JSON document`);
    const bytes = await this.readBytes(digest);
    try {
      return JSON.parse(bytes.toString('utf8')) as T;
    } catch (err) {
      throw new JettisonError('BAD_JSON', `blob ${digest} is not valid JSON: ${(err as Error).message}`);
    }
  }

  /** Records `digest` in this instance's lease (caller holds the shared lock). */
  private async lease(digest: Digest): Promise<void> {
    if (this.leased.has(digest)) return;
    this.leaseFile ??= join(this.leaseDir, this.owner);
    await appendFile(this.leaseFile, `${digest}\n`);
    this.leased.add(digest);
    registerExitCleanup(this.leaseFile);
  }

  /**
   * Drops this instance's lease: blobs it ingested are no longer protected from prune unless a ref
   * or root reaches them. Call when the work that ingested them has set its refs.
   */
  async releaseLease(): Promise<void> {
    if (!this.leaseFile) return;
    await unlinkIfExists(this.leaseFile);
    unregisterExitCleanup(this.leaseFile);
    this.leaseFile = undefined;
    this.leased.clear();
  }

  async ingest(source: Readable | AsyncIterable<Uint8Array>, expected: ExpectedContent = {}): Promise<Descriptor> {
    await this.init();
    const mediaType = expected.mediaType ?? OCTET;
    if (expected.digest !== undefined) assertDigest(expected.digest, 'expected digest');
    if (expected.size !== undefined && (!Number.isSafeInteger(expected.size) || expected.size < 0)) {
      throw new JettisonError('BAD_DESCRIPTOR', `invalid expected size ${expected.size}`);
    }
    // Content already present: verify the stream without writing it again (leased first, so a
    // concurrent prune cannot take it meanwhile).
    let present = false;
    if (expected.digest !== undefined) {
      const want = expected.digest;
      present = await withLock(lockShared(this.lockDir), async () => {
        if (!(await this.has(want))) return false;
        await this.lease(want);
        return true;
      });
    }
    const counter = new DigestCounter();
    const tmp = join(this.tmpDir, `${this.owner}.${randomBytes(6).toString('hex')}.ingest`);
    const fh = present ? undefined : await open(tmp, 'wx', 0o444);
    let committed = false;
    // A large blob is flushed while it is still being written (one fdatasync in flight at a time, every
    // FLUSH_EVERY bytes), so the final fsync waits for the last part only, not for all of it.
    let flushing: Promise<unknown> | undefined;
    let flushedAt = 0;
    try {
      try {
        for await (const chunk of source as AsyncIterable<Uint8Array>) {
          const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
          counter.update(buf);
          if (expected.size !== undefined && counter.size > expected.size) {
            throw new JettisonError('SIZE_MISMATCH', `${expected.digest ?? 'content'}: size mismatch: expected ${expected.size} bytes, got more`);
          }
          if (fh) {
            await fh.write(buf);
            if (counter.size - flushedAt >= FLUSH_EVERY && !flushing) {
              flushedAt = counter.size;
              const p = fh.datasync().then(() => {
                flushing = undefined;
              });
              p.catch(() => {}); // awaited (and its error thrown) below
              flushing = p;
            }
          }
        }
        if (flushing) await flushing;
        if (fh) await fh.sync();
      } finally {
        await flushing?.catch(() => {});
        await fh?.close();
      }
      const digest = counter.digest();
      if (expected.digest !== undefined && digest !== expected.digest) {
        throw new DigestMismatchError('content', expected.digest, digest);
      }
      if (expected.size !== undefined && counter.size !== expected.size) {
        throw new JettisonError('SIZE_MISMATCH', `${digest}: size mismatch: expected ${expected.size} bytes, got ${counter.size}`);
      }
      if (!present) {
        await withLock(lockShared(this.lockDir), async () => {
          if (await this.has(digest)) {
            await unlinkIfExists(tmp);
          } else {
            await rename(tmp, this.blobPath(digest));
            await fsyncDir(this.blobDir);
          }
          committed = true;
          await this.lease(digest);
        });
      }
      return { mediaType, digest, size: counter.size };
    } finally {
      if (fh && !committed) await unlinkIfExists(tmp);
    }
  }

  async retain(digest: Digest): Promise<boolean> {
    assertDigest(digest, 'digest');
    await this.init();
    return withLock(lockShared(this.lockDir), async () => {
      if (!(await this.has(digest))) return false;
      await this.lease(digest);
      return true;
    });
  }

  putBytes(data: Uint8Array | string, mediaType: string): Promise<Descriptor> {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    // Digest known up front: a blob already stored (a cached rebuild's config and manifest) is only
    // leased, with no temp file and no fsync.
    const digest = sha256(buf);
    return this.ingest((async function* () {
      yield buf;
    })(), { mediaType, digest, size: buf.length });
  }

  putJSON(value: unknown, mediaType: string): Promise<Descriptor> {
    return this.putBytes(JSON.stringify(value), mediaType);
  }

  async getRef(name: string): Promise<RefRecord | undefined> {
    checkRefName(name);
    const rec = await this.readRefFile(join(this.refDir, refFileName(name)));
    return rec && rec.name === name ? rec : undefined;
  }

  /** Reads a ref file; undefined when missing or malformed (fsck reports those). */
  async readRefFile(path: string): Promise<RefRecord | undefined> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const rec = JSON.parse(text) as RefRecord;
      if (typeof rec.name !== 'string' || typeof rec.updated !== 'string') return undefined;
      checkDescriptor(rec.target, `ref ${rec.name}`);
      return rec;
    } catch {
      return undefined;
    }
  }

  /** Points `name` at `target`, which must be in the store. Atomic: readers see the old or the new. */
  async setRef(name: string, target: Descriptor): Promise<void> {
    checkRefName(name);
    checkDescriptor(target, `ref ${name}`);
    await this.init();
    const clean: Descriptor = { mediaType: target.mediaType, digest: target.digest, size: target.size };
    if (target.annotations) clean.annotations = target.annotations;
    if (target.platform) clean.platform = target.platform;
    const rec: RefRecord = { name, target: clean, updated: new Date().toISOString() };
    await withLock(lockShared(this.lockDir), async () => {
      const size = await this.size(target.digest);
      if (size === undefined) throw notFound(`ref ${name}: target ${target.digest}`);
      if (size !== target.size) {
        throw new JettisonError('SIZE_MISMATCH', `ref ${name}: target ${target.digest} is ${size} bytes, descriptor says ${target.size}`);
      }
      // Already pointing there (a rebuild that changed nothing): no write, no fsync.
      const path = join(this.refDir, refFileName(name));
      const current = await this.readRefFile(path);
      if (current?.name === name && JSON.stringify(current.target) === JSON.stringify(clean)) return;
      await writeFileAtomic(path, `${JSON.stringify(rec)}\n`, { tmpDir: this.tmpDir });
    });
  }

  async deleteRef(name: string): Promise<boolean> {
    checkRefName(name);
    await this.init();
    const path = join(this.refDir, refFileName(name));
    const rec = await this.readRefFile(path);
    if (!rec || rec.name !== name) return false;
    const removed = await unlinkIfExists(path);
    if (removed) await fsyncDir(this.refDir);
    return removed;
  }

  async listRefs(): Promise<RefRecord[]> {
    const out: RefRecord[] = [];
    for (const f of (await readdirIfExists(this.refDir)).sort()) {
      if (!f.endsWith('.json')) continue;
      const rec = await this.readRefFile(join(this.refDir, f));
      if (rec) out.push(rec);
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Digests of every blob file present (names that are not 64 hex are skipped). */
  async listBlobs(): Promise<Digest[]> {
    return (await readdirIfExists(this.blobDir)).filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }
}

// Lease files are removed when the process exits normally; a killed process's leases are stale
// (dead owner) and removed by the next store that opens.
const exitCleanup = new Set<string>();
let exitHooked = false;
function registerExitCleanup(file: string): void {
  exitCleanup.add(file);
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const f of exitCleanup) {
      try {
        unlinkSync(f);
      } catch {
        /* already gone */
      }
    }
  });
}
function unregisterExitCleanup(file: string): void {
  exitCleanup.delete(file);
}
