/**
 * The operations a build graph is made of (a simplified BuildKit LLB). Each op is a plain,
 * JSON-serialisable definition; its canonical form is hashed into the vertex's cache key, so it must
 * hold everything that determines the op's result and nothing else.
 *
 * Secrets and cache mounts are referred to by id only: there is no field for a secret's value or a
 * cache's contents, and normalizeOp() rejects any field it does not know, so neither can reach a
 * key. The worker gets secret values at run time from its own secret provider, keyed by these ids.
 */
import { JettisonError } from '../errors.ts';
import { isDigest } from '../image/digest.ts';
import type { Digest, Platform } from '../image/types.ts';
import type { JsonObject, JsonValue } from './canonical.ts';

/** A resolved base image: the manifest for one platform. (The reference is display metadata.) */
export interface ImageOp {
  kind: 'image';
  digest: Digest;
  platform: Platform;
}

/** The empty file system (FROM scratch). */
export interface ScratchOp {
  kind: 'scratch';
}

/** A named local context (the build context, or --build-context NAME=dir). Its files enter keys as content digests of the ops that read them. */
export interface ContextOp {
  kind: 'context';
  name: string;
  include?: string[];
  exclude?: string[];
}

export interface BindMount {
  type: 'bind';
  /** Index into the vertex's inputs (input 0 is the root file system). */
  input: number;
  source: string;
  target: string;
  readonly: boolean;
}

export interface CacheMount {
  type: 'cache';
  /** The cache's id; its contents never enter a key. */
  id: string;
  target: string;
  sharing: 'shared' | 'private' | 'locked';
  readonly?: boolean;
  /** Seed from this input's `source` path when the cache is new. */
  from?: number;
  source?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

export interface TmpfsMount {
  type: 'tmpfs';
  target: string;
  size?: number;
}

/** A secret, by id only: the value is supplied to the worker at run time and never hashed. */
export interface SecretMount {
  type: 'secret';
  id: string;
  /** File path in the container, or absent when only exposed through `env`. */
  target?: string;
  env?: string;
  required?: boolean;
  mode?: number;
  uid?: number;
  gid?: number;
}

export interface SshMount {
  type: 'ssh';
  id: string;
  target?: string;
  required?: boolean;
  mode?: number;
  uid?: number;
  gid?: number;
}

export type Mount = BindMount | CacheMount | TmpfsMount | SecretMount | SshMount;

/** RUN: a process in a container on input 0. */
export interface ExecOp {
  kind: 'exec';
  args: string[];
  /** "NAME=value" entries, build args in scope included (they are what makes the result differ). */
  env: string[];
  cwd: string;
  user?: string;
  network?: 'default' | 'none' | 'host';
  security?: 'sandbox' | 'insecure';
  mounts?: Mount[];
  /** Exit codes treated as success (RUN --ok-codes style); default [0]. */
  validExitCodes?: number[];
}

export interface CopyAction {
  action: 'copy';
  /** Index into the vertex's inputs the files are read from. */
  input: number;
  src: string[];
  dest: string;
  chown?: string;
  /** Index of the input whose /etc/passwd and /etc/group resolve a --chown name (default: input 0, the destination). */
  chownFrom?: number;
  chmod?: string;
  link?: boolean;
  parents?: boolean;
  exclude?: string[];
  followSymlinks?: boolean;
  /** ADD semantics (unpack local archives). */
  unpack?: boolean;
}

export interface MkdirAction {
  action: 'mkdir';
  path: string;
  mode?: number;
  parents?: boolean;
  chown?: string;
}

export interface MkfileAction {
  action: 'mkfile';
  path: string;
  data: string;
  mode?: number;
  chown?: string;
  /** As CopyAction.chownFrom. */
  chownFrom?: number;
}

export interface RmAction {
  action: 'rm';
  path: string;
  allowNotFound?: boolean;
  allowWildcard?: boolean;
}

export type FileAction = CopyAction | MkdirAction | MkfileAction | RmAction;

/** COPY/ADD/WORKDIR-style file system changes on input 0. */
export interface FileOp {
  kind: 'file';
  actions: FileAction[];
}

/** A metadata-only change of the image config (ENV, CMD, LABEL, …): no layer. */
export interface ConfigOp {
  kind: 'config';
  changes: JsonObject;
}

/** Layers of all inputs stacked in order (COPY --link results, merges). */
export interface MergeOp {
  kind: 'merge';
}

export type Op = ImageOp | ScratchOp | ContextOp | ExecOp | FileOp | ConfigOp | MergeOp;
export type OpKind = Op['kind'];

// ---- validation: a closed schema per kind ---------------------------------------------------

type FieldCheck = (value: unknown, path: string) => void;

function bad(path: string, expected: string): never {
  throw new JettisonError('SOLVER_DEFINITION', `invalid op definition: ${path}: expected ${expected}`);
}
const str: FieldCheck = (v, p) => {
  if (typeof v !== 'string') bad(p, 'a string');
};
const bool: FieldCheck = (v, p) => {
  if (typeof v !== 'boolean') bad(p, 'a boolean');
};
const int: FieldCheck = (v, p) => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(p, 'a non-negative integer');
};
const strings: FieldCheck = (v, p) => {
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) bad(p, 'an array of strings');
};
const ints: FieldCheck = (v, p) => {
  if (!Array.isArray(v)) bad(p, 'an array of integers');
  v.forEach((x, i) => int(x, `${p}[${i}]`));
};
const oneOf =
  (...values: string[]): FieldCheck =>
  (v, p) => {
    if (typeof v !== 'string' || !values.includes(v)) bad(p, values.map((x) => `"${x}"`).join(' or '));
  };
