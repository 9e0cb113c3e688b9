/**
 * From a planned and lowered Dockerfile to the solver's graph: one vertex per step that changes the
 * file system (RUN → exec, COPY/ADD/WORKDIR → file), rooted in an image or scratch vertex per stage,
 * with context vertices whose keys carry the digest of exactly the files a step reads (its per-file
 * listing kept on disk, in the build cache's listing directory, to explain misses). Metadata-only
 * steps (ENV, LABEL, CMD…) make no vertex: they shape the image config, which lowering computes.
 *
 * Everything here is decided before anything runs, as BuildKit does: base images are resolved (and
 * pulled when missing) first, because their configs (Env, WorkingDir, OnBuild) feed expansion.
 */
import { sha256 } from '../image/digest.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JettisonError } from '../errors.ts';
import { chmodChange } from '../util/chmod.ts';
import type { ContainerConfig, Descriptor, Digest, HistoryEntry, ImageConfig, Platform } from '../image/types.ts';
import {
  lowerStage,
  parseOnbuildTriggers,
  type BuildPlan,
  type CopyStep,
  type LoweredStage,
  type RunStep,
  type Step,
  type StepSource,
} from '../frontend/dockerfile/index.ts';
import { vertex, type Mount, type Vertex, type FileAction, type ContentDigest } from '../solver/index.ts';
import type { BuildContext } from '../context/source.ts';
import { copyDigest, type CopyDigest, type FileHashCache } from './copy.ts';

/** A resolved base image: what a stage starting FROM it needs. */
export interface ResolvedImage {
  /** The reference as the user wrote it, normalised. */
  name: string;
  manifest: Descriptor;
  config: ImageConfig;
  layers: Descriptor[];
}

/** Named local contexts (the build context is "context"). */
export type Contexts = Map<string, BuildContext>;

export interface GraphInput {
  plan: BuildPlan;
  platform: Platform;
  contexts: Contexts;
  /** --build-context NAME=docker-image://REF, and bases: resolves (and pulls) an image. */
  resolveImage(ref: string): Promise<ResolvedImage>;
  /** Maps a FROM / --from name to a named context when --build-context gave one. */
  namedContext(name: string): { kind: 'dir'; name: string } | { kind: 'image'; ref: string } | undefined;
  hashCache?: FileHashCache;
  /** Where per-file listings of context contents are kept (the build cache's listingDir()), to explain misses. */
  listingDir?: string;
  /** The Dockerfile's path, part of every step identity (explanations of cache misses). */
  scope: string;
}

export interface StageState {
  index: number;
  /** The stage's display name: its AS name, or stage-N. */
  name: string;
  lowered: LoweredStage;
  /** The last file-system vertex of the stage. */
  last: Vertex;
  /** For each step, the vertex it produced (undefined for metadata-only steps). */
  stepVertices: (Vertex | undefined)[];
  /** The image the stage started from, when it started from one. */
  baseImage?: ResolvedImage;
  /** The stage this one is FROM, when it is FROM a stage. */
  parent?: StageState;
  /** The image at the root of the stage's FROM chain (through FROM <stage>), when there is one. */
  rootImage?: ResolvedImage;
  baseConfig: ContainerConfig;
}

export interface BuildGraph {
  stages: Map<number, StageState>;
  target: StageState;
  /** Every vertex that needs a local context, by key → context name. */
  contextOf: Map<Digest, string>;
}

function stageLabel(plan: BuildPlan, index: number): string {
  const s = plan.stages[index];
  return s.name ?? `stage-${index}`;
}

/** "[build 2/5] RUN make" — BuildKit's vertex names (single-stage builds omit the stage). */
function vertexName(plan: BuildPlan, index: number, step: number, total: number, text: string): string {
  const prefix = plan.stages.length > 1 || plan.stages[index].name ? `${stageLabel(plan, index)} ` : '';
  return `[${prefix}${step}/${total}] ${text}`;
}

/** Splits "user:group" for --chown as the op stores it. */
function chownOf(step: CopyStep): string | undefined {
  return step.chown ?? undefined;
}

