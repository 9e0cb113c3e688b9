/**
 * Typed Dockerfile instructions: what the validator (parse.ts) makes of the parser's syntax tree.
 * Plain JSON-serialisable data. Values are as written (no variable expansion yet), except where a
 * field says otherwise; the stage planner (../stages) expands them.
 */

/** Where an instruction is: 1-based line range and keyword column. */
export interface SourceLocation {
  file: string;
  line: number;
  endLine: number;
  column: number;
}

interface Common {
  /** Keyword as written (RUN, run, Run…). */
  keyword: string;
  location: SourceLocation;
  /** The instruction as written, continuations joined. */
  original: string;
}

export interface KeyValue {
  key: string;
  value: string;
  /** True for the legacy `ENV key value` form (no "="). */
  legacy: boolean;
}

export interface ArgDefinition {
  key: string;
  /** The default as written, null when the ARG has none. */
  value: string | null;
}

/** An inline file from a heredoc. */
export interface InlineFile {
  name: string;
  /** Body as written (not chomped, not expanded). */
  data: string;
  /** False when the delimiter was quoted: no expansion. */
  expand: boolean;
  /** True for <<-: leading tabs of each line are to be stripped (see chompHeredocContent). */
  chomp: boolean;
}

export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
export type CacheSharing = 'shared' | 'private' | 'locked';

/** One RUN --mount, with BuildKit's defaults applied. */
export interface MountSpec {
  type: MountType;
  /** Stage name, stage index or image reference the mount reads from (bind, cache). */
  from: string | null;
  source: string | null;
  target: string | null;
  readonly: boolean;
  /** Cache id, secret id or ssh id. */
  id: string | null;
  /** For cache mounts: the sharing mode (default shared). */
  sharing: CacheSharing | null;
  required: boolean;
  /** File mode (octal in the Dockerfile). */
  mode: number | null;
  uid: number | null;
  gid: number | null;
  /** Secret mounts: also expose the secret as this environment variable. */
  env: string | null;
  /** Tmpfs size limit in bytes. */
  size: number | null;
}

export interface FromInstruction extends Common {
  kind: 'from';
  /** The base as written (may hold ARG references). */
  image: string;
  /** Stage name, lower-cased; null when there is no AS. */
  name: string | null;
  /** Stage name as written. */
  nameRaw: string | null;
  /** The AS keyword as written. */
  asKeyword: string | null;
  /** --platform as written. */
  platform: string | null;
}

export interface ArgInstruction extends Common {
  kind: 'arg';
  args: ArgDefinition[];
}

export interface EnvInstruction extends Common {
  kind: 'env';
  pairs: KeyValue[];
}

export interface LabelInstruction extends Common {
  kind: 'label';
  pairs: KeyValue[];
}

export type NetworkMode = 'default' | 'none' | 'host';
export type SecurityMode = 'sandbox' | 'insecure';

export interface RunInstruction extends Common {
  kind: 'run';
  /** Shell form: one string (run through the shell); exec form: the argv. */
  command: string[];
  /** True for the shell form (the SHELL is prepended). */
  shell: boolean;
  files: InlineFile[];
  /** Mounts as far as they can be checked before expansion (values holding $ are kept as written). */
  mounts: MountSpec[];
  /** The --mount values as written (the planner parses them again after expansion). */
  mountsRaw: string[];
  network: NetworkMode;
  security: SecurityMode;
  /** Flags as written (for history). */
  flags: string[];
}

export interface CmdInstruction extends Common {
  kind: 'cmd';
  command: string[];
  shell: boolean;
}

export interface EntrypointInstruction extends Common {
  kind: 'entrypoint';
  command: string[];
  shell: boolean;
}

interface CopyCommon extends Common {
  /** Source paths (context or stage paths, URLs for ADD). */
  sources: string[];
  /** Sources given as heredocs. */
  contents: InlineFile[];
  dest: string;
  chown: string | null;
  chmod: string | null;
  link: boolean;
  exclude: string[];
}

export interface CopyInstruction extends CopyCommon {
  kind: 'copy';
  /** --from as written: a stage name, a stage index or an image reference. */
  from: string | null;
  parents: boolean;
}

export interface AddInstruction extends CopyCommon {
  kind: 'add';
  keepGitDir: boolean;
  checksum: string | null;
  /** --unpack: null when not given (archives from the context unpack, URLs do not). */
  unpack: boolean | null;
}

export interface WorkdirInstruction extends Common {
  kind: 'workdir';
  path: string;
}

export interface UserInstruction extends Common {
  kind: 'user';
  user: string;
}

export interface ExposeInstruction extends Common {
  kind: 'expose';
  ports: string[];
}

export interface VolumeInstruction extends Common {
  kind: 'volume';
  paths: string[];
}

export interface StopsignalInstruction extends Common {
  kind: 'stopsignal';
  signal: string;
}

/** Healthcheck settings in the image-config shape; durations in nanoseconds, 0 = inherit. */
export interface HealthSettings {
  test: string[];
  interval: number;
  timeout: number;
  startPeriod: number;
  startInterval: number;
  retries: number;
}

export interface HealthcheckInstruction extends Common {
  kind: 'healthcheck';
  health: HealthSettings;
}

export interface ShellInstruction extends Common {
  kind: 'shell';
  shell: string[];
}

export interface MaintainerInstruction extends Common {
  kind: 'maintainer';
  maintainer: string;
}

export interface OnbuildInstruction extends Common {
  kind: 'onbuild';
  /** The trigger as stored in the image config (OnBuild). */
  expression: string;
  /** The trigger, validated. */
  trigger: Command;
}

/** Any instruction inside a stage. */
export type Command =
  | ArgInstruction
  | EnvInstruction
  | LabelInstruction
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | CopyInstruction
  | AddInstruction
  | WorkdirInstruction
  | UserInstruction
  | ExposeInstruction
  | VolumeInstruction
  | StopsignalInstruction
  | HealthcheckInstruction
  | ShellInstruction
  | MaintainerInstruction
  | OnbuildInstruction;

export type TypedInstruction = FromInstruction | Command;

/** A stage as written: its FROM and its commands. */
export interface StageSyntax {
  index: number;
  from: FromInstruction;
  commands: Command[];
}

/** A Dockerfile after validation: ARGs before the first FROM, then the stages. */
export interface TypedDockerfile {
  file: string;
  escapeToken: '\\' | '`';
  metaArgs: ArgInstruction[];
  stages: StageSyntax[];
}
