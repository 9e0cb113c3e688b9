import { createHash, type Hash } from 'node:crypto';
import { JettisonError } from '../errors.ts';
import type { Digest } from './types.ts';

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(value: string): value is Digest {
  return DIGEST_RE.test(value);
}

/** Throws unless value is a sha256 digest (the only algorithm jettison stores). */
export function assertDigest(value: string, what = 'digest'): Digest {
  if (!isDigest(value)) throw new JettisonError('BAD_DIGEST', `invalid ${what} "${value}": expected sha256:<64 hex digits>`);
  return value;
}

export function sha256(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The hex part of a digest, for file names. */
export function digestHex(digest: Digest): string {
  return assertDigest(digest).slice('sha256:'.length);
}

/** A running sha256 with a byte count, fed as data streams past. */
export class DigestCounter {
  private readonly hash: Hash = createHash('sha256');
  size = 0;
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.size += chunk.length;
  }
  digest(): Digest {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

/** A blob digest shortened as BuildKit shows it in progress (sha256: + 12 hex); anything else unchanged. */
export function shortId(id: string): string {
  return DIGEST_RE.test(id) ? id.slice(0, 19) : id;
}
