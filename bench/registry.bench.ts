/**
 * Registry transfer benchmarks: push and pull of a ~500 MB, 5-layer image (incompressible,
 * uncompressed-tar layers, so the network path and digesting dominate) between the content store
 * and a local docker-registry, each measured next to `skopeo copy` doing the same transfer in the same
 * run (goal: jettison's time ≤ skopeo's). Every push goes to a fresh registry so neither tool can
 * skip or mount blobs; every pull goes into a fresh store / OCI layout.
 */
import { execFile } from 'node:child_process';
import { link, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { encodeLayer } from '../src/image/layer.ts';
import { hostPlatform } from '../src/image/platform.ts';
import type { Descriptor, ImageConfig } from '../src/image/types.ts';
import { pullImage, pushImage, resolveRegistryConfig, type RegistryConfig } from '../src/registry/index.ts';
import { openStore, writeImage } from '../src/store/index.ts';
import type { ContentStore } from '../src/store/types.ts';
import { startRegistry, type TestRegistry } from '../test/support/registry.ts';
import { noise } from '../test/integration/registry/helpers.ts';
import type { Benchmark as Bench } from './harness.ts';


const run = promisify(execFile);
const MB = 1024 * 1024;
const LAYERS = 5;
const LAYER_BYTES = 100 * MB;

let work = '';
let store: ContentStore;
let config: RegistryConfig;
let layout = '';
let source: TestRegistry | undefined;
let runs = 0;

/** One layer: a tar of a single file of `size` pseudo-random bytes, written without compression. */
async function layer(i: number): Promise<{ descriptor: Descriptor; diffID: string }> {
  const tar = new PassThrough();
  const encoded = encodeLayer(tar, { compression: 'none' }, store);
  const header = Buffer.alloc(512);
  header.write(`data/layer${i}.bin`, 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${LAYER_BYTES.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\u000000', 257);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  tar.write(header);
  const block = noise(MB, `layer-${i}`);
  for (let off = 0; off < LAYER_BYTES; off += MB) {
    block[0] = off / MB; // every MB differs a little
    if (!tar.write(Buffer.from(block))) await new Promise((r) => tar.once('drain', r));
  }
  tar.end(Buffer.alloc(1024));
  return encoded;
}

async function ensure(): Promise<void> {
  if (work) return;
  work = await mkdtemp(join(tmpdir(), 'jettison-bench-registry-'));
  store = openStore(join(work, 'store'));
  config = await resolveRegistryConfig({}, { ...process.env, DOCKER_CONFIG: join(work, 'docker'), JETTISON_CONFIG: join(work, 'none.json') });
  const layers: Descriptor[] = [];
  const diffIds: string[] = [];
  for (let i = 0; i < LAYERS; i++) {
    const l = await layer(i);
    layers.push(l.descriptor);
    diffIds.push(l.diffID);
  }
  const p = hostPlatform();
  const imageConfig: ImageConfig = { architecture: p.architecture, os: p.os, rootfs: { type: 'layers', diff_ids: diffIds }, config: { Cmd: ['/bin/sh'] } };
  const img = await writeImage(store, imageConfig, layers, 'bench/big:1');
  // The same image as an OCI layout for skopeo (hard links to the store's blobs).
  layout = join(work, 'layout');
  await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
  for (const d of [img.manifest, img.config, ...layers]) await link(await store.pathOf(d.digest), join(layout, 'blobs', 'sha256', d.digest.slice(7)));
  await writeFile(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const desc = { ...img.manifest, annotations: { 'org.opencontainers.image.ref.name': 'big' } };
  await writeFile(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [desc] }));
}

async function ensureSource(): Promise<TestRegistry> {
  await ensure();
  if (!source) {
    source = await startRegistry();
    await pushImage(`${source.host}/bench/big:1`, { store, source: 'bench/big:1', config });
  }
  return source;
}

async function withFreshRegistry(fn: (reg: TestRegistry) => Promise<void>): Promise<void> {
  const reg = await startRegistry();
  try {
    await fn(reg);
  } finally {
    await reg.stop();
  }
}

export const benches: Bench[] = [
  {
    name: 'registry push: 500 MB, 5 layers, jettison',
    goal: 'time ≤ skopeo copy (next bench)',
    setup: ensure,
    run: () => withFreshRegistry((reg) => pushImage(`${reg.host}/bench/big:1`, { store, source: 'bench/big:1', config, mount: false }).then(() => undefined)),
  },
  {
    name: 'registry push: 500 MB, 5 layers, skopeo copy oci: → docker:// (reference)',
    setup: ensure,
    run: () =>
      withFreshRegistry(async (reg) => {
        await run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:big`, `docker://${reg.host}/bench/big:1`]);
      }),
  },
  {
    name: 'registry pull: 500 MB, 5 layers, jettison',
    goal: 'time ≤ skopeo copy (next bench)',
    setup: async () => {
      await ensureSource();
    },
    run: async () => {
      const reg = await ensureSource();
      const dir = join(work, `pull-${runs++}`);
      try {
        await pullImage(`${reg.host}/bench/big:1`, { store: openStore(dir), config });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'registry pull: 500 MB, 5 layers, skopeo copy docker:// → oci: (reference)',
    setup: async () => {
      await ensureSource();
    },
    run: async () => {
      const reg = await ensureSource();
      const dir = join(work, `skopeo-pull-${runs++}`);
      try {
        await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${reg.host}/bench/big:1`, `oci:${dir}:big`]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    teardown: async () => {
      await source?.stop();
      source = undefined;
      if (work) await rm(work, { recursive: true, force: true });
      work = '';
    },
  },
];

export default benches;

// `node bench/registry.bench.ts` runs each once and prints the times and the ratios.
if (import.meta.url === `file://${process.argv[1]}`) {
  const times: number[] = [];
  for (const b of benches) {
    const ctx = await b.setup?.();
    const t0 = performance.now();
    await b.run(ctx);
    const ms = performance.now() - t0;
    times.push(ms);
    console.log(`${b.name}: ${(ms / 1000).toFixed(2)} s`);
  }
  for (const b of benches) await b.teardown?.();
  console.log(`push ratio jettison/skopeo: ${(times[0] / times[1]).toFixed(2)}; pull ratio: ${(times[2] / times[3]).toFixed(2)}`);
}
