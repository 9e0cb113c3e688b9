/**
 * `build()`: the library's main entry, what `jettison build` is a shell over.
 *
 *   context → Dockerfile → plan (frontend) → base images resolved (store, else pulled) → graph of
 *   content-addressed vertices → solve (parallel, cached) on the worker → image (config, manifest) in
 *   the store → outputs (store tags, OCI layout, docker archive, local dir, tar, registry).
 *
 * Progress goes out as ProgressEvents (src/progress renders them). Every failure leaves the store and
 * the cache consistent: blobs and cache records are only ever written whole, refs last.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { JettisonError } from '../errors.ts';
import { parseDockerfile, planBuild, type BuildPlan, type Step } from '../frontend/dockerfile/index.ts';
import { createImageConfig } from '../image/config.ts';
import { shortId } from '../image/digest.ts';
import { formatPlatform, hostPlatform, parsePlatform, platformMatches } from '../image/platform.ts';
import { normalizeReference } from '../image/reference.ts';
import type { Descriptor, HistoryEntry, ImageConfig, Platform } from '../image/types.ts';
import type { ProgressEvent, StageSize } from '../progress/index.ts';
import { fromSolverEvent } from '../progress/index.ts';
import type { RegistryConfig } from '../registry/index.ts';
import { BuildCache, defaultJobs, listingDir, registerCacheGcRoots, solve, solverCache, SolveFailure, type CachedResult, type Vertex } from '../solver/index.ts';
import { compressLayers, openStore, readImage, writeImage } from '../store/index.ts';
import type { LocalStore } from '../store/index.ts';
import { createWorker, layerDirs, type Worker } from '../worker/index.ts';
import { resolveInRoot } from '../context/scoped-path.ts';
import { openContext, parseGitUrl, type BuildContext } from '../context/source.ts';
import { buildGraph, historyOf, type ResolvedImage, type StageState } from './graph.ts';
import { createExecutor, madeAt, madeBy } from './execute.ts';
import { exportImage, type OutputSpec, type ExportResult } from './outputs.ts';
import { ContextHashCache } from './hash-cache.ts';

export interface SecretSpec {
  id: string;
  /** A file to read the value from. */
  src?: string;
  /** An environment variable to read the value from. */
  env?: string;
}

export interface BuildOptions {
  /** The context: a directory, "-" (a tar on `stdin`), or a git URL. */
  context: string;
  /** The Dockerfile: a path (relative to cwd), "-" for stdin; default <context>/Dockerfile. */
  dockerfile?: string;
  /** Dockerfile text given directly (CEKit, programs); wins over `dockerfile`. */
  dockerfileText?: string;
  /** Name used in messages for dockerfileText. */
  dockerfileName?: string;
  cwd?: string;
  stdin?: Readable;
  env?: NodeJS.ProcessEnv;
  /** Store root (else $JETTISON_ROOT, else the per-user default). */
  root?: string;
  store?: LocalStore;
  target?: string;
  buildArgs?: Record<string, string>;
  tags?: string[];
  labels?: Record<string, string>;
  noCache?: boolean;
  noCacheFilter?: string[];
  /** Always pull base images, even when the store has them. */
  pull?: boolean;
  /** The default network of RUN steps (BuildKit's default: the host's). */
  network?: 'host' | 'none';
  secrets?: SecretSpec[];
  /** --build-context NAME=PATH | NAME=docker-image://REF */
  buildContexts?: Record<string, string>;
  /** Target platform; only the host's is supported. */
  platform?: string;
  jobs?: number;
  outputs?: OutputSpec[];
  registry?: { insecureRegistries?: string[]; registryMirrors?: string[] };
  runtime?: string;
  /**
   * How the build's layers are stored (default none: uncompressed, as BuildKit in dockerd keeps them;
   * pushes and OCI exports compress). gzip or zstd also compresses uncompressed layers the image
   * reuses (cache hits, imported bases), as BuildKit's image exporter does.
   */
  compression?: 'gzip' | 'zstd' | 'none';
  /** Squash the layers the final stage adds on top of its base into one (CEKit's default). */
  squash?: boolean;
  onEvent?: (e: ProgressEvent) => void;
  signal?: AbortSignal;
}

