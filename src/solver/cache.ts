/**
 * The persistent build cache: cache key → the result of the vertex with that key, under
 * `<store root>/cache/`.
 *
 * Layout (all JSON, each file written atomically, see atomic.ts):
 *   entries/<hex[0:2]>/<hex>.json   one CacheRecord per key: the result plus the key's components,
 *                                   the op and step, so a record is self-verifying (its key is
 *                                   recomputed on read; a record that does not verify is a miss)
 *   steps/<hex>/<keyhex>.json       pointers from a step's identity to records of it, two identities
 *                                   per step: (scope, stage, index) and (scope, stage, instruction);
 *                                   the newest STEP_HISTORY of each are kept
 *   listings/<hex>                  per-file listings (listing.ts) of contents whose digest is the
 *                                   listing's sha256, written by whoever computes the digest, to
 *                                   explain misses file by file; trimmed when a solve ends to the
 *                                   listings it used and the newest MAX_LISTINGS others
 *
 * No locks are needed: every file is complete when it appears, records for one key written by two
 * processes at once are equivalent (last rename wins), and readers skip pointers to missing records.
 *
 * Records are GC roots for the store's prune: referencedBlobs() (and cacheBlobRoots(root)) list
 * every blob digest a record refers to.
 */
import { readFile, readdir, rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { JettisonError } from '../errors.ts';
import { digestHex, isDigest } from '../image/digest.ts';
import type { Descriptor, Digest } from '../image/types.ts';
import { sweepTemporaries, TEMP_PREFIX, writeFileAtomic, type AtomicWriteHooks } from './atomic.ts';
import { canonicalDigest, canonicalJSON, type JsonObject } from './canonical.ts';
import { compareWithRecord, MAX_FILES_NAMED, type FileChanges } from './explain.ts';
import { diffListings, listingFile, trimListings } from './listing.ts';
import type { Op } from './ops.ts';
import type { SolverCache } from './solve.ts';
import { keyOf, type KeyComponents, type StepInfo, type Vertex } from './vertex.ts';

export const CACHE_RECORD_VERSION = 1;
/** Records remembered per step identity, for explanations. */
export const STEP_HISTORY = 16;

export interface LayerResult {
  descriptor: Descriptor;
  diffID: Digest;
}

/** What a vertex produced: enough to reconstruct its state without running its inputs. */
export interface CachedResult {
  /** The layers of the file system state after this vertex, base first. */
  layers: LayerResult[];
  /** The image config (or the part of it the build tracks) after this vertex. */
  config?: JsonObject;
  /** Other blobs the result refers to (a base image's manifest and config…): kept by prune. */
  blobs?: Digest[];
}

export interface CacheRecord {
  version: typeof CACHE_RECORD_VERSION;
  key: Digest;
  components: KeyComponents;
  op: Op;
  name: string;
  step?: StepInfo;
  buildArgs: string[];
  result: CachedResult;
  /** ISO time of writing. */
  created: string;
}

export interface MissExplanation {
  /** The closest earlier record of the same step, when there is one. */
  previous?: { key: Digest; created: string; name: string };
  /** What changed since it (empty when there is no earlier record). */
  reasons: string[];
}

export interface BuildCacheOptions {
  /** Test hooks for crash simulation. */
  hooks?: AtomicWriteHooks;
}

interface StepPointer {
  key: Digest;
  created: string;
}

function validResult(r: unknown): r is CachedResult {
  if (!r || typeof r !== 'object') return false;
  const { layers, blobs, config } = r as CachedResult;
  if (!Array.isArray(layers)) return false;
  for (const l of layers) {
    if (!l || typeof l !== 'object' || !l.descriptor || !isDigest(l.descriptor.digest) || !isDigest(l.diffID)) return false;
    if (typeof l.descriptor.size !== 'number' || typeof l.descriptor.mediaType !== 'string') return false;
  }
  if (blobs !== undefined && (!Array.isArray(blobs) || !blobs.every((b) => typeof b === 'string' && isDigest(b)))) return false;
  if (config !== undefined && (config === null || typeof config !== 'object' || Array.isArray(config))) return false;
  return true;
}

function stepIdentities(step: StepInfo): Digest[] {
  const scope = step.scope ?? '';
  return [
    canonicalDigest({ scope, stage: step.stage, index: step.index }),
    canonicalDigest({ scope, stage: step.stage, instruction: step.instruction }),
  ];
}

export class BuildCache {
  /** `<store root>/cache` */
  readonly dir: string;
  /** listingDir(store root): where contents' per-file listings are kept. */
  readonly listingDir: string;
  private readonly hooks: AtomicWriteHooks;

  constructor(storeRoot: string, options: BuildCacheOptions = {}) {
    this.dir = cacheDir(storeRoot);
    this.listingDir = listingDir(storeRoot);
    this.hooks = options.hooks ?? {};
  }

  private entryPath(key: Digest): string {
    const hex = digestHex(key);
    return join(this.dir, 'entries', hex.slice(0, 2), `${hex}.json`);
  }

  /** The record for a key, or undefined when absent or not valid. `touch` marks it used (mtime). */
  async get(key: Digest, options: { touch?: boolean } = {}): Promise<CacheRecord | undefined> {
    const path = this.entryPath(key);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const record = parseRecord(text);
    if (!record || record.key !== key) return undefined;
    if (options.touch) {
      const now = new Date();
      await utimes(path, now, now).catch(() => undefined);
    }
    return record;
  }

  /** Records a vertex's result (atomically) and remembers it as the newest build of its step. */
  async put(v: Vertex, result: CachedResult, now = new Date()): Promise<CacheRecord> {
    if (!validResult(result)) throw new JettisonError('CACHE', `invalid cache result for ${v.name}`);
    const record: CacheRecord = {
      version: CACHE_RECORD_VERSION,
      key: v.key,
      components: { definition: v.components.definition, inputs: [...v.components.inputs], contents: v.components.contents.map((c) => ({ ...c })) },
      op: v.op,
      name: v.name,
      ...(v.step ? { step: { ...v.step } } : {}),
      buildArgs: [...v.buildArgs],
      result,
      created: now.toISOString(),
    };
    await writeFileAtomic(this.entryPath(v.key), `${canonicalJSON(record)}\n`, this.hooks);
    if (v.step) {
      const pointer: StepPointer = { key: v.key, created: record.created };
      for (const id of stepIdentities(v.step)) {
        const dir = join(this.dir, 'steps', digestHex(id));
        await writeFileAtomic(join(dir, `${digestHex(v.key)}.json`), `${canonicalJSON(pointer)}\n`);
        await this.trimStep(dir);
      }
    }
    return record;
  }

  private async readPointers(dir: string): Promise<(StepPointer & { file: string })[]> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: (StepPointer & { file: string })[] = [];
    for (const name of names) {
      if (name.startsWith(TEMP_PREFIX) || !name.endsWith('.json')) continue;
      try {
        const p = JSON.parse(await readFile(join(dir, name), 'utf8')) as StepPointer;
        if (typeof p.key === 'string' && isDigest(p.key) && typeof p.created === 'string') out.push({ ...p, file: join(dir, name) });
      } catch {
        // removed by a concurrent trim, or not ours: skip
      }
    }
    return out.sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
  }

  private async trimStep(dir: string): Promise<void> {
    const pointers = await this.readPointers(dir);
    for (const p of pointers.slice(STEP_HISTORY)) await rm(p.file, { force: true });
  }

  /**
   * Explains a miss: finds the closest earlier record of the vertex's step (fewest differing key
   * components, then newest) and lists what changed.
   */
  async explain(v: Vertex): Promise<MissExplanation> {
    if (!v.step) return { reasons: [] };
    const keys = new Map<Digest, string>();
    for (const id of stepIdentities(v.step)) {
      for (const p of await this.readPointers(join(this.dir, 'steps', digestHex(id)))) {
        if (p.key !== v.key) keys.set(p.key, p.created);
      }
    }
    let best: { record: CacheRecord; distance: number; reasons: string[] } | undefined;
    for (const key of keys.keys()) {
      const record = await this.get(key);
      if (!record) continue;
      const { distance, reasons } = compareWithRecord(record, v);
      if (
        !best ||
        distance < best.distance ||
        (distance === best.distance && record.created > best.record.created)
      ) {
        best = { record, distance, reasons };
      }
    }
    if (!best) return { reasons: [] };
    // Contents kept as listings: compare the earlier listing with the current one, file by file.
    const fileChanges = new Map<string, FileChanges>();
    const before = new Map(best.record.components.contents.map((c) => [c.label, c.digest]));
    for (const c of v.contents) {
      const prev = before.get(c.label);
      if (c.listing === undefined || prev === undefined || prev === c.digest || !isDigest(prev)) continue;
      try {
        fileChanges.set(c.label, await diffListings(listingFile(this.listingDir, prev as Digest), c.listing, MAX_FILES_NAMED));
      } catch {
        // the earlier listing is gone (trimmed) or unreadable: the content is only said to have changed
      }
    }
    const reasons = fileChanges.size > 0 ? compareWithRecord(best.record, v, fileChanges).reasons : best.reasons;
    return {
      previous: { key: best.record.key, created: best.record.created, name: best.record.name },
      reasons,
    };
  }

  /** Every valid record (order unspecified). */
  async *records(): AsyncGenerator<CacheRecord> {
    const root = join(this.dir, 'entries');
    let shards: string[];
    try {
      shards = await readdir(root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const shard of shards.sort()) {
      let names: string[];
      try {
        names = await readdir(join(root, shard));
      } catch {
        continue;
      }
      for (const name of names.sort()) {
        if (name.startsWith(TEMP_PREFIX) || !name.endsWith('.json')) continue;
        let text: string;
        try {
          text = await readFile(join(root, shard, name), 'utf8');
        } catch {
          continue;
        }
        const record = parseRecord(text);
        if (record && `${digestHex(record.key)}.json` === name) yield record;
      }
    }
  }

  /** Every blob digest some record refers to: GC roots for the store's prune. */
  async referencedBlobs(): Promise<Set<Digest>> {
    const out = new Set<Digest>();
    for await (const r of this.records()) {
      for (const l of r.result.layers) out.add(l.descriptor.digest);
      for (const b of r.result.blobs ?? []) out.add(b);
    }
    return out;
  }

  async delete(key: Digest): Promise<boolean> {
    const path = this.entryPath(key);
    const existed = (await this.get(key)) !== undefined;
    await rm(path, { force: true });
    return existed;
  }

  /** Removes temporary files left by crashed writers (older than an hour by default). */
  async sweep(olderThanMs = 3_600_000): Promise<number> {
    return sweepTemporaries(this.dir, olderThanMs);
  }
}

function cacheDir(storeRoot: string): string {
  return join(storeRoot, 'cache');
}

/** Where the build cache under a store root keeps per-file listings (listing.ts's keepListing puts them there). */
export function listingDir(storeRoot: string): string {
  return join(cacheDir(storeRoot), 'listings');
}

/**
 * Parses and verifies a record; undefined when it is not a complete, self-consistent record. Records
 * written by earlier versions carry a `files` field (per-file digests, no longer written): it is ignored.
 */
export function parseRecord(text: string): CacheRecord | undefined {
  let r: CacheRecord;
  try {
    r = JSON.parse(text) as CacheRecord;
  } catch {
    return undefined;
  }
  if (!r || typeof r !== 'object' || r.version !== CACHE_RECORD_VERSION || typeof r.key !== 'string' || !isDigest(r.key)) return undefined;
  const c = r.components;
  if (!c || typeof c.definition !== 'string' || !Array.isArray(c.inputs) || !Array.isArray(c.contents)) return undefined;
  try {
    if (keyOf({ definition: c.definition, inputs: c.inputs, contents: c.contents }) !== r.key) return undefined;
    if (canonicalDigest(r.op) !== c.definition) return undefined;
  } catch {
    return undefined;
  }
  if (!validResult(r.result) || typeof r.name !== 'string' || typeof r.created !== 'string') return undefined;
  if (!Array.isArray(r.buildArgs)) return undefined;
  return r;
}

/** The blob digests the build cache under a store root keeps alive (for prune). */
export async function cacheBlobRoots(storeRoot: string): Promise<Digest[]> {
  return [...(await new BuildCache(storeRoot).referencedBlobs())].sort();
}

export interface SolverCacheOptions {
  /** Extra check of a hit (e.g. its blobs are still in the store); false makes it a miss. */
  verify?(result: CachedResult, record: CacheRecord): Promise<boolean>;
  /** Explain misses (reads earlier records of the step); default true. */
  explain?: boolean;
}

/**
 * The build cache as solve()'s cache: lookups touch the record, results are recorded, misses
 * explained; when the solve ends, the listing directory is trimmed (trimListings), sparing the
 * listings of the solved graph.
 */
export function solverCache(cache: BuildCache, options: SolverCacheOptions = {}): SolverCache<CachedResult> {
  return {
    async lookup(v) {
      const record = await cache.get(v.key, { touch: true });
      if (!record) return undefined;
      if (options.verify && !(await options.verify(record.result, record))) return undefined;
      return record.result;
    },
    async record(v, result) {
      await cache.put(v, result);
    },
    ...(options.explain === false ? {} : { explain: async (v: Vertex) => (await cache.explain(v)).reasons }),
    // The listings are bounded once the solve has explained its misses, sparing every one it read.
    async finish(vertices) {
      await trimListings(cache.listingDir, vertices.flatMap((v) => v.contents.flatMap((c) => (c.listing !== undefined ? [c.listing] : []))));
    },
  };
}
