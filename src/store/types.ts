/**
 * The contract of jettison's content store: content-addressed blobs plus refs (name:tag → the
 * descriptor of a manifest or index). The embedded store (src/store/) implements it on the local
 * file system; pulls, builds and loads write into it and exporters read from it.
 */
import type { Readable } from 'node:stream';
import type { Descriptor, Digest } from '../image/types.ts';

export interface ExpectedContent {
  /** When given, content that does not hash to it is rejected and nothing is stored. */
  digest?: Digest;
  /** When given, content of another length is rejected. */
  size?: number;
  mediaType?: string;
}

export interface RefRecord {
  /** Fully qualified reference, e.g. "docker.io/library/busybox:latest". */
  name: string;
  /** The manifest or index the ref points at. */
  target: Descriptor;
  /** ISO time the ref was last written. */
  updated: string;
}

export interface ContentStore {
  readonly root: string;
  has(digest: Digest): Promise<boolean>;
  /** Size in bytes, or undefined when absent. */
  size(digest: Digest): Promise<number | undefined>;
  /** A stream of the blob; throws a JettisonError with code NOT_FOUND when absent. */
  open(digest: Digest): Readable;
  /** A path to read the blob from (for tools that need a file); throws when absent. */
  pathOf(digest: Digest): Promise<string>;
  readBytes(digest: Digest): Promise<Buffer>;
  readJSON<T>(digest: Digest): Promise<T>;
  /**
   * Streams content into the store. The blob becomes visible only when complete, verified
   * (against `expected` when given) and durable; a failure or a kill leaves nothing behind.
   */
  ingest(source: Readable | AsyncIterable<Uint8Array>, expected?: ExpectedContent): Promise<Descriptor>;
  /**
   * Protects a blob that is present from prune for as long as this store instance's work lasts (the
   * same lease ingest gives); false when the blob is absent.
   */
  retain(digest: Digest): Promise<boolean>;
  putBytes(data: Uint8Array | string, mediaType: string): Promise<Descriptor>;
  putJSON(value: unknown, mediaType: string): Promise<Descriptor>;

  getRef(name: string): Promise<RefRecord | undefined>;
  setRef(name: string, target: Descriptor): Promise<void>;
  deleteRef(name: string): Promise<boolean>;
  listRefs(): Promise<RefRecord[]>;
}
