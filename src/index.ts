/**
 * jettison's library API. Every CLI command is a thin shell over what is exported here.
 */
export * from './errors.ts';
export * from './image/types.ts';
export type { ContentStore, RefRecord, ExpectedContent } from './store/types.ts';
export type * from './frontend/dockerfile/parser/ast.ts';
export * from './registry/index.ts';
export * from './frontend/dockerfile/index.ts';
export * from './solver/index.ts';
export * from './progress/index.ts';
export * from './image/reference.ts';
export * from './image/platform.ts';
export * from './image/manifest.ts';
export * from './image/config.ts';
export * from './store/index.ts';
export * from './exporter/index.ts';
export {
  createWorker,
  commitChanges,
  layerDirs,
  resolveUser,
  resolveUserFrom,
  type Worker,
  type WorkerOptions,
  type ProcessSpec,
  type ExecOptions,
  type ExecResult,
  type Commit,
  type Snapshot,
  type SnapshotterName,
  type Change,
  type Runtime,
  type ResolvedUser,
  type MountSpec as WorkerMountSpec,
  type NetworkMode as WorkerNetworkMode,
} from './worker/index.ts';
export * from './build/index.ts';
export { openContext, parseGitUrl, type BuildContext, type GitSource } from './context/source.ts';
export { PatternMatcher, parseIgnoreFile } from './context/patterns.ts';
export * as cekit from './frontend/cekit/index.ts';
