/**
 * The stage graph and build plan of a Dockerfile (BuildKit's dockerfile2llb semantics, no I/O).
 *
 * Meta ARGs (before the first FROM) are resolved against the build args and the automatic
 * platform args; FROM lines are expanded with them. A base is `scratch`, an earlier stage (by its
 * lower-case name) or an image reference. Edges come from FROM <stage>, COPY/ADD --from, RUN
 * --mount from= and ONBUILD triggers of a base stage. For the target (default: the last stage) the
 * plan lists the stages it needs in dependency order, grouped into levels that can run in
 * parallel, and the stages it skips.
 *
 * Data model (JSON-serialisable):
 *   BuildPlan { file, escapeToken, platform: { build, target }, buildArgs, globalArgs,
 *               metaArgs[], stages: PlannedStage[], target, build[], levels[][], skipped[],
 *               unusedBuildArgs[] }
 *   PlannedStage { index, name, from (base after ARG expansion), base: 'scratch' | { stage } |
 *                  { image }, platform, location, commands (typed, unexpanded), dependsOn[],
 *                  edges[], images[] }
 */
import { DockerfileError } from '../../../errors.ts';
import { parseReference } from '../../../image/reference.ts';
import { formatPlatform, hostPlatform, parsePlatform } from '../../../image/platform.ts';
import type { Platform } from '../../../image/types.ts';
import type { Dockerfile } from '../parser/ast.ts';
import { expandWithUsage } from '../shell/lex.ts';
import { errorAt } from '../instructions/parse.ts';
import { validateDockerfile } from '../instructions/parse.ts';
import { withSuggestion } from '../instructions/suggest.ts';
import type { Command, SourceLocation, TypedDockerfile } from '../instructions/types.ts';
import { ExpansionError } from '../../../errors.ts';

export type StageBase = 'scratch' | { stage: number } | { image: string };

export type EdgeKind = 'from' | 'copy' | 'mount' | 'onbuild';

export interface StageEdge {
  /** The stage depended on. */
  stage: number;
  kind: EdgeKind;
  /** Line of the instruction that makes the edge. */
  line: number;
}

export interface PlannedStage {
  index: number;
  /** Lower-case stage name, null when the stage has no AS. */
  name: string | null;
  /** The base after ARG expansion ("" only in check mode, when a build arg is missing). */
  from: string;
  /** The base as written. */
  fromRaw: string;
  base: StageBase;
  /** FROM --platform after expansion, normalised ("linux/arm64"), or null. */
  platform: string | null;
  location: SourceLocation;
  commands: Command[];
  /** Earlier stages this stage needs, ascending. */
  dependsOn: number[];
  edges: StageEdge[];
  /** Image references used by COPY --from / RUN --mount from= that are not stages. */
  images: string[];
  /** Replaced by the named context of its name (PlanOptions.namedContexts): based on it, with no commands. */
  replaced?: true;
}

export interface SkippedStage {
  stage: number;
  reason: string;
}

export interface MetaArg {
  key: string;
  /** Value after build args and expansion; null when unset. */
  value: string | null;
  location: SourceLocation;
}

export interface BuildPlan {
  file: string;
  escapeToken: '\\' | '`';
  platform: { build: string; target: string };
  /** The build args given (--build-arg). */
  buildArgs: Record<string, string>;
  /** Variables visible to FROM lines and inherited by `ARG NAME` in stages. */
  globalArgs: Record<string, string>;
  metaArgs: MetaArg[];
  stages: PlannedStage[];
  target: number;
  /** Stages the target needs, dependencies first (ascending index). */
  build: number[];
  /** build grouped into levels: every stage of a level depends only on earlier levels. */
  levels: number[][];
  skipped: SkippedStage[];
  /** Build args that no ARG in the meta args or in a needed stage declares. */
  unusedBuildArgs: string[];
}

export interface PlanOptions {
  /** Stage name (case-insensitive); default the last stage. */
  target?: string;
  buildArgs?: Record<string, string>;
  /** Target platform ("linux/arm64" or a Platform); default the host's. */
  platform?: string | Platform;
  /**
   * Check mode (used by `jettison check`): every stage is validated as if needed, and a FROM that
   * expands to nothing is left for lint (InvalidDefaultArgInFrom) instead of an error.
   */
  allStages?: boolean;
  /**
   * Names given as named build contexts (--build-context NAME=…): a stage of that name is replaced by the
   * context, so its own FROM, COPY --from and mounts need nothing (BuildKit builds none of them).
   */
  namedContexts?: string[];
}

/** Proxy variables usable without an ARG (BuildKit's builtinAllowedBuildArgs). */
export const PROXY_ARGS = [
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
];

/** The automatic platform args (and TARGETSTAGE), as BuildKit defines them. */
export function automaticArgs(build: Platform, target: Platform, targetStage: string): Record<string, string> {
  return {
    BUILDPLATFORM: formatPlatform(build),
    BUILDOS: build.os,
    BUILDARCH: build.architecture,
    BUILDVARIANT: build.variant ?? '',
    TARGETPLATFORM: formatPlatform(target),
    TARGETOS: target.os,
    TARGETARCH: target.architecture,
    TARGETVARIANT: target.variant ?? '',
    TARGETSTAGE: targetStage,
  };
}

