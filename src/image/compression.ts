/**
 * Layer compression: none (how the local store keeps the layers builds make), gzip (what pushes and OCI
 * exports default to), zstd (Node's zlib zstd, present from Node 22.15/23.8).
 * Maps compressions to and from layer media types and user spellings, and makes streaming (de)compressors.
 * gzip is compressed on several threads the way pigz does it (ParallelGzip): one gzip stream whose
 * 1 MiB pieces are deflated at once, each primed with the 32 KiB before it; the output depends only
 * on the input and the level, never on the number of threads.
 */
import { availableParallelism } from 'node:os';
import { PassThrough, Transform, type TransformCallback } from 'node:stream';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { JettisonError } from '../errors.ts';
import { MediaType } from './types.ts';

export type Compression = 'gzip' | 'zstd' | 'none';

interface ZstdZlib {
  createZstdCompress?: (opts?: { params?: Record<number, number> }) => Transform;
  createZstdDecompress?: () => Transform;
  constants: Record<string, number>;
}
const z = zlib as unknown as ZstdZlib;

/** True when this Node has zstd in zlib. */
export function zstdAvailable(): boolean {
  return typeof z.createZstdCompress === 'function' && typeof z.createZstdDecompress === 'function';
}

function noZstd(): never {
  throw new JettisonError('UNSUPPORTED', `zstd compression needs Node 22.15+ or 23.8+ (this is ${process.version})`);
}

/**
 * A compression as users spell it: BuildKit's `compression=gzip|zstd|uncompressed` (and `none`).
 * Throws a USAGE JettisonError naming `what` for anything else.
 */
export function parseCompression(value: string, what = 'compression'): Compression {
  switch (value) {
    case 'gzip':
    case 'zstd':
      return value;
    case 'uncompressed':
    case 'none':
      return 'none';
    default:
      throw new JettisonError('USAGE', `invalid ${what} "${value}": expected gzip, zstd or uncompressed`);
  }
}

/**
 * The levels a compression takes: gzip 1–9 (zlib's; default 6), zstd 1–19 (default 3). zstd's
 * "ultra" levels 20–22 are left out: with windows of 32–128 MiB, compressing a large layer at 22 took
 * about 800 MB of memory here (at 19 about 150 MB). BuildKit's docs say 0–22 for zstd, but it maps
 * every level onto four encoder settings of its own, so its levels are no guide to libzstd's.
 */
const LEVELS: Record<Exclude<Compression, 'none'>, readonly [number, number]> = { gzip: [1, 9], zstd: [1, 19] };

/**
 * A compression level as users type it (`--compression-level N`, `compression-level=N`), for layers
 * compressed with `compression`: decimal digits within that compression's range (gzip 1–9, zstd
 * 1–19). Throws a USAGE JettisonError naming `what` and the range for anything else, and for
 * `none` (uncompressed layers take no level).
 */
export function parseCompressionLevel(value: string, compression: Compression, what = 'compression-level'): number {
  if (compression === 'none') throw new JettisonError('USAGE', `invalid ${what} "${value}": uncompressed layers take no compression level`);
  const [min, max] = LEVELS[compression];
  const n = /^\d{1,3}$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw new JettisonError('USAGE', `invalid ${what} "${value}": expected ${min}-${max} for ${compression}`);
  return n;
}

/** The OCI layer media type for a compression. */
export function layerMediaType(compression: Compression): string {
  switch (compression) {
    case 'gzip':
      return MediaType.OciLayerGzip;
    case 'zstd':
      return MediaType.OciLayerZstd;
    case 'none':
      return MediaType.OciLayerTar;
  }
}

/** Every layer media type this tool reads (OCI, OCI "nondistributable", Docker, Docker "foreign") and its compression. */
const LAYER_COMPRESSION: ReadonlyMap<string, Compression> = new Map<string, Compression>([
  [MediaType.OciLayerGzip, 'gzip'],
  [MediaType.OciLayerNondistributableGzip, 'gzip'],
  [MediaType.DockerLayerGzip, 'gzip'],
  [MediaType.DockerForeignLayerGzip, 'gzip'],
  [MediaType.OciLayerZstd, 'zstd'],
  [MediaType.OciLayerNondistributableZstd, 'zstd'],
  [MediaType.OciLayerTar, 'none'],
  [MediaType.OciLayerNondistributableTar, 'none'],
  [MediaType.DockerLayerTar, 'none'],
]);

/** The compression of a layer media type (see compressionOf); undefined for anything that is not a layer type. */
export function layerCompressionOf(mediaType: string): Compression | undefined {
  return LAYER_COMPRESSION.get(mediaType);
}

/**
 * The compression of a layer media type (OCI and Docker, including the "nondistributable" variants);
 * throws a JettisonError UNSUPPORTED_MEDIA_TYPE for anything else.
 */
