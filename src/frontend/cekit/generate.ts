/**
 * The CEKit frontend's entry points: `generate` (descriptor + overrides → the Dockerfile, the files
 * its build context must hold, warnings, tags and the squash choice) and `prepareContext` (writes
 * that build context: the Dockerfile, module directories, fetched and verified artifacts, package
 * repository files). Every artifact is verified before prepareContext returns, so a checksum
 * mismatch stops the build before anything is built.
 */
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { JettisonError } from '../../errors.ts';
import { ArtifactCache, downloadTo, fetchArtifactFile, describeArtifact } from './artifacts.ts';
import { cloneGit } from './modules.ts';
import { planDescriptor, type CekitPlan, type ContextFile, type PlanOptions } from './plan.ts';
import { renderDockerfile } from './render.ts';

export interface GenerateOptions extends PlanOptions {}

export interface GenerateResult {
  dockerfile: string;
  /** Files the build context holds, at the paths the Dockerfile's COPY lines use. */
  contextFiles: ContextFile[];
  warnings: string[];
  /** Squash the final image's own layers into one on top of its base (the build engine does it). */
  squash: boolean;
  /** name:version and name:latest of the final image. */
  tags: string[];
  plan: CekitPlan;
}

/** Reads a CEKit descriptor (and overrides, modules) and returns the Dockerfile it means. */
export async function generate(descriptorPath: string, opts: GenerateOptions = {}): Promise<GenerateResult> {
  const plan = await planDescriptor(descriptorPath, opts);
  return {
    dockerfile: renderDockerfile(plan),
    contextFiles: plan.contextFiles,
    warnings: plan.warnings,
    squash: plan.squash,
    tags: plan.tags,
    plan,
  };
}

export interface PrepareOptions {
  /** The jettison root: the artifact cache is `<root>/cekit/artifacts`. */
  root: string;
  /** Where git repositories are cloned (default `<root>/cekit`). */
  cacheDir?: string;
}

async function copyTree(src: string, dest: string): Promise<void> {
  await cp(src, dest, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (s) => !s.split('/').includes('.git'),
  });
}

/** Writes the build context for a generated descriptor into `dir` (created if needed). */
export async function prepareContext(result: GenerateResult, dir: string, opts: PrepareOptions): Promise<void> {
  const cache = new ArtifactCache(opts.root);
  await mkdir(dir, { recursive: true });
  for (const top of ['modules', 'artifacts', 'repos']) await rm(join(dir, top), { recursive: true, force: true });
  for (const f of result.contextFiles) {
    const dest = join(dir, f.path);
    await mkdir(dirname(dest), { recursive: true });
    switch (f.kind) {
      case 'module':
        await copyTree(f.source, dest);
        break;
      case 'repository':
        await downloadTo(f.url, dest, `package repository '${f.name}'`);
        break;
      case 'artifact': {
        const a = f.artifact;
        if (a.kind === 'git') {
          const clone = await cloneGit(a.url, a.ref, opts.cacheDir ?? join(opts.root, 'cekit'), describeArtifact(a));
          await copyTree(clone, dest);
        } else if (a.kind === 'path' && f.directory) {
          await copyTree(a.path, dest);
        } else if (a.kind === 'image') {
          throw new JettisonError('CEKIT_ARTIFACT', `${describeArtifact(a)}: image content artifacts are not context files`);
        } else {
          await fetchArtifactFile(a, dest, cache);
        }
        break;
      }
    }
  }
  await writeFile(join(dir, 'Dockerfile'), result.dockerfile);
}
