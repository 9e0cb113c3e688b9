/**
 * A child process for the store's crash and concurrency tests: `worker.ts ROOT MODE SEED` loops
 * for ever (until killed) or, with a count, N times:
 *  - "write": ingest a random layer, a config and a manifest, then point one of a few names at it
 *    (sometimes delete a name instead);
 *  - "prune": run prune;
 *  - "compress": like "write", then compress a random tagged layer to its gzip variant (a few MB,
 *    so a kill lands in the middle of it often).
 * It prints "ok N" after each completed round so the parent can tell it made progress.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { MediaType } from '../../../src/image/types.ts';
import { compressLayer, openStore, prune, readImage } from '../../../src/store/index.ts';

const [root, mode, seedArg, countArg] = process.argv.slice(2);
const store = openStore(root);
const names = ['docker.io/library/a:1', 'docker.io/library/b:1', 'docker.io/library/c:1', 'localhost:5000/d:x'];
const count = countArg ? Number(countArg) : Infinity;
let round = 0;
const seed = Number(seedArg) || 1;

function* chunks(total: number): Generator<Buffer> {
  let left = total;
  while (left > 0) {
    const n = Math.min(left, 1 + Math.floor(Math.random() * 65536));
    left -= n;
    yield randomBytes(n);
  }
}

/** Random words: gzip has work to do, and the output still differs from run to run. */
function* compressible(total: number): Generator<Buffer> {
  const words = Array.from({ length: 64 }, () => randomBytes(4).toString('hex'));
  let left = total;
  while (left > 0) {
    const parts: string[] = [];
    for (let i = 0; i < 4096; i++) parts.push(words[Math.floor(Math.random() * words.length)]);
    const b = Buffer.from(parts.join(' ')).subarray(0, left);
    left -= b.length;
    yield b;
  }
}

while (round < count) {
  if (mode === 'prune') {
    await prune(store);
  } else {
    const size = mode === 'compress' ? 1 + Math.floor(Math.random() * 4 * 1024 * 1024) : Math.floor(Math.random() * 512 * 1024);
    const source = mode === 'compress' ? compressible(size) : chunks(size);
    const layer = await store.ingest(Readable.from(source), { mediaType: MediaType.OciLayerTar });
    const config = await store.putJSON(
      { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] }, created: new Date().toISOString(), seed },
      MediaType.OciConfig,
    );
    const manifest = await store.putJSON({ schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [layer] }, MediaType.OciManifest);
    const name = names[Math.floor(Math.random() * names.length)];
    if (Math.random() < 0.15) await store.deleteRef(name);
    else await store.setRef(name, manifest);
    if (mode === 'compress') {
      const img = await readImage(store, names[Math.floor(Math.random() * names.length)]).catch(() => undefined);
      if (img) await compressLayer(store, img.manifest.layers[0], 'gzip');
    }
  }
  round++;
  process.stdout.write(`ok ${round}\n`);
}
