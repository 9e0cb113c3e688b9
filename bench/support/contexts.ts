/**
 * Generated build contexts for the large-context benchmarks: `files` files in directories of 100,
 * every hundredth one 420 KiB, the rest 1–11 KiB (20,000 files ≈ 200 MB; 2,000 ≈ 20 MB); half the
 * files pseudo-random bytes, half text, so gzip has real work and no file equals another. The
 * content is a function of the file's index only, so every run generates the same tree. `editFile`
 * rewrites one small file with content never written before (a rebuild can't hit an old cache entry).
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const KiB = 1024;
const POOL = 1024 * KiB;

function pools(): { random: Buffer; text: Buffer } {
  const random = Buffer.alloc(POOL);
  let block = createHash('sha256').update('jettison bench context').digest();
  for (let off = 0; off < POOL; off += block.length) {
    block = createHash('sha256').update(block).digest();
    block.copy(random, off);
  }
  const line = 'the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs\n';
  const text = Buffer.from(line.repeat(Math.ceil(POOL / line.length))).subarray(0, POOL);
  return { random, text };
}

export function fileSize(i: number): number {
  return i % 100 === 0 ? 420 * KiB : KiB + ((i * 7919) % (10 * KiB));
}

export function relPath(i: number): string {
  return join(`d${String(Math.floor(i / 100)).padStart(3, '0')}`, `f${String(i % 100).padStart(2, '0')}.dat`);
}

/** Writes the context into `dir` (with `dockerfile` copied in as Dockerfile); returns its total size in bytes. */
export function generateContext(dir: string, files: number, dockerfile: string): number {
  const { random, text } = pools();
  let total = 0;
  for (let i = 0; i < files; i++) {
    if (i % 100 === 0) mkdirSync(join(dir, relPath(i), '..'), { recursive: true });
    const size = fileSize(i);
    const pool = i % 2 ? random : text;
    const start = (i * 4099) % (POOL - size);
    const header = Buffer.from(`file ${i}\n`);
    writeFileSync(join(dir, relPath(i)), Buffer.concat([header, pool.subarray(start, start + size - header.length)]));
    total += size;
  }
  copyFileSync(dockerfile, join(dir, 'Dockerfile'));
  return total;
}

/** The file `editFile` rewrites (a small one). */
export const EDITED = relPath(1);

/** Rewrites one small file of the context with content unique to `generation`. */
export function editFile(dir: string, generation: string): void {
  writeFileSync(join(dir, EDITED), `edited ${generation}\n${'x'.repeat(2000)}\n`);
}