function expandAt(loc: SourceLocation, word: string, env: Record<string, string>, escapeToken: '\\' | '`') {
  try {
    return expandWithUsage(word, env, { escapeToken });
  } catch (err) {
    if (err instanceof ExpansionError) throw errorAt(loc, err.message, err);
    throw err;
  }
}

/** Resolves the meta args: build args win, defaults are expanded with what came before. */
export function resolveMetaArgs(
  typedDf: TypedDockerfile,
  auto: Record<string, string>,
  buildArgs: Record<string, string>,
): { globalArgs: Record<string, string>; metaArgs: MetaArg[] } {
  const globalArgs: Record<string, string> = { ...auto };
  const metaArgs: MetaArg[] = [];
  for (const inst of typedDf.metaArgs) {
    for (const def of inst.args) {
      let value: string | null = null;
      if (Object.hasOwn(buildArgs, def.key)) value = buildArgs[def.key];
      else if (def.value !== null) value = expandAt(inst.location, def.value, globalArgs, typedDf.escapeToken).value;
      if (value !== null) globalArgs[def.key] = value;
      metaArgs.push({ key: def.key, value, location: inst.location });
    }
  }
  return { globalArgs, metaArgs };
}

function stageLabel(s: { index: number; name: string | null }): string {
  return s.name ?? `stage-${s.index}`;
}

/** Plans a build. Pure: the Dockerfile syntax tree in, the plan out. Throws DockerfileError. */
export function planBuild(df: Dockerfile, opts: PlanOptions = {}): BuildPlan {
  return planTyped(validateDockerfile(df), opts);
}