export interface BuildResult {
  /** The image ID: the config digest, as `docker images` shows it. */
  imageId: string;
  manifest: Descriptor;
  config: ImageConfig;
  /** Fully qualified names tagged in the store. */
  tags: string[];
  /** Size of the final image and of each stage built (jettisoned = not part of the final image). */
  stages: StageSize[];
  /** Stages of the Dockerfile the target did not need, with the reason. */
  skipped: { index: number; name: string | null; reason: string }[];
  exported: ExportResult[];
  durationMs: number;
  /** The plan that was built. */
  plan: BuildPlan;
  /** Steps that ran and were cached. */
  stats: { ran: number; cached: number };
}

async function readSecrets(specs: SecretSpec[], env: NodeJS.ProcessEnv, cwd: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const s of specs) {
    if (s.env !== undefined) {
      const v = env[s.env];
      if (v === undefined) throw new JettisonError('SECRET', `secret ${s.id}: environment variable ${s.env} is not set`);
      out.set(s.id, Buffer.from(v));
    } else {
      const file = resolve(cwd, s.src ?? s.id);
      try {
        out.set(s.id, await readFile(file));
      } catch {
        throw new JettisonError('SECRET', `secret ${s.id}: cannot read ${s.src ?? s.id}`);
      }
    }
  }
  return out;
}

