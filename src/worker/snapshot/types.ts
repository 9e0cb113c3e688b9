/**
 * What a snapshot is to the rest of the worker: a root filesystem tree made from layer dirs, that a
 * container runs in, and whose changes are taken afterwards as a Commit the layer tar writer understands.
 */

export type SnapshotterName = 'overlay' | 'copy';

export interface Snapshot {
  /** Unique per worker state dir; starts with the owner token of the process that made it. */
  readonly id: string;
  readonly kind: SnapshotterName;
  /** The snapshot's own state dir (removed by release). */
  readonly dir: string;
  /** The tree the container sees (the overlay's merged dir, or the copy). */
  readonly rootfs: string;
  /** The layer dirs it was made from, newest first (overlay format: whiteouts are char 0/0). */
  readonly lowers: readonly string[];
  /**
   * Overlay: upper-relative paths ("etc", "usr/src") of directories copied up only to hold mount stubs,
   * which the process left unchanged and empty: commit removes them from the upper dir.
   */
  readonly stubParents: Set<string>;
  state: 'ready' | 'committed' | 'released';
}

/**
 * The changes a snapshot holds, in the two forms the layer writer takes:
 * - overlay-upper: `upperDir` holds exactly the changes, overlay style (whiteouts as char 0/0 devices,
 *   opaque directories marked with the trusted.overlay.opaque="y" xattr; ignore other trusted.overlay.*
 *   xattrs, which are overlayfs bookkeeping). `lowerDirs` (newest first) are what it sits on. The upper
 *   dir is itself a valid lower dir for the next snapshot.
 * - diff: compare `lowerDir` (the tree before) with `upperDir` (the tree after).
 */
export type Commit =
  | {
      kind: 'overlay-upper';
      upperDir: string;
      lowerDirs: string[];
      /** False when the overlay was volatile: the upper dir's data may not be on disk yet. */
      durable: boolean;
    }
  | { kind: 'diff'; lowerDir: string; upperDir: string };

export interface Snapshotter {
  readonly name: SnapshotterName;
  /** Makes the tree: mounts (overlay) or copies (copy). `dir` exists and is empty. */
  prepare(dir: string, lowers: string[]): Promise<{ rootfs: string }>;
  /** Stops changes (unmounts) and says where they are. Idempotent. */
  commit(snapshot: Snapshot): Promise<Commit>;
  /** Unmounts whatever is still mounted for the snapshot (its dir is removed by the caller). */
  teardown(snapshot: Snapshot): Promise<void>;
}
