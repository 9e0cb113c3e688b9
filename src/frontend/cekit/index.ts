/**
 * The CEKit frontend: CEKit image descriptors (YAML, with modules, artifacts, packages and
 * overrides) → the Dockerfile they mean plus its build context, for the Dockerfile frontend and the
 * build engine to build.
 */
export { generate, prepareContext, type GenerateOptions, type GenerateResult, type PrepareOptions } from './generate.ts';
export { defaultTags, type CekitPlan, type ContextFile, type OverrideSource } from './plan.ts';
export { ArtifactCache, type CacheEntry } from './artifacts.ts';
export { compareVersions } from './version.ts';
