/**
 * Image references ("busybox", "localhost:5000/x:1", "host/ns/x:tag@sha256:…") parsed and normalised
 * the way Docker does it (distribution/reference): a name without a registry is on docker.io, a
 * one-component name on docker.io is in "library/", and a reference with neither tag nor digest gets
 * ":latest". Error messages use Docker's wording ("invalid reference format…").
 */
import { JettisonError } from '../errors.ts';

export interface ImageReference {
  /** "docker.io", "localhost:5000", "registry.example.com". */
  registry: string;
  /** "library/busybox", "ns/x". */
  repository: string;
  tag?: string;
  /** "sha256:…" */
  digest?: string;
}

export const DEFAULT_REGISTRY = 'docker.io';
export const DEFAULT_TAG = 'latest';
const LEGACY_REGISTRY = 'index.docker.io';

/** A reference that Docker would refuse. Code: INVALID_REFERENCE. */
export class ReferenceError extends JettisonError {
  constructor(message: string) {
    super('INVALID_REFERENCE', message);
  }
}

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|${IPV6})(?::[0-9]+)?$`);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const SHA256_RE = /^sha256:[a-f0-9]{64}$/;
const HEX64_RE = /^[a-f0-9]{64}$/;
const NAME_MAX = 255;

/** Splits "name" into registry and path the way Docker's splitDockerDomain does. */
function splitDomain(name: string): { registry: string; path: string; explicit: boolean } {
  const i = name.indexOf('/');
  if (i === -1) return { registry: DEFAULT_REGISTRY, path: name, explicit: false };
  const first = name.slice(0, i);
  const looksLikeHost = /[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first;
  if (!looksLikeHost) return { registry: DEFAULT_REGISTRY, path: name, explicit: false };
  return { registry: first === LEGACY_REGISTRY ? DEFAULT_REGISTRY : first, path: name.slice(i + 1), explicit: true };
}

/**
 * Parses and normalises a reference. With neither tag nor digest the tag is "latest" unless
 * `opts.defaultTag` is false. Throws ReferenceError with Docker's messages.
 */
export function parseReference(input: string, opts: { defaultTag?: boolean } = {}): ImageReference {
  const s = input;
  if (s === '') throw new ReferenceError('invalid reference format: repository name must have at least one component');
  if (HEX64_RE.test(s)) {
    throw new ReferenceError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw new ReferenceError(`invalid reference format: invalid digest "${digest}" in "${s}"`);
    if (digest.startsWith('sha256:') && !SHA256_RE.test(digest)) {
      throw new ReferenceError(`invalid checksum digest format: "${digest}" in "${s}"`);
    }
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG_RE.test(tag)) throw new ReferenceError(`invalid reference format: invalid tag "${tag}" in "${s}"`);
  }
  if (rest === '') throw new ReferenceError(`invalid reference format: repository name must have at least one component ("${s}")`);
  const { registry, path, explicit } = splitDomain(rest);
  if (explicit && !DOMAIN_RE.test(registry)) {
    throw new ReferenceError(`invalid reference format: invalid registry "${registry}" in "${s}"`);
  }
  if (path === '') throw new ReferenceError(`invalid reference format: repository name must have at least one component ("${s}")`);
  let repository = path;
  if (registry === DEFAULT_REGISTRY && !repository.includes('/')) repository = `library/${repository}`;
  for (const component of repository.split('/')) {
    if (PATH_COMPONENT_RE.test(component)) continue;
    if (component.toLowerCase() !== component && PATH_COMPONENT_RE.test(component.toLowerCase())) {
      throw new ReferenceError(`invalid reference format: repository name (${repository}) must be lowercase`);
    }
    throw new ReferenceError(`invalid reference format: invalid repository name component "${component}" in "${s}"`);
  }
  if (`${registry}/${repository}`.length > NAME_MAX) {
    throw new ReferenceError(`invalid reference format: repository name must not be more than ${NAME_MAX} characters`);
  }
  const ref: ImageReference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  if (tag === undefined && digest === undefined && opts.defaultTag !== false) ref.tag = DEFAULT_TAG;
  return ref;
}

/** True when the string parses as a reference. */
export function isReference(s: string): boolean {
  try {
    parseReference(s);
    return true;
  } catch {
    return false;
  }
}

/** "registry/repository" */
export function repositoryName(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** The fully qualified form: "docker.io/library/busybox:latest", "host/x:1@sha256:…". */
export function formatReference(ref: ImageReference): string {
  let out = repositoryName(ref);
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/** Parses then formats: the canonical store key for a user-typed name. */
export function normalizeReference(s: string, opts: { defaultTag?: boolean } = {}): string {
  return formatReference(parseReference(s, opts));
}

/** The repository as `docker images` shows it: "busybox", "user/x", "localhost:5000/x". */
export function familiarRepository(ref: ImageReference): string {
  if (ref.registry !== DEFAULT_REGISTRY) return repositoryName(ref);
  return ref.repository.startsWith('library/') && ref.repository.split('/').length === 2
    ? ref.repository.slice('library/'.length)
    : ref.repository;
}

/** The short form Docker prints: "busybox:latest", "user/x:1", "localhost:5000/x@sha256:…". */
export function familiarName(ref: ImageReference | string): string {
  const r = typeof ref === 'string' ? parseReference(ref, { defaultTag: false }) : ref;
  let out = familiarRepository(r);
  if (r.tag !== undefined) out += `:${r.tag}`;
  if (r.digest !== undefined) out += `@${r.digest}`;
  return out;
}