const digest: FieldCheck = (v, p) => {
  if (typeof v !== 'string' || !isDigest(v)) bad(p, 'a sha256 digest');
};
const json: FieldCheck = (v, p) => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) bad(p, 'a JSON object');
};
const platform: FieldCheck = (v, p) => {
  json(v, p);
  checkFields(v as Record<string, unknown>, p, { architecture: str, os: str }, {
    variant: str,
    'os.version': str,
    'os.features': strings,
  });
};

function checkFields(
  obj: Record<string, unknown>,
  path: string,
  required: Record<string, FieldCheck>,
  optional: Record<string, FieldCheck> = {},
): void {
  for (const [name, check] of Object.entries(required)) {
    if (obj[name] === undefined) bad(`${path}.${name}`, 'a value (required)');
    check(obj[name], `${path}.${name}`);
  }
  for (const [name, value] of Object.entries(obj)) {
    if (name in required) continue;
    const check = optional[name];
    if (!check) {
      throw new JettisonError('SOLVER_DEFINITION', `invalid op definition: ${path}: unknown field "${name}"`);
    }
    if (value !== undefined) check(value, `${path}.${name}`);
  }
}

const mountSchemas: Record<Mount['type'], [Record<string, FieldCheck>, Record<string, FieldCheck>]> = {
  bind: [{ type: str, input: int, source: str, target: str, readonly: bool }, {}],
  cache: [
    { type: str, id: str, target: str, sharing: oneOf('shared', 'private', 'locked') },
    { readonly: bool, from: int, source: str, mode: int, uid: int, gid: int },
  ],
  tmpfs: [{ type: str, target: str }, { size: int }],
  secret: [{ type: str, id: str }, { target: str, env: str, required: bool, mode: int, uid: int, gid: int }],
  ssh: [{ type: str, id: str }, { target: str, required: bool, mode: int, uid: int, gid: int }],
};

const mounts: FieldCheck = (v, p) => {
  if (!Array.isArray(v)) bad(p, 'an array of mounts');
  v.forEach((m, i) => {
    const mp = `${p}[${i}]`;
    json(m, mp);
    const type = (m as { type?: unknown }).type;
    const schema = typeof type === 'string' ? mountSchemas[type as Mount['type']] : undefined;
    if (!schema) bad(`${mp}.type`, Object.keys(mountSchemas).map((x) => `"${x}"`).join(' or '));
    checkFields(m as Record<string, unknown>, mp, ...schema);
  });
};