export async function buildGraph(input: GraphInput): Promise<BuildGraph> {
  const { plan } = input;
  const stages = new Map<number, StageState>();
  const contextOf = new Map<Digest, string>();
  const emptyDir = await mkdtemp(join(tmpdir(), 'jettison-empty-'));
  const listingOpts = input.listingDir !== undefined ? { listingDir: input.listingDir } : {};
  try {
    const scratch = vertex({ op: { kind: 'scratch' }, name: 'scratch' });
    const imageVertices = new Map<string, { v: Vertex; image: ResolvedImage }>();

    const imageVertex = async (ref: string): Promise<{ v: Vertex; image: ResolvedImage }> => {
      const known = imageVertices.get(ref);
      if (known) return known;
      const image = await input.resolveImage(ref);
      const v = vertex({ op: { kind: 'image', digest: image.manifest.digest, platform: input.platform }, name: `FROM ${image.name}@${image.manifest.digest}` });
      const out = { v, image };
      imageVertices.set(ref, out);
      return out;
    };

    /** One vertex per named local context: what file ops read from. The files a step reads enter that step's key. */
    const contextVertices = new Map<string, Vertex>();
    const contextVertex = (name: string): Vertex => {
      let v = contextVertices.get(name);
      if (!v) {
        v = vertex({ op: { kind: 'context', name }, name: `[internal] load build context${name === 'context' ? '' : ` ${name}`}` });
        contextVertices.set(name, v);
        contextOf.set(v.key, name);
      }
      return v;
    };

    /** The vertex a COPY --from / mount from= reads: a stage's last state, an image, or a named context. */
    const sourceVertex = async (src: StepSource, what: string): Promise<{ v: Vertex; context?: string }> => {
      if (src === 'context') return { v: scratch, context: 'context' };
      if ('stage' in src) {
        const st = stages.get(src.stage);
        if (!st) throw new JettisonError('BUILD', `internal: stage ${src.stage} needed by ${what} was not planned before it`);
        return { v: st.last };
      }
      const named = input.namedContext(src.image);
      if (named?.kind === 'dir') return { v: scratch, context: named.name };
      const ref = named?.kind === 'image' ? named.ref : src.image;
      return { v: (await imageVertex(ref)).v };
    };

    // Images the plan needs are resolved level by level, in parallel within a level.
    for (const level of plan.levels) {
      await Promise.all(
        level.map(async (i) => {
          const base = plan.stages[i].base;
          if (typeof base === 'object' && 'image' in base) {
            const named = input.namedContext(base.image);
            if (named?.kind !== 'dir') await imageVertex(named?.kind === 'image' ? named.ref : base.image);
          }
        }),
      );
      for (const i of level) {
        stages.set(i, await lowerOne(i));
      }
    }

    async function lowerOne(i: number): Promise<StageState> {
      const planned = plan.stages[i];
      const name = stageLabel(plan, i);
      let root: Vertex;
      let lowered: LoweredStage;
      let baseImage: ResolvedImage | undefined;
      let rootImage: ResolvedImage | undefined;
      let parentState: StageState | undefined;
      let baseConfig: ContainerConfig = {};
      let fromContext: string | undefined;
      // A stage replaced by a named context comes planned as FROM that context with no commands.
      const base = planned.base;
      if (base === 'scratch') {
        root = scratch;
        lowered = lowerStage(plan, i, { baseConfig: {} });
      } else if ('stage' in base) {
        const parent = stages.get(base.stage)!;
        root = parent.last;
        lowered = lowerStage(plan, i, { parent: parent.lowered });
        baseConfig = parent.baseConfig;
        rootImage = parent.rootImage;
        parentState = parent;
      } else {
        const named = input.namedContext(base.image);
        if (named?.kind === 'dir') {
          // FROM a named local context (--build-context NAME=DIR): as in BuildKit, the directory is the
          // stage's file system (no image config); its files enter the key as a COPY's do.
          fromContext = named.name;
          root = scratch; // replaced below, once the stage's step count is known
          lowered = lowerStage(plan, i, { baseConfig: {} });
        } else {
          const { v, image } = await imageVertex(named?.kind === 'image' ? named.ref : base.image);
          root = v; // renamed below, once the stage's step count is known (same op, same key)
          baseImage = image;
          rootImage = image;
          baseConfig = image.config.config ?? {};
          const onbuild = baseConfig.OnBuild ?? [];
          const triggers = onbuild.length > 0 ? parseOnbuildTriggers(onbuild, `${image.name} ONBUILD`) : [];
          lowered = lowerStage(plan, i, { baseConfig, triggers: planned.replaced ? [] : triggers });
        }
      }
      const fsSteps = lowered.steps.filter((s) => s.kind !== 'config');
      const total = fsSteps.length + 1;
      if (root.op.kind === 'image' && baseImage) {
        // "[build 1/5] FROM docker.io/library/golang:1.19@sha256:…", as BuildKit names it.
        const text = `FROM ${baseImage.name}@${baseImage.manifest.digest}`;
        root = vertex({ op: root.op, name: vertexName(plan, i, 1, total, text), step: { scope: input.scope, stage: name, index: 1, total, instruction: text } });
      }
      if (fromContext !== undefined) {
        const text = `FROM ${(base as { image: string }).image}`;
        root = await contextRootVertex(fromContext, vertexName(plan, i, 1, total, text), { scope: input.scope, stage: name, index: 1, total, instruction: text });
      }
      let last = root;
      let n = 1;
      const stepVertices: (Vertex | undefined)[] = [];
      for (const step of lowered.steps) {
        if (step.kind === 'config') {
          stepVertices.push(undefined);
          continue;
        }
        n++;
        const stepInfo = { scope: input.scope, stage: name, index: n, total, instruction: step.description };
        const vname = vertexName(plan, i, n, total, step.description);
        let v: Vertex;
        if (step.kind === 'run') v = await runVertex(step, last, vname, stepInfo);
        else if (step.kind === 'workdir') {
          const actions: FileAction[] = [{ action: 'mkdir', path: step.path, mode: 0o755, parents: true, ...(step.user ? { chown: step.user } : {}) }];
          v = vertex({ op: { kind: 'file', actions }, inputs: [last], name: vname, step: stepInfo });
        } else v = await copyVertex(step, last, vname, stepInfo);
        stepVertices.push(v);
        last = v;
      }
      const state: StageState = { index: i, name, lowered, last, stepVertices, baseConfig };
      if (baseImage) state.baseImage = baseImage;
      if (rootImage) state.rootImage = rootImage;
      if (parentState) state.parent = parentState;
      return state;
    }

    /** The whole named local context copied onto scratch: the file system of a stage FROM that context. */
    async function contextRootVertex(ctxName: string, vname: string, stepInfo?: NonNullable<Parameters<typeof vertex>[0]['step']>): Promise<Vertex> {
      const ctx = input.contexts.get(ctxName);
      if (!ctx) throw new JettisonError('BUILD', `no build context named "${ctxName}"`);
      const d = await copyDigest({ source: { root: ctx.root, ignore: ctx.ignore, ownership: 'reset' }, paths: ['.'], dest: '/' }, emptyDir, input.hashCache, listingOpts);
      return vertex({
        op: { kind: 'file', actions: [{ action: 'copy', input: 1, src: ['.'], dest: '/', followSymlinks: true }] },
        inputs: [scratch, contextVertex(ctxName)],
        contents: [contentOf(`${ctxName} files`, d)],
        name: vname,
        ...(stepInfo ? { step: stepInfo } : {}),
      });
    }

    async function runVertex(step: RunStep, last: Vertex, name: string, stepInfo: NonNullable<Parameters<typeof vertex>[0]['step']>): Promise<Vertex> {
      const inputs: Vertex[] = [last];
      const contents: ContentDigest[] = [];
      const mounts: Mount[] = [];
      const inputIndex = (v: Vertex): number => {
        const at = inputs.indexOf(v);
        if (at >= 0) return at;
        inputs.push(v);
        return inputs.length - 1;
      };
      for (const m of step.mounts) {
        switch (m.type) {
          case 'bind': {
            const src = await sourceVertex(m.fromSource ?? 'context', `RUN --mount from=${m.from}`);
            let v = src.v;
            if (src.context) {
              const ctx = input.contexts.get(src.context)!;
              const d = await copyDigest({ source: { root: ctx.root, ignore: ctx.ignore, ownership: 'reset' }, paths: [m.source ?? '.'], dest: '/' }, emptyDir, input.hashCache, listingOpts);
              contents.push(contentOf(`bind ${m.target}`, d));
              v = contextVertex(src.context);
            }
            mounts.push({ type: 'bind', input: inputIndex(v), source: m.source ?? '/', target: m.target!, readonly: m.readonly });
            break;
          }
          case 'cache': {
            const c: Mount = { type: 'cache', id: m.id ?? m.target!, target: m.target!, sharing: m.sharing ?? 'shared', readonly: m.readonly };
            if (m.mode !== null) c.mode = m.mode;
            if (m.uid !== null) c.uid = m.uid;
            if (m.gid !== null) c.gid = m.gid;
            if (m.fromSource && m.fromSource !== 'context') {
              const src = await sourceVertex(m.fromSource, 'cache mount');
              // A named local directory seeds the cache as the file system it is (its files copied onto scratch).
              c.from = inputIndex(src.context ? await contextRootVertex(src.context, `[internal] cache mount base ${src.context}`) : src.v);
              c.source = m.source ?? '/';
            }
            mounts.push(c);
            break;
          }
          case 'tmpfs':
            mounts.push({ type: 'tmpfs', target: m.target!, ...(m.size !== null ? { size: m.size } : {}) });
            break;
          case 'secret': {
            const id = m.id ?? (m.target ? m.target.split('/').pop()! : '');
            const s: Mount = { type: 'secret', id, required: m.required };
            if (m.target !== null) s.target = m.target;
            else if (m.env === null) s.target = `/run/secrets/${id}`;
            if (m.env !== null) s.env = m.env;
            if (m.mode !== null) s.mode = m.mode;
            if (m.uid !== null) s.uid = m.uid;
            if (m.gid !== null) s.gid = m.gid;
            mounts.push(s);
            break;
          }
          case 'ssh': {
            const s: Mount = { type: 'ssh', id: m.id ?? 'default', required: m.required };
            if (m.target !== null) s.target = m.target;
            mounts.push(s);
            break;
          }
        }
      }
      if (step.script) contents.push({ label: `script ${step.script.name}`, digest: sha256(step.script.data) });
      return vertex({
        op: {
          kind: 'exec',
          args: step.args,
          env: step.env,
          cwd: step.workdir || '/',
          ...(step.user ? { user: step.user } : {}),
          network: step.network === 'none' ? 'none' : step.network === 'host' ? 'host' : 'default',
          security: step.security === 'insecure' ? 'insecure' : 'sandbox',
          mounts,
        },
        inputs,
        contents,
        name,
        step: stepInfo,
        buildArgs: step.env.map((e) => e.slice(0, e.indexOf('='))).filter((k) => plan.buildArgs[k] !== undefined),
      });
    }

    async function copyVertex(step: CopyStep, last: Vertex, name: string, stepInfo: NonNullable<Parameters<typeof vertex>[0]['step']>): Promise<Vertex> {
      const base = step.link ? scratch : last;
      const inputs: Vertex[] = [base];
      const contents: ContentDigest[] = [];
      const actions: FileAction[] = [];
      const common = {
        dest: step.dest,
        ...(chownOf(step) ? { chown: chownOf(step)! } : {}),
        ...(step.chmod ? { chmod: step.chmod } : {}),
        ...(step.parents ? { parents: true } : {}),
        ...(step.exclude.length ? { exclude: step.exclude } : {}),
        ...(step.kind === 'add' ? { unpack: step.unpack ?? true } : {}),
      };
      if (step.contents.length > 0) {
        // COPY <<EOF /dest: each heredoc becomes a file named after it.
        for (const f of step.contents) {
          const dest = step.dest.endsWith('/') ? `${step.dest}${f.name}` : step.dest;
          actions.push({ action: 'mkfile', path: dest, data: f.data, mode: step.chmod ? chmodChange(step.chmod)(0o644, false) : 0o644, ...(common.chown ? { chown: common.chown } : {}) });
        }
      } else {
        const remote = step.kind === 'add' ? step.sources.filter(isRemote) : [];
        const local = step.sources.filter((s) => !remote.includes(s));
        if (remote.length > 0) {
          // ADD URL / git: fetched when the step runs; the key holds the URL and the --checksum.
          contents.push({ label: 'remote', digest: sha256(JSON.stringify({ remote, checksum: step.checksum, keepGitDir: step.keepGitDir })) });
          actions.push({ action: 'copy', input: 0, src: remote, ...common });
        }
        if (local.length > 0) {
          const src = await sourceVertex(step.source, `${step.instruction.toUpperCase()} --from`);
          let v = src.v;
          if (src.context) {
            const ctx = input.contexts.get(src.context);
            if (!ctx) throw new JettisonError('BUILD', `no build context named "${src.context}"`);
            const d = await copyDigest(
              { source: { root: ctx.root, ignore: ctx.ignore, ownership: 'reset' }, paths: local, dest: step.dest, ...(step.parents ? { parents: true } : {}), ...(step.exclude.length ? { exclude: step.exclude } : {}) },
              emptyDir,
              input.hashCache,
              listingOpts,
            );
            contents.push(contentOf(`${src.context} files`, d));
            v = contextVertex(src.context);
          }
          inputs.push(v);
          actions.push({ action: 'copy', input: inputs.length - 1, src: local, followSymlinks: true, ...common });
        }
      }
      if (step.link && common.chown && !/^\d+(:\d+)?$/.test(common.chown)) {
        // A linked copy lands on scratch; --chown names are looked up in the stage it is linked onto.
        inputs.push(last);
        for (const a of actions) if (a.action === 'copy' || a.action === 'mkfile') a.chownFrom = inputs.length - 1;
      }
      // A copy action whose sources are remote (URLs, git) reads no input: its `input` is 0 by convention.
      const fileVertex = vertex({
        op: { kind: 'file', actions },
        inputs,
        contents,
        name: step.link ? `${name} (link)` : name,
        step: step.link ? { ...stepInfo, instruction: `${stepInfo.instruction} (link)` } : stepInfo,
      });
      if (!step.link) return fileVertex;
      return vertex({ op: { kind: 'merge' }, inputs: [last, fileVertex], name, step: stepInfo });
    }

    const target = stages.get(plan.target);
    if (!target) throw new JettisonError('BUILD', `internal: target stage ${plan.target} was not planned`);
    return { stages, target, contextOf };
  } finally {
    await rm(emptyDir, { recursive: true, force: true });
  }
}

export function isRemote(src: string): boolean {
  return /^https?:\/\//.test(src) || /^git@/.test(src) || /\.git(#|$)/.test(src);
}

/** A content item for files a step reads from a context: the digest, and its listing when one was kept. */
function contentOf(label: string, d: CopyDigest): ContentDigest {
  return { label, digest: d.digest, ...(d.listing !== undefined ? { listing: d.listing } : {}) };
}


/** History entries for a stage's steps (layer steps are marked empty later if they made no layer). */
export function historyOf(steps: Step[], emptyLayer?: (i: number) => boolean): HistoryEntry[] {
  return steps.map((s, i) => {
    const e: HistoryEntry = { created_by: s.createdBy, comment: 'buildkit.dockerfile.v0' };
    if (s.emptyLayer || emptyLayer?.(i)) e.empty_layer = true;
    return e;
  });
}
