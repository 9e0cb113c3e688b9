/**
 * Layer compression: none (how the local store keeps the layers builds make), gzip (what pushes and OCI
 * exports default to), zstd (Node's zlib zstd, present from Node 22.15/23.8).
 * Maps compressions to and from layer media types and user spellings, and makes streaming (de)compressors.
 */
import type { Transform } from 'node:stream';
import { PassThrough } from 'node:stream';
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

/**
 * The compression of a layer media type (OCI and Docker, including the "nondistributable" variants);
 * throws a JettisonError UNSUPPORTED_MEDIA_TYPE for anything else.
 */
export function compressionOf(mediaType: string): Compression {
  switch (mediaType) {
    case MediaType.OciLayerGzip:
    case MediaType.DockerLayerGzip:
    case 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip':
    case 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip':
      return 'gzip';
    case MediaType.OciLayerZstd:
    case 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd':
      return 'zstd';
    case MediaType.OciLayerTar:
    case 'application/vnd.docker.image.rootfs.diff.tar':
    case 'application/vnd.oci.image.layer.nondistributable.v1.tar':
      return 'none';
    default:
      throw new JettisonError('UNSUPPORTED_MEDIA_TYPE', `unsupported layer media type "${mediaType}"`);
  }
}

/** A streaming compressor. gzip output is deterministic (no name, mtime 0); level defaults to zlib's 6 / zstd's 3. */
export function createCompressor(compression: Compression, level?: number): Transform {
  switch (compression) {
    case 'gzip':
      return zlib.createGzip(level === undefined ? {} : { level });
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
