/**
 * Tar headers: the entry model shared by the layer writer and reader, and the byte encoding of one
 * entry's header blocks (a POSIX ustar block, preceded by a PAX extended header when a value does
 * not fit: long or non-ASCII names and link names, sizes ≥ 8 GiB, uid/gid > 2097151, sub-second or
 * out-of-range mtimes, extended attributes as SCHILY.xattr.*). Output is deterministic: numeric
 * ids only, no user/group names, no atime/ctime, PAX records sorted.
 */
import { JettisonError } from '../../errors.ts';

export const BLOCK = 512;

export type EntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarHeader {
  /** The entry's path as stored (without a directory's trailing "/" when encoding). */
  path: string;
  type: EntryType;
  /** Permission bits including setuid/setgid/sticky (0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Content length (regular files only; 0 otherwise). */
  size: number;
  /** Modification time in nanoseconds since the epoch. */
  mtimeNs: bigint;
  /** Symlink target or hard link target path. */
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes by full name (e.g. "security.capability"). */
  xattrs: Map<string, Buffer>;
}

const TYPE_FLAG: Record<EntryType, string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};

const MAX_OCTAL_7 = 0o7777777; // 2097151: uid, gid, mode, dev fields
const MAX_OCTAL_11 = 0o77777777777; // 8 GiB - 1: size and mtime fields
const NS = 1_000_000_000n;

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7e || s.charCodeAt(i) < 0x20) return false;
  return true;
}

/** ASCII-only, truncated form of a string for a ustar field whose real value is in a PAX record. */
function asciiFallback(s: string, len: number): string {
  let out = '';
  for (const ch of s) if (ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) <= 0x7e) out += ch;
  return out.slice(0, len);
}

function writeString(block: Buffer, offset: number, len: number, value: string): void {
  block.write(value, offset, len, 'utf8');
}

function writeOctal(block: Buffer, offset: number, len: number, value: number): void {
  const s = value.toString(8).padStart(len - 1, '0');
  block.write(s, offset, len - 1, 'ascii');
  block[offset + len - 1] = 0;
}

/** "LEN key=value\n" where LEN counts the whole record, itself included. */
function paxRecord(key: string, value: Buffer): Buffer {
  const rest = Buffer.byteLength(key) + value.length + 3; // ' ' '=' '\n'
  let len = rest + String(rest).length;
  if (String(len).length !== String(rest).length) len = rest + String(len).length;
  return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from('\n')]);
}

/** Formats nanoseconds as PAX decimal seconds ("1700000000.5", "-1.25", "12"). */
export function formatPaxTime(ns: bigint): string {
  const neg = ns < 0n;
  const abs = neg ? -ns : ns;
  const sec = abs / NS;
  const frac = abs % NS;
  let s = `${neg ? '-' : ''}${sec}`;
  if (frac !== 0n) s += '.' + frac.toString().padStart(9, '0').replace(/0+$/, '');
  return s;
}