export function compressionOf(mediaType: string): Compression {
  const c = LAYER_COMPRESSION.get(mediaType);
  if (c === undefined) throw new JettisonError('UNSUPPORTED_MEDIA_TYPE', `unsupported layer media type "${mediaType}"`);
  return c;
}

/** A streaming compressor. gzip output is deterministic (no name, mtime 0); level defaults to zlib's 6 / zstd's 3. */
export function createCompressor(compression: Compression, level?: number): Transform {
  switch (compression) {
    case 'gzip':
      return new ParallelGzip(level);
    case 'zstd': {
      if (!zstdAvailable()) noZstd();
      const params: Record<number, number> = {};
      if (level !== undefined) params[z.constants.ZSTD_c_compressionLevel] = level;
      return z.createZstdCompress!({ params });
    }
    case 'none':
      return new PassThrough();
  }
}

/** A streaming decompressor. */
export function createDecompressor(compression: Compression): Transform {
  switch (compression) {
    case 'gzip':
      return zlib.createGunzip();
    case 'zstd':
      if (!zstdAvailable()) noZstd();
      return z.createZstdDecompress!();
    case 'none':
      return new PassThrough();
  }
}

const deflateRaw = promisify(zlib.deflateRaw) as (buf: Buffer, opts: zlib.ZlibOptions) => Promise<Buffer>;
/** Input piece deflated on its own (pigz uses 128 KiB; larger pieces cost fewer flushes). */
const PIECE = 1 << 20;
/** The deflate window: each piece is primed with this much of the input before it. */
const WINDOW = 32 * 1024;

/**
 * gzip on the libuv thread pool, several pieces at once: the input is cut into PIECE-sized pieces, each
 * raw-deflated with the WINDOW bytes before it as its dictionary and ended with a sync flush (the last
 * one with a final block); the pieces are written in order between a gzip header and the CRC-32/size
 * trailer. A standard single-member gzip stream (every gunzip reads it). At most `jobs` pieces are in
 * flight, so memory stays bounded; input is accepted only as pieces finish (backpressure).
 */
class ParallelGzip extends Transform {
  private readonly level: number;
  private readonly jobs = Math.min(4, Math.max(2, availableParallelism()));
  private pending: Buffer[] = [];
  private pendingSize = 0;
  private dictionary: Buffer | undefined;
  private crc = 0;
  private size = 0;
  private readonly inFlight: Promise<Buffer>[] = [];
  private headerSent = false;

  constructor(level?: number) {
    super();
    this.level = level ?? zlib.constants.Z_DEFAULT_COMPRESSION;
  }

  private header(): void {
    if (this.headerSent) return;
    this.headerSent = true;
    // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL (2: best, 4: fastest, as zlib sets it) OS=3 (Unix).
    const xfl = this.level === 9 ? 2 : this.level === 1 ? 4 : 0;
    this.push(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3]));
  }

  /** Starts deflating `piece` (the last one when `final`). */
  private start(piece: Buffer, final: boolean): void {
    this.crc = zlib.crc32(piece, this.crc);
    this.size += piece.length;
    const opts: zlib.ZlibOptions = { level: this.level, finishFlush: final ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH };
    if (this.dictionary) opts.dictionary = this.dictionary;
    const job = deflateRaw(piece, opts);
    job.catch(() => {}); // observed in order by drain(); no unhandled rejection meanwhile
    this.inFlight.push(job);
    if (piece.length > 0) this.dictionary = Buffer.from(piece.subarray(Math.max(0, piece.length - WINDOW)));
  }

  /** Writes finished pieces in order until at most `keep` are in flight. */
  private async drain(keep: number): Promise<void> {
    while (this.inFlight.length > keep) this.push(await this.inFlight.shift()!);
  }

  private takePiece(): Buffer {
    const all = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingSize);
    const piece = all.subarray(0, PIECE);
    const rest = all.subarray(PIECE);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingSize = rest.length;
    return piece;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.header();
    // Copied: the writer may reuse its buffer once this callback fires, while deflate jobs still read it.
    this.pending.push(Buffer.from(chunk));
    this.pendingSize += chunk.length;
    (async () => {
      while (this.pendingSize >= PIECE) {
        this.start(this.takePiece(), false);
        await this.drain(this.jobs - 1);
      }
    })().then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    this.header();
    (async () => {
      const rest = this.pending.length === 0 ? Buffer.alloc(0) : Buffer.concat(this.pending, this.pendingSize);
      this.pending = [];
      this.start(rest, true);
      await this.drain(0);
      const trailer = Buffer.alloc(8);
      trailer.writeUInt32LE(this.crc >>> 0, 0);
      trailer.writeUInt32LE(this.size % 0x100000000, 4);
      this.push(trailer);
    })().then(() => cb(), cb);
  }
}
