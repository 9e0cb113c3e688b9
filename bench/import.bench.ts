/**
 * Import benchmarks: `jettison import` of a ~300 MB root file system tar (generated in setup:
 * 20 000 small files, 200 medium, 8 MB large ones; half the bytes compressible) into a fresh store,
 * with gzip layers (the default) and uncompressed; then `save` + `load` of the result as a docker
 * archive (decompress to a spool file, tar, re-ingest and diffID check).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveTarWriter, loadArchive, writeDockerArchive } from '../src/exporter/index.ts';
import { importRootfsFile, openStore, resolveImageRef } from '../src/store/index.ts';
import { runOnce, type Benchmark as Bench } from './harness.ts';


const MB = 1024 * 1024;
let work = '';
let rootfsTar = '';
let runs = 0;

async function makeRootfsTar(): Promise<void> {
  work = mkdtempSync(join(tmpdir(), 'jettison-bench-import-'));
  rootfsTar = join(work, 'rootfs.tar');
  const random = randomBytes(MB);
  const text = Buffer.from('lorem ipsum dolor sit amet, consectetur adipiscing elit\n'.repeat(Math.ceil(MB / 56))).subarray(0, MB);
  const chunk = (size: number, i: number) => (i % 2 ? random : text).subarray(0, size);
  const w = new ArchiveTarWriter(createWriteStream(rootfsTar));
  let total = 0;
  for (let d = 0; d < 200; d++) {
    for (let f = 0; f < 100; f++) {
      await w.addBytes(`usr/share/small/d${d}/f${f}`, chunk(4096, f));
      total += 4096;
    }
  }
  for (let f = 0; f < 200; f++) {
    await w.addBytes(`usr/lib/medium/m${f}`, chunk(512 * 1024, f));
    total += 512 * 1024;
  }
  for (let f = 0; total < 300 * MB; f++) {
    const parts = Array.from({ length: 8 }, (_, i) => chunk(MB, f + i));
    await w.addFile(`opt/large/l${f}`, 8 * MB, parts);
    total += 8 * MB;
  }
  await w.finish();
}

async function ensure(): Promise<void> {
  if (!rootfsTar) await makeRootfsTar();
}

export const benches: Bench[] = [
  {
    name: 'import: 300 MB rootfs tar → gzip layer image',
    goal: '≥ 60 MB/s on one core (gzip level 6 dominates)',
    setup: ensure,
    run: async () => {
      await importRootfsFile(openStore(join(work, `store${runs++}`)), rootfsTar, 'bench/import:gzip');
    },
  },
  {
    name: 'import: 300 MB rootfs tar → uncompressed layer image',
    goal: '≥ 300 MB/s (hash + write + fsync)',
    setup: ensure,
    run: async () => {
      await importRootfsFile(openStore(join(work, `store${runs++}`)), rootfsTar, 'bench/import:none', { compression: 'none' });
    },
  },
  {
    name: 'save + load: the 300 MB gzip image as a docker archive',
    goal: '≥ 100 MB/s',
    setup: async () => {
      await ensure();
      await importRootfsFile(openStore(join(work, 'saved')), rootfsTar, 'bench/import:gzip');
    },
    run: async () => {
      const src = openStore(join(work, 'saved'));
      const rec = await resolveImageRef(src, 'bench/import:gzip');
      const file = join(work, 'archive.tar');
      await writeDockerArchive(src, [{ name: rec.name, target: rec.target }], createWriteStream(file));
      await loadArchive(openStore(join(work, `store${runs++}`)), file);
    },
    teardown: () => {
      if (work) rmSync(work, { recursive: true, force: true });
      work = rootfsTar = '';
    },
  },
];

export default benches;

// `node bench/import.bench.ts` runs them once without the harness.
if (import.meta.url === `file://${process.argv[1]}`) {
  await runOnce(benches, { teardown: 'last' });
}
