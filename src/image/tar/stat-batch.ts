/**
 * lstat of the entries of one directory at a time, for tree walks (the layer tar writer, COPY).
 * While inodes are in memory an lstat system call takes a few microseconds, far less than a round
 * trip through libuv's thread pool, so names are stat'ed synchronously in small batches; once a
 * batch is slow (inodes read from disk: a cold cache, a network file system) the walk switches to
 * parallel batches on the thread pool, which overlap the waits. Either way the event loop is given a
 * turn between batches.
 */
import { lstatSync, type BigIntStats, type Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';

/** Names stat'ed per batch. */
export const STAT_BATCH = 64;
/** A synchronous batch slower than this (ms) switches the walk to the thread pool. */
const SLOW_BATCH_MS = 4;

export class StatBatcher {
  private async = false;

  /** lstat of `dir/name` for names[from, from + STAT_BATCH). */
  async batch(dir: string, names: readonly string[], from: number): Promise<Stats[]>;
  async batch(dir: string, names: readonly string[], from: number, bigint: true): Promise<BigIntStats[]>;
  async batch(dir: string, names: readonly string[], from: number, bigint = false): Promise<(Stats | BigIntStats)[]> {
    const end = Math.min(names.length, from + STAT_BATCH);
    if (this.async) {
      const out: Promise<Stats | BigIntStats>[] = [];
      for (let i = from; i < end; i++) out.push(lstat(`${dir}/${names[i]}`, { bigint }));
      return Promise.all(out);
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
    const t0 = performance.now();
    const out: (Stats | BigIntStats)[] = [];
    for (let i = from; i < end; i++) out.push(lstatSync(`${dir}/${names[i]}`, { bigint }));
    if (performance.now() - t0 > SLOW_BATCH_MS) this.async = true;
    return out;
  }
}
