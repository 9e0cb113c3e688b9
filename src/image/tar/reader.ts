/**
 * A streaming tar reader that trusts nothing: verifies header checksums, understands ustar, PAX
 * (local and global: path, linkpath, size, uid, gid, mtime, SCHILY.xattr.*), GNU long names and
 * link names, octal and base-256 numbers, and bounds every in-memory metadata record. Content is
 * never buffered: each entry's body is an async iterable the caller consumes (or it is skipped).
 * After the end-of-archive blocks the rest of the input is drained, so digests over the stream and
 * compressed-stream trailers are always checked.
 */
import { JettisonError } from '../../errors.ts';
import {
  BLOCK,
  checksumOk,
  isZeroBlock,
  padding,
  parseNumeric,
  parsePaxTime,
  parseString,
  typeOfFlag,
  type TarHeader,
} from './header.ts';

/** Largest PAX extended header kept in memory (xattrs live there). */
const MAX_PAX = 8 * 1024 * 1024;
/** Largest GNU long name / link name. */
const MAX_LONGNAME = 64 * 1024;

export interface TarEntry {
  header: TarHeader;
  /** The content of a regular file (empty for other types). Consume it before the next entry. */
  body: AsyncIterable<Buffer>;
}

function badTar(message: string): JettisonError {
  return new JettisonError('BAD_TAR', `invalid tar: ${message}`);
}

/** Pulls exact byte counts out of a chunked source. */
class ChunkReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private buf: Buffer = Buffer.alloc(0);
  private done = false;
  /** Bytes consumed so far (for error messages). */
  offset = 0;

  constructor(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    if (Symbol.asyncIterator in source) this.it = source[Symbol.asyncIterator]();
    else {
      const sync = source[Symbol.iterator]();
      this.it = {
        next: async () => sync.next(),
        return: async () => sync.return?.() ?? { done: true, value: undefined },
      };
    }
  }

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    return true;
  }

  /** Exactly n bytes; null when the input ends cleanly before the first byte; throws on a short read. */
  async readExact(n: number): Promise<Buffer | null> {
    while (this.buf.length < n) {
      if (!(await this.fill())) {
        if (this.buf.length === 0) return null;
        throw badTar(`unexpected end of archive at byte ${this.offset + this.buf.length}`);
      }
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    this.offset += n;
    return out;
  }

  /** Yields exactly n bytes in chunks; throws on a short read. */
  async *stream(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buf.length === 0 && !(await this.fill())) throw badTar(`unexpected end of archive at byte ${this.offset}`);
      const take = Math.min(left, this.buf.length);
      const out = this.buf.subarray(0, take);
      this.buf = this.buf.subarray(take);
      this.offset += take;
      left -= take;
      yield out;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.stream(n)) {
      // discard
    }
  }

  /** Lets go of the source (closing a stream that was not read to its end). */
  async close(): Promise<void> {
    await this.it.return?.();
  }

  async drain(): Promise<void> {
    this.buf = Buffer.alloc(0);
    while (await this.fill()) this.buf = Buffer.alloc(0);
  }
}

function parsePax(data: Buffer, into: Map<string, Buffer>): void {
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break; // some writers pad with NULs
    const sp = data.indexOf(0x20, pos);
    if (sp < 0 || sp - pos > 20) throw badTar('malformed PAX record');
    const lenStr = data.toString('latin1', pos, sp);
    if (!/^[1-9][0-9]*$/.test(lenStr)) throw badTar('malformed PAX record length');
    const len = Number(lenStr);
    const end = pos + len;
    if (end > data.length || data[end - 1] !== 0x0a) throw badTar('malformed PAX record');
    const eq = data.indexOf(0x3d, sp + 1);
    if (eq < 0 || eq >= end - 1) throw badTar('malformed PAX record');
    const key = data.toString('utf8', sp + 1, eq);
    into.set(key, Buffer.from(data.subarray(eq + 1, end - 1)));
    pos = end;
  }
}