const actionSchemas: Record<FileAction['action'], [Record<string, FieldCheck>, Record<string, FieldCheck>]> = {
  copy: [
    { action: str, input: int, src: strings, dest: str },
    { chown: str, chownFrom: int, chmod: str, link: bool, parents: bool, exclude: strings, followSymlinks: bool, unpack: bool },
  ],
  mkdir: [{ action: str, path: str }, { mode: int, parents: bool, chown: str }],
  mkfile: [{ action: str, path: str, data: str }, { mode: int, chown: str, chownFrom: int }],
  rm: [{ action: str, path: str }, { allowNotFound: bool, allowWildcard: bool }],
};

const actions: FieldCheck = (v, p) => {
  if (!Array.isArray(v) || v.length === 0) bad(p, 'a non-empty array of file actions');
  v.forEach((a, i) => {
    const ap = `${p}[${i}]`;
    json(a, ap);
    const kind = (a as { action?: unknown }).action;
    const schema = typeof kind === 'string' ? actionSchemas[kind as FileAction['action']] : undefined;
    if (!schema) bad(`${ap}.action`, Object.keys(actionSchemas).map((x) => `"${x}"`).join(' or '));
    checkFields(a as Record<string, unknown>, ap, ...schema);
  });
};

const opSchemas: Record<OpKind, [Record<string, FieldCheck>, Record<string, FieldCheck>]> = {
  image: [{ kind: str, digest, platform }, {}],
  scratch: [{ kind: str }, {}],
  context: [{ kind: str, name: str }, { include: strings, exclude: strings }],
  exec: [
    { kind: str, args: strings, env: strings, cwd: str },
    {
      user: str,
      network: oneOf('default', 'none', 'host'),
      security: oneOf('sandbox', 'insecure'),
      mounts,
      validExitCodes: ints,
    },
  ],
  file: [{ kind: str, actions }, {}],
  config: [{ kind: str, changes: json }, {}],
  merge: [{ kind: str }, {}],
};

/** The inputs an op refers to by index, for range checks. */
function inputRefs(op: Op): number[] {
  if (op.kind === 'exec') return (op.mounts ?? []).flatMap((m) => (m.type === 'bind' ? [m.input] : m.type === 'cache' && m.from !== undefined ? [m.from] : []));
  if (op.kind === 'file') {
    return op.actions.flatMap((a) => [...(a.action === 'copy' ? [a.input] : []), ...((a.action === 'copy' || a.action === 'mkfile') && a.chownFrom !== undefined ? [a.chownFrom] : [])]);
  }
  return [];
}

const inputCounts: Record<OpKind, [number, number]> = {
  image: [0, 0],
  scratch: [0, 0],
  context: [0, 0],
  exec: [1, Infinity],
  file: [1, Infinity],
  config: [1, 1],
  merge: [1, Infinity],
};

/**
 * Checks an op against its kind's closed schema (unknown fields are an error) and the number of
 * inputs it is given. Returns the op unchanged; throws a JettisonError (code SOLVER_DEFINITION).
 */
export function validateOp(op: Op, inputCount: number): Op {
  const value = op as unknown;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) bad('op', 'an object');
  const kind = (value as { kind?: unknown }).kind;
  const schema = typeof kind === 'string' ? opSchemas[kind as OpKind] : undefined;
  if (!schema) bad('op.kind', Object.keys(opSchemas).map((x) => `"${x}"`).join(' or '));
  checkFields(value as Record<string, unknown>, 'op', ...schema);
  const [min, max] = inputCounts[op.kind];
  if (inputCount < min || inputCount > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    throw new JettisonError('SOLVER_DEFINITION', `invalid op definition: a ${op.kind} op takes ${want} input(s), got ${inputCount}`);
  }
  for (const ref of inputRefs(op)) {
    if (ref >= inputCount) {
      throw new JettisonError('SOLVER_DEFINITION', `invalid op definition: input index ${ref} out of range (${inputCount} inputs)`);
    }
  }
  return op;
}

/** A deep copy, as JSON, so later mutation of the caller's object cannot change a built vertex. */
export function freezeOp<T extends Op>(op: T): T {
  return deepFreeze(JSON.parse(JSON.stringify(op)) as JsonValue) as unknown as T;
}

function deepFreeze(v: JsonValue): JsonValue {
  if (v && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}