export async function build(opts: BuildOptions): Promise<BuildResult> {
  const started = Date.now();
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const emit = (e: ProgressEvent) => opts.onEvent?.(e);
  emit({ type: 'build.started', time: started });

  const platform: Platform = hostPlatform();
  if (opts.platform) {
    const want = parsePlatform(opts.platform);
    if (!platformMatches(want, platform)) {
      throw new JettisonError('PLATFORM', `platform ${formatPlatform(want)} is not supported: jettison builds for the host platform (${formatPlatform(platform)}) only`);
    }
  }

  const store = opts.store ?? openStore(opts.root, env);
  const unregisterRoots = registerCacheGcRoots();
  const contexts = new Map<string, BuildContext>();
  let worker: Worker | undefined;
  try {
    // 1. The Dockerfile and the context.
    let dockerfileText: string;
    let dockerfileName: string;
    let dockerfilePath: string | undefined;
    // A tar on stdin or a git URL is unpacked into a fresh temporary directory: -f names a file in it, and
    // its file digests are not worth remembering (the next build's directory is another one).
    const unpackedContext = opts.context === '-' || parseGitUrl(opts.context) !== undefined;
    const stdinText = async () => {
      if (!opts.stdin) throw new JettisonError('USAGE', 'no standard input to read the Dockerfile from');
      const chunks: Buffer[] = [];
      for await (const c of opts.stdin) chunks.push(Buffer.from(c as Buffer));
      return Buffer.concat(chunks).toString('utf8');
    };
    if (opts.dockerfileText !== undefined) {
      dockerfileText = opts.dockerfileText;
      dockerfileName = opts.dockerfileName ?? 'Dockerfile';
    } else if (opts.dockerfile === '-') {
      dockerfileText = await stdinText();
      dockerfileName = 'Dockerfile';
    } else {
      // With a tar on stdin or a git URL as the context, -f names a file inside it (as docker build and
      // buildx read it); with a directory, a path relative to the working directory.
      dockerfilePath = opts.dockerfile && !unpackedContext ? resolve(cwd, opts.dockerfile) : undefined;
      dockerfileName = opts.dockerfile ?? 'Dockerfile';
      dockerfileText = ''; // read below, once the context is known
    }
    const unpackTar = async (into: string) => {
      if (!opts.stdin) throw new JettisonError('USAGE', 'no standard input to read the context from');
      const { applyLayerTar } = await import('../image/tar/index.ts');
      await applyLayerTar(opts.stdin, into, { mode: 'merge', sameOwner: false });
    };
    const inContextDockerfile = unpackedContext && opts.dockerfile && opts.dockerfile !== '-' ? opts.dockerfile : undefined;
    const main = await openContext(opts.context, { cwd, ...(dockerfilePath ? { dockerfile: dockerfilePath } : inContextDockerfile ? { dockerfile: inContextDockerfile } : {}), unpackTar });
    contexts.set('context', main);
    if (opts.dockerfileText === undefined && opts.dockerfile !== '-') {
      try {
        // A directory context's Dockerfile is read on the host, as docker's client reads it (a symlink to
        // ../common/Dockerfile works). Inside a tar or git context the name is resolved in its root, so a
        // symlink cannot point out of it.
        const name = opts.dockerfile ?? 'Dockerfile';
        const path = dockerfilePath ?? (unpackedContext ? await resolveInRoot(main.root, name) : join(main.root, name));
        dockerfileText = await readFile(path, 'utf8');
      } catch {
        throw new JettisonError('DOCKERFILE_NOT_FOUND', `failed to read dockerfile: open ${opts.dockerfile ?? 'Dockerfile'}: no such file or directory`);
      }
    }

    // 2. Plan.
    const df = parseDockerfile(dockerfileText, { file: dockerfileName });
    const plan = planBuild(df, { ...(opts.target ? { target: opts.target } : {}), buildArgs: opts.buildArgs ?? {}, namedContexts: Object.keys(opts.buildContexts ?? {}) });
    for (const arg of plan.unusedBuildArgs) {
      emit({ type: 'warning', time: Date.now(), message: `build argument ${arg} was not consumed (no ARG ${arg} in the stages built)` });
    }

    // Named contexts.
    const named = new Map<string, { kind: 'dir'; name: string } | { kind: 'image'; ref: string }>();
    for (const [name, value] of Object.entries(opts.buildContexts ?? {})) {
      if (value.startsWith('docker-image://')) named.set(name, { kind: 'image', ref: value.slice('docker-image://'.length) });
      else {
        const c = await openContext(value, { cwd });
        contexts.set(name, c);
        named.set(name, { kind: 'dir', name });
      }
    }

    // 3. Base images: the store, else the registry (through mirrors), once per reference.
    // The registry client is loaded only when a build pulls or pushes (it costs startup time otherwise).
    let registryConfigP: Promise<RegistryConfig> | undefined;
    const registryConfig = (): Promise<RegistryConfig> =>
      (registryConfigP ??= import('../registry/index.ts').then((r) => r.resolveRegistryConfig(opts.registry ?? {}, env)));
    const resolved = new Map<string, Promise<ResolvedImage>>();
    const resolveImage = (ref: string): Promise<ResolvedImage> => {
      let name: string;
      try {
        name = normalizeReference(ref);
      } catch (err) {
        throw new JettisonError('BAD_REFERENCE', `failed to parse stage name "${ref}": ${(err as Error).message}`);
      }
      let p = resolved.get(name);
      if (!p) {
        p = (async () => {
          const id = `metadata:${name}`;
          const t0 = Date.now();
          emit({ type: 'vertex.started', time: t0, id, name: `[internal] load metadata for ${name}` });
          try {
            let image = opts.pull ? undefined : await readImage(store, name, platform).catch(() => undefined);
            if (!image) {
              const { pullImage } = await import('../registry/index.ts');
              await pullImage(name, {
                store,
                config: await registryConfig(),
                platform,
                onProgress: (e) => emit({ type: 'vertex.status', time: Date.now(), id, status: `${e.action} ${shortId(e.id)}`, current: e.current, total: e.total, ...(e.action === 'done' ? { done: true } : {}) }),
              });
              image = await readImage(store, name, platform);
            }
            emit({ type: 'vertex.done', time: Date.now(), id, durationMs: Date.now() - t0 });
            return { name, manifest: image.manifestDescriptor, config: image.config, layers: image.manifest.layers };
          } catch (err) {
            emit({ type: 'vertex.error', time: Date.now(), id, error: (err as Error).message, canceled: false });
            throw err;
          }
        })();
        resolved.set(name, p);
      }
      return p;
    };

    const hashCache = unpackedContext ? undefined : await ContextHashCache.open(store.root, main.root);
    const graph = await buildGraph({
      plan,
      platform,
      contexts,
      resolveImage,
      namedContext: (n) => named.get(n),
      ...(hashCache ? { hashCache } : {}),
      listingDir: listingDir(store.root),
      scope: dockerfilePath ?? dockerfileName,
    });
    await hashCache?.save();

    // 4. Solve.
    worker = await createWorker({ root: store.root, env, ...(opts.runtime ? { runtime: opts.runtime } : {}) });
    if (worker.snapshotter !== 'overlay') {
      emit({ type: 'warning', time: Date.now(), message: `using the ${worker.snapshotter} snapshotter: ${worker.snapshotterReason}` });
    }
    const stepByKey = new Map<string, { step: Step; stage: StageState }>();
    for (const st of graph.stages.values()) {
      st.lowered.steps.forEach((s, i) => {
        const v = st.stepVertices[i];
        if (v) stepByKey.set(v.key, { step: s, stage: st });
      });
    }
    const describe = (v: Vertex): string => {
      const hit = stepByKey.get(v.key);
      if (!hit) return v.name;
      return `${hit.step.location.file}:${hit.step.location.line}: ${v.name}`;
    };
    const cache = new BuildCache(store.root);
    const execute = createExecutor({
      store,
      worker,
      contexts,
      contextOf: graph.contextOf,
      secrets: await readSecrets(opts.secrets ?? [], env, cwd),
      network: opts.network ?? 'host',
      compression: opts.compression ?? 'none',
      ...(env.SOURCE_DATE_EPOCH ? { sourceDateEpoch: Number(env.SOURCE_DATE_EPOCH) } : {}),
      describe,
      stepOf: (v) => stepByKey.get(v.key)?.step,
    });
    const targets: Vertex[] = [graph.target.last];
    let report;
    try {
      report = await solve(targets, {
        execute,
        // BuildKit puts no limit on parallel steps; a generous default keeps independent stages concurrent.
        jobs: opts.jobs ?? Math.max(16, defaultJobs()),
        reportCachedChain: true,
        cache: solverCache(cache, {
          verify: async (result) => {
            for (const l of result.layers) if (!(await store.has(l.descriptor.digest))) return false;
            return true;
          },
        }),
        ...(opts.noCache ? { noCache: true } : {}),
        ...(opts.noCacheFilter?.length ? { noCacheFilter: opts.noCacheFilter.map((s) => s.toLowerCase()) } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
        onEvent: (e) => emit(fromSolverEvent(e)),
      });
    } catch (err) {
      if (err instanceof SolveFailure) {
        const cause = (err as Error & { cause?: unknown }).cause;
        const message = cause instanceof Error ? cause.message : err.message;
        throw new JettisonError(err.code === 'CANCELED' ? 'CANCELED' : 'BUILD_FAILED', message, { cause: err });
      }
      throw err;
    }
    const resultOf = (v: Vertex): CachedResult => {
      const r = report.results.get(v.key);
      if (!r) throw new JettisonError('BUILD', `internal: no result for ${v.name}`);
      return r;
    };

    // 5. The image.
    const target = graph.target;
    const finalResult = resultOf(target.last);
    let layers = finalResult.layers;
    const history = imageHistory(target, finalResult);
    if (opts.squash) {
      // Everything above the root image of the FROM chain becomes one layer; the history keeps every
      // entry, all marked empty but the last, which stands for the squashed layer.
      const baseCount = target.rootImage ? target.rootImage.layers.length : 0;
      const baseEntries = target.rootImage ? (target.rootImage.config.history ?? []).length : 0;
      if (layers.length - baseCount > 1) {
        const { squashLayers } = await import('./squash.ts');
        const base = layers.slice(0, baseCount);
        const baseDirs = await layerDirs(worker.stateDir, store, base.map((l) => l.descriptor), base.map((l) => l.diffID));
        const squashed = await squashLayers(store, worker, layers.slice(baseCount), opts.compression ?? 'none', baseDirs);
        layers = [...layers.slice(0, baseCount), squashed];
        for (let i = baseEntries; i < history.length; i++) history[i] = { ...history[i], empty_layer: true };
        const last = { ...history[history.length - 1], comment: 'squashed' };
        delete last.empty_layer;
        history[history.length - 1] = last;
      }
    }
    // The image's time is when its newest layer was made (so a fully cached rebuild gives the same image
    // ID, as BuildKit's does), or SOURCE_DATE_EPOCH when set.
    const newest = madeAt(finalResult).filter(Boolean).sort().pop();
    const created = env.SOURCE_DATE_EPOCH
      ? new Date(Number(env.SOURCE_DATE_EPOCH) * 1000).toISOString()
      : (newest ?? target.rootImage?.config.created ?? new Date(0).toISOString());
    for (const h of history) if (!h.created) h.created = created;
    const containerConfig = structuredClone(target.lowered.config);
    if (opts.labels && Object.keys(opts.labels).length > 0) containerConfig.Labels = { ...(containerConfig.Labels ?? {}), ...opts.labels };
    if (containerConfig.OnBuild && containerConfig.OnBuild.length === 0) containerConfig.OnBuild = null;
    const config = createImageConfig({
      platform,
      diffIDs: layers.map((l) => l.diffID),
      config: containerConfig,
      history,
      created,
      ...(target.lowered.author ? { author: target.lowered.author } : {}),
    });
    const tags = (opts.tags ?? []).map((t) => normalizeReference(t));
    if (opts.compression === 'gzip' || opts.compression === 'zstd') {
      // Asked-for compressed storage: layers that came uncompressed (cache, bases) are compressed too.
      const stored = await compressLayers(store, layers.map((l) => l.descriptor), opts.compression);
      layers = layers.map((l, i) => ({ ...l, descriptor: stored[i] }));
    }
    const written = await writeImage(store, config, layers.map((l) => l.descriptor));
    for (const t of tags) await store.setRef(t, written.manifest);

    // Sizes: the final image beside each stage that was thrown away.
    const stages: StageSize[] = [];
    for (const st of graph.stages.values()) {
      const r = report.results.get(st.last.key) ?? (await cache.get(st.last.key))?.result;
      if (!r) continue;
      const size = (st === target ? layers : r.layers).reduce((n, l) => n + l.descriptor.size, 0);
      stages.push({ name: st.name, size, jettisoned: st !== target, ...(st === target ? { final: true } : {}) });
    }
    for (const s of plan.skipped) {
      stages.push({ name: plan.stages[s.stage].name ?? `stage-${s.stage}`, size: 0, jettisoned: true, skipped: s.reason });
    }

    // 6. Outputs.
    const exported: ExportResult[] = [];
    const outputs = opts.outputs ?? [{ type: 'image' }];
    for (const out of outputs) {
      exported.push(await exportImage(out, { store, worker, manifest: written.manifest, config, layers, tags, registryConfig, cwd, emit }));
    }
    await store.releaseLease();
    const durationMs = Date.now() - started;
    const imageSize = layers.reduce((n, l) => n + l.descriptor.size, 0);
    emit({ type: 'build.done', time: Date.now(), durationMs, image: { id: written.config.digest, size: imageSize }, stages });
    return {
      imageId: written.config.digest,
      manifest: written.manifest,
      config,
      tags,
      stages,
      skipped: plan.skipped.map((s) => ({ index: s.stage, name: plan.stages[s.stage].name, reason: s.reason })),
      exported,
      durationMs,
      plan,
      stats: { ran: report.stats.ran, cached: report.stats.cached },
    };
  } catch (err) {
    emit({ type: 'build.done', time: Date.now(), durationMs: Date.now() - started, error: (err as Error).message });
    throw err;
  } finally {
    unregisterRoots();
    if (worker) await worker.close().catch(() => undefined);
    for (const c of contexts.values()) await c.close().catch(() => undefined);
  }
}

/**
 * The final image's history: the root image's entries, then one per step of each stage of the FROM
 * chain, with empty_layer where a step made no layer (metadata steps, and RUN/COPY that changed nothing).
 */
function imageHistory(target: StageState, final: CachedResult): HistoryEntry[] {
  const chain: StageState[] = [];
  for (let st: StageState | undefined = target; st; st = st.parent) chain.unshift(st);
  const made = new Set(madeBy(final));
  const out: HistoryEntry[] = (chain[0].rootImage?.config.history ?? []).map((h) => ({ ...h }));
  for (const st of chain) {
    out.push(...historyOf(st.lowered.steps, (i) => {
      const v = st.stepVertices[i];
      return v !== undefined && !made.has(v.key);
    }));
  }
  return out;
}