/** planBuild for an already validated Dockerfile. */
export function planTyped(typedDf: TypedDockerfile, opts: PlanOptions = {}): BuildPlan {
  const buildArgs = { ...(opts.buildArgs ?? {}) };
  const buildPlatform = hostPlatform();
  const targetPlatform =
    opts.platform === undefined ? buildPlatform : typeof opts.platform === 'string' ? parsePlatform(opts.platform) : opts.platform;
  const esc = typedDf.escapeToken;
  const syntaxStages = typedDf.stages;

  // The target first: TARGETSTAGE needs its name.
  let targetIndex = syntaxStages.length - 1;
  if (opts.target !== undefined && opts.target !== '') {
    const wanted = opts.target.toLowerCase();
    let found = -1;
    for (const s of syntaxStages) if (s.from.name === wanted) found = s.index;
    if (found < 0) {
      const names = syntaxStages.map((s) => s.from.name).filter((n): n is string => n !== null);
      throw new DockerfileError(
        { file: typedDf.file, line: 1, column: 1 },
        withSuggestion(`target stage "${opts.target}" could not be found`, opts.target, names),
      );
    }
    targetIndex = found;
  }
  const auto = automaticArgs(buildPlatform, targetPlatform, syntaxStages[targetIndex].from.name ?? '');
  for (const k of Object.keys(auto)) if (Object.hasOwn(buildArgs, k)) auto[k] = buildArgs[k];
  const { globalArgs, metaArgs } = resolveMetaArgs(typedDf, auto, buildArgs);

  // Stages and their bases.
  const byName = new Map<string, number>();
  const stages: PlannedStage[] = [];
  for (const s of syntaxStages) {
    const loc = s.from.location;
    const expanded = expandAt(loc, s.from.image, globalArgs, esc).value;
    let base: StageBase;
    if (expanded === '') {
      if (!opts.allStages) throw errorAt(loc, `base name (${s.from.image}) should not be blank`);
      base = { image: '' };
    } else if (byName.has(expanded)) {
      base = { stage: byName.get(expanded) as number };
    } else if (expanded === 'scratch') {
      base = 'scratch';
    } else {
      try {
        parseReference(expanded);
      } catch (err) {
        if (!opts.allStages || s.from.image === expanded) {
          throw errorAt(loc, `failed to parse stage name "${expanded}": ${(err as Error).message}`, err);
        }
      }
      base = { image: expanded };
    }
    let platform: string | null = null;
    if (s.from.platform !== null) {
      const p = expandAt(loc, s.from.platform, globalArgs, esc).value;
      if (p === '') throw errorAt(loc, `empty platform value from expression ${s.from.platform}`);
      try {
        platform = formatPlatform(parsePlatform(p));
      } catch (err) {
        throw errorAt(loc, `failed to parse platform ${s.from.platform}: ${(err as Error).message}`, err);
      }
    }
    stages.push({
      index: s.index, name: s.from.name, from: expanded, fromRaw: s.from.image, base, platform, location: loc,
      commands: s.commands, dependsOn: [], edges: [], images: [],
    });
    if (s.from.name !== null) byName.set(s.from.name, s.index);
  }

  // Edges.
  const resolveRef = (ref: string, allowIndex: boolean, loc: SourceLocation): number | null => {
    if (allowIndex && /^[+-]?\d+$/.test(ref)) {
      const i = Number(ref);
      if (i < 0 || i >= stages.length) throw errorAt(loc, `invalid stage index ${i}`);
      return i;
    }
    const i = byName.get(ref.toLowerCase());
    return i === undefined ? null : i;
  };
  const addEdgesFor = (stage: PlannedStage, commands: Command[], onbuild: boolean) => {
    for (const c of commands) {
      const refs: { ref: string; kind: EdgeKind; index: boolean }[] = [];
      if (c.kind === 'copy' && c.from !== null) refs.push({ ref: c.from, kind: 'copy', index: true });
      if (c.kind === 'run') for (const m of c.mounts) if (m.from !== null) refs.push({ ref: m.from, kind: 'mount', index: false });
      if (c.kind === 'onbuild') continue;
      for (const r of refs) {
        const i = resolveRef(r.ref, r.index, c.location);
        if (i === null) {
          if (!stage.images.includes(r.ref)) stage.images.push(r.ref);
        } else {
          stage.edges.push({ stage: i, kind: onbuild ? 'onbuild' : r.kind, line: c.location.line });
        }
      }
    }
  };
  const replaced = new Set((opts.namedContexts ?? []).map((n) => n.toLowerCase()));
  for (const stage of stages) {
    if (stage.name !== null && replaced.has(stage.name)) {
      stage.base = { image: stage.name };
      stage.commands = [];
      stage.replaced = true;
      continue;
    }
    if (typeof stage.base === 'object' && 'stage' in stage.base) {
      const parent = stages[stage.base.stage];
      stage.edges.push({ stage: parent.index, kind: 'from', line: stage.location.line });
      // ONBUILD instructions of a base stage run at this FROM.
      const triggers = parent.commands.flatMap((c) => (c.kind === 'onbuild' ? [c.trigger] : []));
      addEdgesFor(stage, triggers, true);
    }
    addEdgesFor(stage, stage.commands, false);
  }

  // Cycles (BuildKit: "circular dependency detected on stage: NAME").
  const state = new Map<number, 'visiting' | 'done'>();
  const visit = (i: number): void => {
    if (state.get(i) === 'done') return;
    if (state.get(i) === 'visiting') throw errorAt(stages[i].location, `circular dependency detected on stage: ${stageLabel(stages[i])}`);
    state.set(i, 'visiting');
    for (const e of stages[i].edges) visit(e.stage);
    state.set(i, 'done');
  };
  for (const s of stages) visit(s.index);

  // Reachability from the target.
  const needed = new Set<number>();
  const walk = (i: number): void => {
    if (needed.has(i)) return;
    needed.add(i);
    for (const e of stages[i].edges) walk(e.stage);
  };
  walk(targetIndex);

  // A stage can only use stages defined before it.
  for (const s of stages) {
    s.dependsOn = [...new Set(s.edges.map((e) => e.stage).filter((i) => i < s.index))].sort((a, b) => a - b);
    if (!opts.allStages && !needed.has(s.index)) continue;
    for (const e of s.edges) {
      if (e.stage >= s.index) {
        const c = [...s.commands].find((x) => x.location.line === e.line) ?? null;
        const ref = c?.kind === 'copy' && c.from !== null ? c.from : stageLabel(stages[e.stage]);
        throw errorAt(c?.location ?? s.location, `cannot copy from stage "${ref}", it needs to be defined before current stage "${stageLabel(s)}"`);
      }
    }
  }

  const build = [...needed].sort((a, b) => a - b);
  const level = new Map<number, number>();
  for (const i of build) level.set(i, Math.max(-1, ...stages[i].dependsOn.map((d) => level.get(d) ?? -1)) + 1);
  const levels: number[][] = [];
  for (const i of build) (levels[level.get(i) as number] ??= []).push(i);

  const targetLabel = stageLabel(stages[targetIndex]);
  const skipped: SkippedStage[] = stages
    .filter((s) => !needed.has(s.index))
    .map((s) => ({
      stage: s.index,
      reason: s.index > targetIndex ? `after target ${targetLabel}, not used by it` : `not used by target ${targetLabel}`,
    }));

  const declared = new Set<string>(metaArgs.map((m) => m.key));
  for (const i of build) {
    for (const c of stages[i].commands) if (c.kind === 'arg') for (const a of c.args) declared.add(a.key);
  }
  const unusedBuildArgs = Object.keys(buildArgs)
    .filter((k) => !declared.has(k) && !PROXY_ARGS.includes(k) && !Object.hasOwn(auto, k))
    .sort();

  return {
    file: typedDf.file,
    escapeToken: esc,
    platform: { build: formatPlatform(buildPlatform), target: formatPlatform(targetPlatform) },
    buildArgs,
    globalArgs,
    metaArgs,
    stages,
    target: targetIndex,
    build,
    levels,
    skipped,
    unusedBuildArgs,
  };
}
