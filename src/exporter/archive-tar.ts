/**
 * A writer for tars of whole files (OCI layouts and docker archives): regular files and
 * directories only, owned by root, mtime 0, streamed into a Writable with backpressure. Headers
 * come from the layer tar codec (src/image/tar/header.ts).
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { JettisonError } from '../errors.ts';
import { END_OF_ARCHIVE, encodeHeader, padding } from '../image/tar/header.ts';

export class ArchiveTarWriter {
  private readonly out: Writable;
  private readonly dirs = new Set<string>();
  readonly files = new Set<string>();

  constructor(out: Writable) {
    this.out = out;
  }

  private async write(buf: Uint8Array): Promise<void> {
    if (this.out.destroyed) throw new JettisonError('WRITE_FAILED', 'output closed');
    if (this.out.write(buf)) return;
    const out = this.out;
    await new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        out.off('drain', onDrain);
        out.off('close', onClose);
        out.off('error', onError);
      };
      const onDrain = () => {
        cleanup();
        resolve();
      };
      const onClose = () => {
        cleanup();
        reject(new JettisonError('WRITE_FAILED', 'output closed'));
      };
      const onError = (err: Error) => {
        cleanup();
        reject(err);
      };
      out.on('drain', onDrain);
      out.on('close', onClose);
      out.on('error', onError);
    });
  }

  private header(path: string, type: 'file' | 'dir', size: number, mode: number): Buffer {
    return encodeHeader({ path, type, mode, uid: 0, gid: 0, size, mtimeNs: 0n, linkname: '', devmajor: 0, devminor: 0, xattrs: new Map() });
  }

  /** Adds the parent directories of `path` that are not in the archive yet. */
  private async parents(path: string): Promise<void> {
    const parts = path.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (this.dirs.has(dir)) continue;
      this.dirs.add(dir);
      await this.write(this.header(dir, 'dir', 0, 0o755));
    }
  }

  /** Adds a file of exactly `size` bytes read from `body`. */
  async addFile(path: string, size: number, body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void> {
    await this.parents(path);
    this.files.add(path);
    await this.write(this.header(path, 'file', size, 0o644));
    let n = 0;
    for await (const chunk of body) {
      n += chunk.length;
      if (n > size) throw new JettisonError('SIZE_MISMATCH', `${path}: content is longer than ${size} bytes`);
      await this.write(chunk);
    }
    if (n !== size) throw new JettisonError('SIZE_MISMATCH', `${path}: content is ${n} bytes, expected ${size}`);
    const pad = padding(size);
    if (pad) await this.write(Buffer.alloc(pad));
  }

  async addBytes(path: string, data: Uint8Array | string): Promise<void> {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    await this.addFile(path, buf.length, [buf]);
  }

  /**
   * Writes the end-of-archive blocks and, unless `end` is false (process.stdout), ends the output
   * and waits until it is flushed.
   */
  async finish(end = true): Promise<void> {
    await this.write(END_OF_ARCHIVE);
    if (!end) return;
    const done = once(this.out, 'finish');
    this.out.end();
    await done;
  }
}
