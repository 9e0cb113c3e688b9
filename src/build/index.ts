/**
 * The build engine's public surface: build() and its options and results, the output specs, and the
 * COPY/ADD file semantics (used by tests and by tools that want BuildKit's copy rules).
 */
export { build, type BuildOptions, type BuildResult, type SecretSpec } from './engine.ts';
export { parseOutput, type OutputSpec, type OutputType, type ExportResult } from './outputs.ts';
export { executeCopy, copyDigest, planCopy, CopyError, type CopyRequest, type CopySource, type CopyEntry } from './copy.ts';
export { StepError } from './execute.ts';
export { cekitBuild, type CekitBuildOptions, type CekitBuildResult } from './cekit.ts';
