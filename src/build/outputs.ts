/**
 * Where a built image goes (`-o/--output`, as docker buildx build takes it):
 *   type=image (default)      the local store, under the -t names (push=true: also pushed)
 *   type=oci,dest=F[,tar=false]   an OCI layout: a tar file (or a directory with tar=false; "-" = stdout)
 *   type=docker,dest=F        a docker archive (docker load / podman load)
 *   type=local,dest=DIR       the final file system, as files
 *   type=tar,dest=F           the final file system, as one tar
 *   type=registry             pushed under the -t names (also --push)
 * The store keeps built layers uncompressed; type=oci and pushes compress them as BuildKit's exporters
 * do (`compression=gzip` by default, `zstd` or `uncompressed`; `compression-level=N`), through the
 * store's remembered variants. type=docker writes uncompressed layers, as docker save does.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { JettisonError } from '../errors.ts';
import { parseCompression, parseCompressionLevel, type Compression } from '../image/compression.ts';
import { shortId } from '../image/digest.ts';
import { decodeLayer } from '../image/layer.ts';
import { applyLayerTar, writeLayerTar } from '../image/tar/index.ts';
import type { Descriptor, ImageConfig } from '../image/types.ts';
import { writeDockerArchive, writeOciLayoutDir, writeOciLayoutTar } from '../exporter/index.ts';
import type { ProgressEvent } from '../progress/index.ts';
import type { RegistryConfig } from '../registry/index.ts';
import type { LayerResult } from '../solver/index.ts';
import { convertImage, type LocalStore } from '../store/index.ts';
import type { Worker } from '../worker/index.ts';

export type OutputType = 'image' | 'oci' | 'docker' | 'local' | 'tar' | 'registry';

export interface OutputSpec {
  type: OutputType;
  dest?: string;
  /** Extra key=value attributes (tar=false, name=…, push=true). */
  attrs?: Record<string, string>;
}

export interface ExportResult {
  type: OutputType;
  dest?: string;
  names?: string[];
  /** The manifest written or pushed, when it differs from the one in the store (compressed layers). */
  descriptor?: Descriptor;
}

export interface ExportInput {
  store: LocalStore;
  worker: Worker;
  manifest: Descriptor;
  config: ImageConfig;
  layers: LayerResult[];
  tags: string[];
  /** Resolved on first use (only pushes need it). */
  registryConfig(): Promise<RegistryConfig>;
  cwd: string;
  emit(e: ProgressEvent): void;
  /** Where "-" writes (default process.stdout). */
  stdout?: Writable;
}

/** Parses one `-o` value: "type=oci,dest=out.tar", or a bare path (= type=local,dest=PATH), or "-" (= tar to stdout). */
export function parseOutput(value: string): OutputSpec {
  if (value === '-') return { type: 'tar', dest: '-' };
  if (!value.includes('=')) return { type: 'local', dest: value };
  const attrs: Record<string, string> = {};
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new JettisonError('USAGE', `invalid output "${value}": expected key=value pairs`);
    attrs[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  const type = attrs.type ?? 'local';
  delete attrs.type;
  if (!['image', 'oci', 'docker', 'local', 'tar', 'registry'].includes(type)) {
    throw new JettisonError('USAGE', `invalid output type "${type}": expected image, oci, docker, local, tar or registry`);
  }
  const spec: OutputSpec = { type: type as OutputType, attrs };
  if (attrs.dest !== undefined) {
    spec.dest = attrs.dest;
    delete attrs.dest;
  }
  if ((type === 'oci' || type === 'docker' || type === 'local' || type === 'tar') && spec.dest === undefined) {
    throw new JettisonError('USAGE', `output type=${type} needs dest=…`);
  }
  if (attrs.compression !== undefined) parseCompression(attrs.compression);
  if (attrs['compression-level'] !== undefined) compressionLevel(spec);
  return spec;
}

/** An output's compression= (BuildKit's exporters default to gzip). */
export function outputCompression(spec: OutputSpec): Compression {
  return spec.attrs?.compression === undefined ? 'gzip' : parseCompression(spec.attrs.compression);
}

/** An output's compression-level=, when given (checked against its compression=, default gzip). */
function compressionLevel(spec: OutputSpec): number | undefined {
  const v = spec.attrs?.['compression-level'];
  if (v === undefined) return undefined;
  return parseCompressionLevel(v, outputCompression(spec));
}

async function toDest(dest: string, input: ExportInput, write: (out: Writable) => Promise<unknown>): Promise<void> {
  if (dest === '-') {
    await write(input.stdout ?? process.stdout);
    return;
  }
  const out = createWriteStream(resolve(input.cwd, dest));
  await write(out);
  out.end();
  await finished(out);
}

/** Applies the image's layers into a directory (the final file system). */
async function unpackInto(input: ExportInput, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const l of input.layers) {
    await applyLayerTar(decodeLayer(input.store.open(l.descriptor.digest), l.descriptor.mediaType), dir, { mode: 'merge' });
  }
}

