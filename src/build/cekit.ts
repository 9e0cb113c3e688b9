/**
 * `cekitBuild()`: builds the image a CEKit descriptor describes, what `jettison cekit build` runs.
 *
 *   descriptor (+ overrides, modules) → generate() (src/frontend/cekit) → the build context written and
 *   every artifact fetched and verified (prepareContext) → build() with that Dockerfile and context,
 *   the final image's own layers squashed unless `squash: false` → tags (default name:version and
 *   name:latest, as CEKit) → the context removed.
 *
 * Nothing is built before every artifact has been verified: a checksum mismatch fails in preparation.
 * The context lives in `<root>/cekit/contexts/<key>/context` (one directory per descriptor path, held
 * under an exclusive lock while it is in use, removed afterwards) unless `contextDir` names a directory
 * to write it to and keep.
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { generate, prepareContext, type GenerateResult, type OverrideSource } from '../frontend/cekit/index.ts';
import type { ProgressEvent } from '../progress/index.ts';
import { resolveRoot } from '../store/index.ts';
import { lockExclusive } from '../util/lock.ts';
import { build, type BuildOptions, type BuildResult } from './engine.ts';

export interface CekitBuildOptions
  extends Omit<BuildOptions, 'context' | 'dockerfile' | 'dockerfileText' | 'dockerfileName' | 'stdin' | 'target' | 'buildContexts' | 'squash'> {
  /** The image descriptor (relative to cwd). */
  descriptor: string;
  /** Overrides, applied in order (files relative to cwd). */
  overrides?: OverrideSource[];
  /** Squash the final image's own layers into one on its base (default true, as CEKit). */
  squash?: boolean;
  /** Write the build context to this directory and keep it (default: a private directory, removed after). */
  contextDir?: string;
  /** Tags; default: the final image's name:version and name:latest. */
  tags?: string[];
}

export interface CekitBuildResult extends BuildResult {
  /** The generated Dockerfile that was built. */
  dockerfile: string;
  /** Descriptor warnings (also sent as `warning` progress events). */
  warnings: string[];
  /** Whether the final image's own layers were squashed. */
  squash: boolean;
}

const PREPARE_ID = 'cekit:context';

/** Builds a CEKit descriptor; see the file comment. */
export async function cekitBuild(opts: CekitBuildOptions): Promise<CekitBuildResult> {
  const started = Date.now();
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const root = opts.store?.root ?? resolveRoot({ ...(opts.root ? { root: opts.root } : {}), cwd }, env);
  const emit = (e: ProgressEvent) => opts.onEvent?.(e);
  const descriptor = resolve(cwd, opts.descriptor);
  emit({ type: 'build.started', time: started });

  let generated: GenerateResult;
  let contextDir: string | undefined;
  let release: (() => Promise<void>) | undefined;
  const t0 = Date.now();
  emit({ type: 'vertex.started', time: t0, id: PREPARE_ID, name: `[cekit] generate ${basename(descriptor)} and fetch artifacts` });
  try {
    generated = await generate(descriptor, {
      overrides: (opts.overrides ?? []).map((o) => ('file' in o ? { file: resolve(cwd, o.file) } : o)),
      squash: opts.squash ?? true,
      cacheDir: join(root, 'cekit'),
      displayRoot: cwd,
    });
    for (const w of generated.warnings) emit({ type: 'warning', time: Date.now(), message: w });
    if (opts.contextDir !== undefined) {
      contextDir = resolve(cwd, opts.contextDir);
    } else {
      const key = createHash('sha256').update(descriptor).digest('hex').slice(0, 16);
      const home = join(root, 'cekit', 'contexts', key);
      const lock = await lockExclusive(join(home, 'lock'));
      release = () => lock.release();
      contextDir = join(home, 'context');
      await rm(contextDir, { recursive: true, force: true });
    }
    await prepareContext(generated, contextDir, { root });
    emit({ type: 'vertex.done', time: Date.now(), id: PREPARE_ID, durationMs: Date.now() - t0 });
  } catch (err) {
    const message = (err as Error).message;
    emit({ type: 'vertex.error', time: Date.now(), id: PREPARE_ID, error: message, canceled: false });
    emit({ type: 'build.done', time: Date.now(), durationMs: Date.now() - started, error: message });
    await cleanup(release, opts.contextDir === undefined ? contextDir : undefined);
    throw err;
  }

  try {
    const { descriptor: _d, overrides: _o, contextDir: _c, squash: _s, ...rest } = opts;
    const result = await build({
      ...rest,
      context: contextDir!,
      cwd,
      dockerfileText: generated.dockerfile,
      dockerfileName: opts.contextDir !== undefined ? relative(cwd, join(contextDir!, 'Dockerfile')) : `${relative(cwd, descriptor)}.Dockerfile`,
      tags: opts.tags?.length ? opts.tags : generated.tags,
      squash: generated.squash,
      // build.started went out above, before the preparation.
      onEvent: (e) => {
        if (e.type !== 'build.started') emit(e);
      },
    });
    return { ...result, dockerfile: generated.dockerfile, warnings: generated.warnings, squash: generated.squash };
  } finally {
    await cleanup(release, opts.contextDir === undefined ? contextDir : undefined);
  }
}

async function cleanup(release: (() => Promise<void>) | undefined, dir: string | undefined): Promise<void> {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  await release?.();
}
