/**
 * Vertices of the build graph and their cache keys.
 *
 * A vertex is immutable and built bottom-up (inputs first), so its cache key is computed once, at
 * construction, from values already known:
 *
 *   definition = sha256(canonicalJSON(op))
 *   key        = sha256(canonicalJSON({
 *                  v: "jettison.solver.key.v1",
 *                  definition,
 *                  inputs:   [key of input 0, key of input 1, …],      (order matters)
 *                  contents: [{ label, digest }, …] sorted by label,
 *                }))
 *
 * `contents` are digests the caller computes of data the op reads that is not itself a vertex
 * (e.g. the files a COPY matched in the build context). A content item may name an on-disk listing
 * of the files (`listing`, see listing.ts) whose sha256 its digest is, so that a cache miss can be
 * explained file by file without one entry per file in memory. The listing's path never enters the key.
 *
 * Display metadata (name, step, build-arg names) never enters the key. Neither do secrets or
 * cache-mount contents: ops refer to both by id only (see ops.ts).
 */
import { JettisonError } from '../errors.ts';
import { isDigest } from '../image/digest.ts';
import type { Digest } from '../image/types.ts';
import { canonicalDigest } from './canonical.ts';
import { freezeOp, validateOp, type Op } from './ops.ts';

export const KEY_VERSION = 'jettison.solver.key.v1';

/** Where a vertex comes from in a build file: what the cache uses to find earlier builds of "the same step". */
export interface StepInfo {
  /** What the step belongs to beyond the stage (e.g. the Dockerfile's path); '' when not given. */
  scope?: string;
  /** Stage name (or index as a string when unnamed). */
  stage: string;
  /** 1-based position of the step in its stage. */
  index: number;
  /** Steps in the stage, for "[build 2/5]" names. */
  total?: number;
  /** The instruction text, e.g. "RUN make". */
  instruction: string;
}

/** A digest of data an op reads that is not a vertex (files of the build context a COPY matched…). */
export interface ContentDigest {
  /** What the data is, unique within the vertex, e.g. "COPY src/" or "context:src/". */
  label: string;
  digest: Digest;
  /** A sorted listing file (listing.ts) whose sha256 is `digest`: per-file detail kept on disk. */
  listing?: string;
}

/** The components a vertex's key is made of: recorded with cache entries to explain misses. */
export interface KeyComponents {
  definition: Digest;
  inputs: Digest[];
  contents: { label: string; digest: Digest }[];
}

export interface VertexSpec<O extends Op = Op> {
  op: O;
  inputs?: Vertex[];
  contents?: ContentDigest[];
  /** Display name, e.g. "[build 2/5] RUN make"; defaults to the op kind. */
  name?: string;
  step?: StepInfo;
  /** Names of `env` entries of an exec op that come from build args (for explanations only). */
  buildArgs?: string[];
}

export interface Vertex<O extends Op = Op> {
  readonly op: O;
  readonly inputs: readonly Vertex[];
  readonly contents: readonly Readonly<ContentDigest>[];
  readonly name: string;
  readonly step?: Readonly<StepInfo>;
  readonly buildArgs: readonly string[];
  readonly components: Readonly<KeyComponents>;
  /** The cache key (see the header for its derivation). */
  readonly key: Digest;
  /** Creation order within this process: a deterministic tie-break for scheduling. */
  readonly seq: number;
}

let sequence = 0;

function normalizeContents(contents: ContentDigest[]): ContentDigest[] {
  const seen = new Set<string>();
  const out = contents.map((c) => {
    if (typeof c.label !== 'string' || c.label === '') throw new JettisonError('SOLVER_DEFINITION', 'content digest without a label');
    if (seen.has(c.label)) throw new JettisonError('SOLVER_DEFINITION', `duplicate content label "${c.label}"`);
    seen.add(c.label);
    if (c.digest === undefined || !isDigest(c.digest)) {
      const what = c.listing !== undefined ? 'a listing needs its digest' : 'expected a sha256 digest';
      throw new JettisonError('SOLVER_DEFINITION', `content "${c.label}": ${what}`);
    }
    return Object.freeze({ label: c.label, digest: c.digest, ...(c.listing !== undefined ? { listing: c.listing } : {}) });
  });
  return out.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}

/** The key of a set of components (exported so cache records can be verified on read). */
export function keyOf(components: KeyComponents): Digest {
  return canonicalDigest({ v: KEY_VERSION, ...components });
}

/** Builds a vertex: validates the op, freezes everything, computes the key. */
export function vertex<O extends Op>(spec: VertexSpec<O>): Vertex<O> {
  const inputs = [...(spec.inputs ?? [])];
  validateOp(spec.op, inputs.length);
  const definition = canonicalDigest(spec.op);
  const op = freezeOp(spec.op);
  const contents = normalizeContents(spec.contents ?? []);
  const components: KeyComponents = {
    definition,
    inputs: inputs.map((i) => i.key),
    contents: contents.map((c) => ({ label: c.label, digest: c.digest })),
  };
  const step = spec.step ? Object.freeze({ ...spec.step, scope: spec.step.scope ?? '' }) : undefined;
  return Object.freeze({
    op,
    inputs: Object.freeze(inputs),
    contents: Object.freeze(contents),
    name: spec.name ?? spec.op.kind,
    step,
    buildArgs: Object.freeze([...(spec.buildArgs ?? [])]),
    components: Object.freeze({
      definition,
      inputs: Object.freeze([...components.inputs]) as Digest[],
      contents: Object.freeze(components.contents) as KeyComponents['contents'],
    }),
    key: keyOf(components),
    seq: ++sequence,
  });
}

/**
 * Every vertex reachable from the targets, inputs before dependents (iterative: deep chains are
 * fine). Vertices with the same key appear once (the first one met stands for all).
 */
export function topologicalOrder(targets: readonly Vertex[]): Vertex[] {
  const order: Vertex[] = [];
  const state = new Map<Digest, 1 | 2>(); // 1 = on the stack, 2 = emitted
  for (const target of targets) {
    const stack: { v: Vertex; next: number }[] = [{ v: target, next: 0 }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (top.next === 0) {
        if (state.has(top.v.key)) {
          stack.pop();
          continue;
        }
        state.set(top.v.key, 1);
      }
      if (top.next < top.v.inputs.length) {
        const input = top.v.inputs[top.next++];
        if (!state.has(input.key)) stack.push({ v: input, next: 0 });
        continue;
      }
      state.set(top.v.key, 2);
      order.push(top.v);
      stack.pop();
    }
  }
  return order;
}