export async function exportImage(spec: OutputSpec, input: ExportInput): Promise<ExportResult> {
  const id = `export:${spec.type}`;
  const t0 = Date.now();
  const names = spec.attrs?.name ? spec.attrs.name.split(/[, ]+/).filter(Boolean) : input.tags;
  // BuildKit's names for its exporters' progress vertices.
  const label = {
    image: 'exporting to image',
    oci: 'exporting to oci image format',
    docker: 'exporting to docker image format',
    local: 'copying files',
    tar: 'sending tarball',
    registry: `pushing ${names.join(', ')}`,
  }[spec.type];
  input.emit({ type: 'vertex.started', time: t0, id, name: label });
  try {
    const images = names.length > 0 ? names.map((name) => ({ name, target: input.manifest })) : [{ target: input.manifest }];
    const level = compressionLevel(spec);
    const status = (action: string, digest: string, current = 0, total?: number, done = false) =>
      input.emit({ type: 'vertex.status', time: Date.now(), id, status: `${action} ${shortId(digest)}`, current, ...(total !== undefined ? { total } : {}), ...(done ? { done } : {}) });
    let written: Descriptor | undefined;
    const push = async () => {
      if (names.length === 0) throw new JettisonError('USAGE', 'pushing needs a name: use -t NAME:TAG (or -o type=registry,name=…)');
      const { pushImage } = await import('../registry/index.ts');
      for (const name of names) {
        const r = await pushImage(name, {
          store: input.store,
          target: input.manifest,
          config: await input.registryConfig(),
          compression: outputCompression(spec),
          ...(level !== undefined ? { compressionLevel: level } : {}),
          onProgress: (e) => status(e.action, e.id, e.current, e.total, e.action === 'done'),
        });
        written = { mediaType: r.mediaType, digest: r.digest, size: r.size };
      }
    };
    switch (spec.type) {
      case 'image':
        if (spec.attrs?.push === 'true') await push();
        break;
      case 'oci': {
        const target = await convertImage(input.store, input.manifest, outputCompression(spec), {
          ...(level !== undefined ? { level } : {}),
          onLayer: (l, r) => status(r.reused ? 'reusing compressed' : 'compressed', l.digest),
        });
        const oci = images.map((img) => ({ ...img, target }));
        if (spec.attrs?.tar === 'false') await writeOciLayoutDir(input.store, oci, resolve(input.cwd, spec.dest!));
        else await toDest(spec.dest!, input, (out) => writeOciLayoutTar(input.store, oci, out, { end: false }));
        written = target;
        break;
      }
      case 'docker':
        await toDest(spec.dest!, input, (out) => writeDockerArchive(input.store, images, out, { end: false }));
        break;
      case 'local':
        await unpackInto(input, resolve(input.cwd, spec.dest!));
        break;
      case 'tar': {
        const tmp = await mkdtemp(join(input.worker.stateDir, 'export-'));
        try {
          await unpackInto(input, tmp);
          await toDest(spec.dest!, input, async (out) => {
            const tar = writeLayerTar({ type: 'dir', dir: tmp });
            tar.pipe(out, { end: false });
            await finished(tar);
          });
        } finally {
          await rm(tmp, { recursive: true, force: true });
        }
        break;
      }
      case 'registry':
        await push();
        break;
    }
    input.emit({ type: 'vertex.done', time: Date.now(), id, durationMs: Date.now() - t0 });
    return { type: spec.type, ...(spec.dest ? { dest: spec.dest } : {}), names, ...(written && written.digest !== input.manifest.digest ? { descriptor: written } : {}) };
  } catch (err) {
    input.emit({ type: 'vertex.error', time: Date.now(), id, error: (err as Error).message, canceled: false });
    throw err;
  }
}
