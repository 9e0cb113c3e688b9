/**
 * Image configs: validation of a parsed config (OCI and Docker share the shape) and creation of a
 * new one.
 */
import { JettisonError } from '../errors.ts';
import { isDigest } from './digest.ts';
import type { ContainerConfig, Digest, HistoryEntry, ImageConfig, Platform } from './types.ts';

/** Throws BAD_CONFIG unless `value` looks like an image config (os, architecture, rootfs.diff_ids). */
export function validateImageConfig(value: unknown, what = 'image config'): ImageConfig {
  const bad = (d: string) => new JettisonError('BAD_CONFIG', `${what}: ${d}`);
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw bad('not a JSON object');
  const c = value as ImageConfig;
  if (typeof c.architecture !== 'string' || typeof c.os !== 'string') throw bad('missing os or architecture');
  if (!c.rootfs || c.rootfs.type !== 'layers' || !Array.isArray(c.rootfs.diff_ids)) throw bad('missing rootfs.diff_ids');
  for (const d of c.rootfs.diff_ids) if (typeof d !== 'string' || !isDigest(d)) throw bad(`invalid diff_id "${String(d)}"`);
  return c;
}

export function parseImageConfig(bytes: Uint8Array | string, what = 'image config'): ImageConfig {
  let v: unknown;
  try {
    v = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new JettisonError('BAD_CONFIG', `${what}: not valid JSON: ${(err as Error).message}`);
  }
  return validateImageConfig(v, what);
}

export interface NewImageConfig {
  platform: Platform;
  diffIDs: Digest[];
  config?: ContainerConfig;
  history?: HistoryEntry[];
  created?: string;
  author?: string;
}

export function createImageConfig(o: NewImageConfig): ImageConfig {
  const c: ImageConfig = {
    architecture: o.platform.architecture,
    os: o.platform.os,
    rootfs: { type: 'layers', diff_ids: [...o.diffIDs] },
  };
  if (o.platform.variant) c.variant = o.platform.variant;
  if (o.created) c.created = o.created;
  if (o.author) c.author = o.author;
  c.config = o.config ?? {};
  if (o.history) c.history = o.history;
  return c;
}

/** The platform an image config declares. */
export function configPlatform(c: ImageConfig): Platform {
  const p: Platform = { os: c.os, architecture: c.architecture };
  if (c.variant) p.variant = c.variant;
  return p;
}