/** Parses PAX decimal seconds into nanoseconds (digits beyond 9 decimals are truncated). */
export function parsePaxTime(s: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(s);
  if (!m) throw new JettisonError('BAD_TAR', `invalid PAX time "${s}"`);
  const frac = (m[3] ?? '').slice(0, 9).padEnd(9, '0');
  const ns = BigInt(m[2]) * NS + BigInt(frac);
  return m[1] ? -ns : ns;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/**
 * The header blocks for one entry: [PAX header + PAX data +] ustar block. A directory's name gets a
 * trailing "/". The caller writes the content (padded to 512) after a regular file's header.
 */
export function encodeHeader(h: TarHeader): Buffer {
  const pax = new Map<string, Buffer>();
  const name = h.type === 'dir' && !h.path.endsWith('/') ? `${h.path}/` : h.path;
  let ustarName = name;
  if (Buffer.byteLength(name) > 100 || !isAscii(name)) {
    pax.set('path', Buffer.from(name));
    ustarName = asciiFallback(name, 100);
  }
  let ustarLink = h.linkname;
  if (Buffer.byteLength(h.linkname) > 100 || !isAscii(h.linkname)) {
    pax.set('linkpath', Buffer.from(h.linkname));
    ustarLink = asciiFallback(h.linkname, 100);
  }
  let uid = h.uid;
  if (uid > MAX_OCTAL_7) {
    pax.set('uid', Buffer.from(String(uid)));
    uid = 0;
  }
  let gid = h.gid;
  if (gid > MAX_OCTAL_7) {
    pax.set('gid', Buffer.from(String(gid)));
    gid = 0;
  }
  const size = h.type === 'file' ? h.size : 0;
  let ustarSize = size;
  if (size > MAX_OCTAL_11) {
    pax.set('size', Buffer.from(String(size)));
    ustarSize = 0;
  }
  const sec = floorDiv(h.mtimeNs, NS);
  let ustarMtime = Number(sec);
  if (h.mtimeNs % NS !== 0n || sec < 0n || sec > BigInt(MAX_OCTAL_11)) {
    pax.set('mtime', Buffer.from(formatPaxTime(h.mtimeNs)));
    ustarMtime = Math.min(Math.max(ustarMtime, 0), MAX_OCTAL_11);
  }
  for (const [k, v] of h.xattrs) pax.set(`SCHILY.xattr.${k}`, v);
  if (h.devmajor > MAX_OCTAL_7 || h.devminor > MAX_OCTAL_7) {
    throw new JettisonError('BAD_TAR', `${h.path}: device number ${h.devmajor}:${h.devminor} does not fit a tar header`);
  }

  const block = Buffer.alloc(BLOCK);
  writeString(block, 0, 100, ustarName);
  writeOctal(block, 100, 8, h.mode & 0o7777);
  writeOctal(block, 108, 8, uid);
  writeOctal(block, 116, 8, gid);
  writeOctal(block, 124, 12, ustarSize);
  writeOctal(block, 136, 12, ustarMtime);
  block.write(TYPE_FLAG[h.type], 156, 1, 'ascii');
  writeString(block, 157, 100, ustarLink);
  block.write('ustar\x0000', 257, 8, 'ascii');
  writeOctal(block, 329, 8, h.devmajor);
  writeOctal(block, 337, 8, h.devminor);
  setChecksum(block);
  if (pax.size === 0) return block;

  const keys = [...pax.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const data = Buffer.concat(keys.map((k) => paxRecord(k, pax.get(k)!)));
  const slash = name.replace(/\/$/, '').lastIndexOf('/');
  const dir = slash < 0 ? '' : name.slice(0, slash + 1);
  const base = name.replace(/\/$/, '').slice(slash + 1);
  const paxName = asciiFallback(`${dir}PaxHeaders.0/${base}`, 100);
  const ph = Buffer.alloc(BLOCK);
  writeString(ph, 0, 100, paxName);
  writeOctal(ph, 100, 8, 0o644);
  writeOctal(ph, 108, 8, 0);
  writeOctal(ph, 116, 8, 0);
  if (data.length > MAX_OCTAL_11) throw new JettisonError('BAD_TAR', `${h.path}: extended header too large`);
  writeOctal(ph, 124, 12, data.length);
  writeOctal(ph, 136, 12, 0);
  ph.write('x', 156, 1, 'ascii');
  ph.write('ustar\x0000', 257, 8, 'ascii');
  writeOctal(ph, 329, 8, 0);
  writeOctal(ph, 337, 8, 0);
  setChecksum(ph);
  return Buffer.concat([ph, data, Buffer.alloc(padding(data.length)), block]);
}

function setChecksum(block: Buffer): void {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i];
  writeOctal(block, 148, 7, sum);
  block[155] = 0x20;
}

/** Zero bytes needed after `size` bytes of content to reach a block boundary. */
export function padding(size: number): number {
  const r = size % BLOCK;
  return r === 0 ? 0 : BLOCK - r;
}

/** The two zero blocks that end an archive. */
export const END_OF_ARCHIVE: Buffer = Buffer.alloc(2 * BLOCK);

// ---- decoding (used by the reader) ----

/** True when the stored checksum matches (unsigned or, as some old tars wrote, signed sums). */
export function checksumOk(block: Buffer): boolean {
  const stored = parseNumeric(block, 148, 8, 'checksum');
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i];
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** A NUL-terminated string field. */
export function parseString(block: Buffer, offset: number, len: number): string {
  const end = block.indexOf(0, offset);
  return block.toString('utf8', offset, end < 0 || end > offset + len ? offset + len : end);
}

/** An octal (NUL/space padded) or GNU base-256 numeric field. */
export function parseNumeric(block: Buffer, offset: number, len: number, what: string): number {
  const first = block[offset];
  if (first & 0x80) {
    // base-256: big-endian two's complement with the top bit of the first byte as marker
    let v = BigInt(first & 0x7f) - (first & 0x40 ? 0x80n : 0n);
    for (let i = 1; i < len; i++) v = (v << 8n) | BigInt(block[offset + i]);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new JettisonError('BAD_TAR', `tar header: ${what} out of range`);
    }
    return Number(v);
  }
  const s = block.toString('latin1', offset, offset + len).replace(/[\0 ]+$/, '').replace(/^[ \0]+/, '');
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new JettisonError('BAD_TAR', `tar header: invalid ${what} field "${s.replace(/[^\x20-\x7e]/g, '?')}"`);
  const v = parseInt(s, 8);
  if (!Number.isSafeInteger(v)) throw new JettisonError('BAD_TAR', `tar header: ${what} out of range`);
  return v;
}

export function typeOfFlag(flag: string): EntryType | undefined {
  switch (flag) {
    case '0':
    case '\0':
    case '7':
      return 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '3':
      return 'char';
    case '4':
      return 'block';
    case '5':
      return 'dir';
    case '6':
      return 'fifo';
    default:
      return undefined;
  }
}
