/**
 * Layer codec benchmarks: write + gzip a ~300 MB tree into a content store (one pass: tar, diffID,
 * gzip, blob digest, ingest), and apply that layer to an empty directory. The tree mixes many small
 * files, medium files and a few large ones, with half of the bytes compressible.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLayer, unpackLayer, type EncodedLayer } from '../src/image/layer.ts';
import { openStore } from '../src/store/index.ts';
import { runOnce, type Benchmark as Bench } from './harness.ts';


const MB = 1024 * 1024;
let work = '';
let tree = '';
let layer: EncodedLayer | undefined;
let applied = 0;

function makeTree(): void {
  work = mkdtempSync(join(tmpdir(), 'jettison-bench-layer-'));
  const dir = work;
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  tree = join(work, 'tree');
  const random = randomBytes(MB);
  const text = Buffer.from('lorem ipsum dolor sit amet, consectetur adipiscing elit\n'.repeat(Math.ceil(MB / 56))).subarray(0, MB);
  const chunk = (size: number, i: number) => (i % 2 ? random : text).subarray(0, size);
  let total = 0;
  // 20 000 small files (4 KiB) in 200 dirs: ~80 MB
  for (let d = 0; d < 200; d++) {
    const dir = join(tree, 'small', `d${d}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 100; f++) {
      writeFileSync(join(dir, `f${f}`), chunk(4096, f));
      total += 4096;
    }
  }
  // 200 medium files (512 KiB): ~100 MB
  mkdirSync(join(tree, 'medium'));
  for (let f = 0; f < 200; f++) {
    writeFileSync(join(tree, 'medium', `m${f}`), chunk(512 * 1024, f));
    total += 512 * 1024;
  }
  // large files, 8 MB each, to reach ~300 MB
  mkdirSync(join(tree, 'large'));
  for (let f = 0; total < 300 * MB; f++) {
    const parts = Array.from({ length: 8 }, (_, i) => chunk(MB, f + i));
    writeFileSync(join(tree, 'large', `l${f}`), Buffer.concat(parts));
    total += 8 * MB;
  }
}

function store() {
  return openStore(join(work, 'store'));
}

export const benches: Bench[] = [
  {
    name: 'layer: write + gzip a 300 MB tree into the store',
    goal: '≥ 60 MB/s on one core (gzip level 6 dominates)',
    setup: () => {
      if (!tree) makeTree();
    },
    run: async () => {
      layer = await createLayer({ type: 'dir', dir: tree }, { compression: 'gzip' }, store());
    },
  },
  {
    name: 'layer: apply the 300 MB gzip layer to an empty dir',
    goal: '≥ 100 MB/s',
    setup: async () => {
      if (!tree) makeTree();
      if (!layer) layer = await createLayer({ type: 'dir', dir: tree }, { compression: 'gzip' }, store());
    },
    run: async () => {
      const s = store();
      const out = join(work, `applied${applied++}`);
      await unpackLayer(s.open(layer!.descriptor.digest), layer!.descriptor.mediaType, out, { mode: 'merge', diffID: layer!.diffID });
      rmSync(out, { recursive: true, force: true });
    },
    teardown: () => {
      if (work) rmSync(work, { recursive: true, force: true });
      work = tree = '';
      layer = undefined;
    },
  },
];

export default benches;

// `node bench/layer.bench.ts` runs them once without the harness.
if (import.meta.url === `file://${process.argv[1]}`) {
  await runOnce(benches, { teardown: 'last' });
}