function paxNumber(v: Buffer, key: string): number {
  const s = v.toString('latin1');
  if (!/^[0-9]+$/.test(s)) throw badTar(`invalid PAX ${key} "${s}"`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw badTar(`PAX ${key} out of range`);
  return n;
}

/** Iterates the entries of a tar stream (a Readable, any async iterable, or an array of buffers). Throws a JettisonError BAD_TAR on malformed input. */
export async function* readTar(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const r = new ChunkReader(source);
  try {
    yield* entries(r);
  } finally {
    await r.close();
  }
}

async function* entries(r: ChunkReader): AsyncGenerator<TarEntry> {
  const globalPax = new Map<string, Buffer>();
  let localPax = new Map<string, Buffer>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await r.readExact(BLOCK);
    if (block === null) {
      if (localPax.size || longName !== undefined || longLink !== undefined) throw badTar('archive ends after an extended header');
      return;
    }
    if (isZeroBlock(block)) {
      await r.drain();
      return;
    }
    if (!checksumOk(block)) throw badTar(`header checksum mismatch at byte ${r.offset - BLOCK}`);
    const flag = String.fromCharCode(block[156]);
    const size = parseNumeric(block, 124, 12, 'size');
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      const limit = flag === 'x' || flag === 'g' ? MAX_PAX : MAX_LONGNAME;
      if (size > limit) throw badTar(`extended header of ${size} bytes exceeds the ${limit}-byte limit`);
      const data = size === 0 ? Buffer.alloc(0) : Buffer.from((await r.readExact(size))!);
      await r.skip(padding(size));
      if (flag === 'x') parsePax(data, localPax);
      else if (flag === 'g') parsePax(data, globalPax);
      else {
        const end = data.indexOf(0);
        const s = data.toString('utf8', 0, end < 0 ? data.length : end);
        if (flag === 'L') longName = s;
        else longLink = s;
      }
      continue;
    }
    let type = typeOfFlag(flag);
    if (type === undefined) throw badTar(`unsupported entry type '${flag.replace(/[^\x20-\x7e]/g, '?')}' at byte ${r.offset - BLOCK}`);
    const magic = block.toString('latin1', 257, 263);
    let path = parseString(block, 0, 100);
    if (magic === 'ustar\0') {
      const prefix = parseString(block, 345, 155);
      if (prefix) path = `${prefix}/${path}`;
    }
    const pax = new Map([...globalPax, ...localPax]);
    if (longName !== undefined) path = longName;
    if (pax.has('path')) path = pax.get('path')!.toString('utf8');
    let linkname = parseString(block, 157, 100);
    if (longLink !== undefined) linkname = longLink;
    if (pax.has('linkpath')) linkname = pax.get('linkpath')!.toString('utf8');
    if (type === 'file' && flag === '\0' && path.endsWith('/')) type = 'dir'; // pre-POSIX directory
    let entrySize = size;
    if (pax.has('size')) entrySize = paxNumber(pax.get('size')!, 'size');
    const header: TarHeader = {
      path,
      type,
      mode: parseNumeric(block, 100, 8, 'mode') & 0o7777,
      uid: pax.has('uid') ? paxNumber(pax.get('uid')!, 'uid') : parseNumeric(block, 108, 8, 'uid'),
      gid: pax.has('gid') ? paxNumber(pax.get('gid')!, 'gid') : parseNumeric(block, 116, 8, 'gid'),
      size: type === 'file' ? entrySize : 0,
      mtimeNs: pax.has('mtime')
        ? parsePaxTime(pax.get('mtime')!.toString('latin1'))
        : BigInt(parseNumeric(block, 136, 12, 'mtime')) * 1_000_000_000n,
      linkname,
      devmajor: type === 'char' || type === 'block' ? parseNumeric(block, 329, 8, 'devmajor') : 0,
      devminor: type === 'char' || type === 'block' ? parseNumeric(block, 337, 8, 'devminor') : 0,
      xattrs: new Map(),
    };
    for (const [k, v] of pax) if (k.startsWith('SCHILY.xattr.')) header.xattrs.set(k.slice('SCHILY.xattr.'.length), v);
    localPax = new Map();
    longName = undefined;
    longLink = undefined;
    if (path.includes('\0') || linkname.includes('\0')) throw badTar('NUL byte in a path');

    // As in Go's archive/tar, only regular files carry content; other types are header-only.
    const dataSize = type === 'file' ? entrySize : 0;
    let remaining = dataSize;
    let consumed = false;
    const body: AsyncIterable<Buffer> = {
      [Symbol.asyncIterator]: () => {
        if (consumed) throw new Error('tar entry body read twice');
        consumed = true;
        return (async function* () {
          for await (const chunk of r.stream(remaining)) {
            remaining -= chunk.length;
            yield chunk;
          }
        })();
      },
    };
    yield { header, body };
    await r.skip(remaining);
    await r.skip(padding(dataSize));
  }
}
