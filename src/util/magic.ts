/**
 * Compression by magic bytes (for inputs whose name cannot be trusted: rootfs tarballs, archives),
 * and a helper that peeks at the first bytes of a stream without losing them.
 */
import { Readable } from 'node:stream';
import { JettisonError } from '../errors.ts';

export type Magic = 'gzip' | 'zstd' | 'bzip2' | 'xz' | 'none';

export function sniffCompression(head: Uint8Array): Magic {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.length >= 4 && b.readUInt32BE(0) === 0x28b52ffd) return 'zstd';
  if (b.length >= 3 && b.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
  if (b.length >= 6 && b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  return 'none';
}

/** Reads up to `n` bytes from the start of `source`; returns them and a stream of the whole input. */
export async function peek(source: AsyncIterable<Uint8Array>, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const it = source[Symbol.asyncIterator]();
  const got: Buffer[] = [];
  let len = 0;
  let done = false;
  while (len < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const c = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    got.push(c);
    len += c.length;
  }
  const head = Buffer.concat(got);
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    }
  }
  return { head: head.subarray(0, n), stream: Readable.from(all(), { objectMode: false }) };
}

export function unsupportedCompression(kind: Magic, what: string): JettisonError {
  return new JettisonError('UNSUPPORTED', `${what}: ${kind} compression is not supported (use an uncompressed, gzip or zstd tar)`);
}
