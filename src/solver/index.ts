/**
 * The solver's public surface: build a graph of content-addressed operations (vertex()), solve it
 * with bounded parallelism (solve()), and keep results in the persistent build cache (BuildCache,
 * solverCache()). See vertex.ts for how cache keys are derived.
 */
export type { JsonObject, JsonValue } from './canonical.ts';
export { canonicalJSON, canonicalDigest } from './canonical.ts';
export type {
  Op,
  OpKind,
  ImageOp,
  ScratchOp,
  ContextOp,
  ExecOp,
  FileOp,
  ConfigOp,
  MergeOp,
  Mount,
  BindMount,
  CacheMount,
  TmpfsMount,
  SecretMount,
  SshMount,
  FileAction,
  CopyAction,
  MkdirAction,
  MkfileAction,
  RmAction,
} from './ops.ts';
export { validateOp } from './ops.ts';
export {
  vertex,
  keyOf,
  topologicalOrder,
  KEY_VERSION,
  type Vertex,
  type VertexSpec,
  type StepInfo,
  type ContentDigest,
  type KeyComponents,
} from './vertex.ts';
export {
  solve,
  defaultJobs,
  SolveFailure,
  type SolveOptions,
  type SolveReport,
  type SolveStats,
  type SolverCache,
  type SolverEvent,
  type ExecuteContext,
  type VertexStatus,
  type LogStream,
} from './solve.ts';
export {
  BuildCache,
  solverCache,
  listingDir,
  cacheBlobRoots,
  parseRecord,
  type CacheRecord,
  type CachedResult,
  type LayerResult,
  type MissExplanation,
  type BuildCacheOptions,
  type SolverCacheOptions,
} from './cache.ts';
export { compareWithRecord, type Comparison, type FileChanges } from './explain.ts';
export { ListingWriter, keepListing } from './listing.ts';
export { registerCacheGcRoots } from './gc-roots.ts';
