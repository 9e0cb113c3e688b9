/**
 * Typed image and module descriptors built from validated YAML nodes, with CEKit's defaults
 * (artifact names, targets and destinations, execute users, volume names, package repository file
 * names). Keys that mean nothing to jettison (osbs, help, content_sets, …) are reported as warnings.
 */
import { isAbsolute, join, posix } from 'node:path';
import type { SourcePosition } from '../../errors.ts';
import { defaultResourceName } from './overrides.ts';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm } from './schema.ts';
import { cekitError, get, posOf, str, type YMap, type YNode } from './yaml.ts';

/** Collected warnings; each distinct message is kept once. */
export class Warnings {
  readonly list: string[] = [];
  private readonly seen = new Set<string>();
  add(message: string): void {
    if (this.seen.has(message)) return;
    this.seen.add(message);
    this.list.push(message);
  }
}

export function where(pos: SourcePosition): string {
  return `${pos.file}:${pos.line}:${pos.column}`;
}

export type Checksums = Partial<Record<ChecksumAlgorithm, string>>;

interface ArtifactBase {
  name: string;
  target: string;
  dest: string;
  description?: string;
  pos: SourcePosition;
  /** The key path of the artifact in its descriptor (`artifacts[2]`). */
  key: string;
}
export type Artifact =
  | (ArtifactBase & { kind: 'image'; image: string; path: string; imagePos: SourcePosition })
  | (ArtifactBase & { kind: 'path'; path: string; checksums: Checksums })
  | (ArtifactBase & { kind: 'url'; url: string; checksums: Checksums })
  | (ArtifactBase & { kind: 'git'; url: string; ref: string; checksums: Checksums })
  | (ArtifactBase & { kind: 'plain'; checksums: Checksums });

export interface Env {
  name: string;
  value?: string;
}
export interface Label {
  name: string;
  value: string;
}
export interface Arg {
  name: string;
  value?: string;
}
export interface Port {
  value: string;
  protocol?: string;
  expose: boolean;
}
export interface Volume {
  name: string;
  path: string;
}
export interface Run {
  user?: string;
  workdir?: string;
  cmd?: string[];
  entrypoint?: string[];
}
export interface ModuleRepository {
  name: string;
  /** Absolute directory of a `path` repository. */
  path?: string;
  git?: { url: string; ref: string };
  pos: SourcePosition;
}
export interface InstallRef {
  name: string;
  version?: string;
  pos: SourcePosition;
  versionPos?: SourcePosition;
  /** The key path of the entry (`modules.install[1]`). */
  key: string;
}
export interface PackageRepository {
  name: string;
  kind: 'url' | 'rpm' | 'id' | 'odcs';
  url?: string;
  rpm?: string;
  filename: string;
  pos: SourcePosition;
}
export interface Packages {
  manager?: string;
  /** undefined: the manager's defaults; null or '': no flags at all. */
  managerFlags?: string | null;
  install: string[];
  remove: string[];
  reinstall: string[];
  repositories: PackageRepository[];
}
export interface Execute {
  name: string;
  script: string;
  user: string;
  pos: SourcePosition;
  key: string;
}

/** What images and modules have in common. */
export interface Descriptor {
  name: string;
  version: string;
  description?: string;
  args: Arg[];
  labels: Label[];
  envs: Env[];
  ports: Port[];
  volumes: Volume[];
  run?: Run;
  artifacts: Artifact[];
  repositories: ModuleRepository[];
  install: InstallRef[];
  packages: Packages;
  pos: SourcePosition;
}
export interface ImageDescriptor extends Descriptor {
  from?: string;
  fromPos: SourcePosition;
  namePos: SourcePosition;
}
export interface ModuleDescriptor extends Descriptor {
  /** The module's directory (where module.yaml is). */
  dir: string;
  execute: Execute[];
}

function list(map: YMap, key: string): YNode[] {
  const v = get(map, key);
  return v && v.kind === 'seq' ? v.items : [];
}
function sub(map: YMap, key: string): YMap | undefined {
  const v = get(map, key);
  return v && v.kind === 'map' ? v : undefined;
}
function texts(map: YMap, key: string): string[] | undefined {
  const v = get(map, key);
  if (!v || v.kind !== 'seq') return undefined;
  return v.items.flatMap((i) => (i.kind === 'scalar' && i.text !== null ? [i.text] : []));
}

function normalizeDest(dest: string): string {
  const n = posix.normalize(dest);
  return n === '/' || n.endsWith('/') ? n : `${n}/`;
}

const KIND_KEYS: Record<Artifact['kind'], string[]> = {
  image: ['name', 'target', 'dest', 'description', 'image', 'path'],
  path: ['name', 'target', 'dest', 'description', 'path', ...CHECKSUM_ALGORITHMS],
  url: ['name', 'target', 'dest', 'description', 'url', ...CHECKSUM_ALGORITHMS, 'source-url', 'source-md5', 'source-sha1', 'source-sha256'],
  git: ['name', 'target', 'dest', 'description', 'git', ...CHECKSUM_ALGORITHMS],
  plain: ['name', 'target', 'dest', 'description', ...CHECKSUM_ALGORITHMS, 'source-url', 'source-md5', 'source-sha1', 'source-sha256'],
};

/** An artifact's kind is chosen by its keys, in CEKit's order: image, path, url, git, plain (checksums only). */
export function toArtifact(node: YMap, path: string, warnings: Warnings): Artifact {
  let kind: Artifact['kind'];
  if (get(node, 'image')) kind = 'image';
  else if (get(node, 'path')) kind = 'path';
  else if (get(node, 'pnc_build_id')) {
    throw cekitError(posOf(node, 'pnc_build_id'), `key ${path}.pnc_build_id: PNC artifacts are not supported by jettison`);
  } else if (get(node, 'url')) kind = 'url';
  else if (get(node, 'git')) kind = 'git';
  else if (CHECKSUM_ALGORITHMS.some((a) => get(node, a))) kind = 'plain';
  else {
    throw cekitError(
      node.pos,
      `key ${path}: expected one of the keys image, path, url, git or a checksum (md5, sha1, sha256, sha512) to tell the artifact's kind`,
    );
  }
  for (const [key, v] of node.entries) {
    if (v.kind === 'scalar' && v.type === 'null') continue;
    if (!KIND_KEYS[kind].includes(key)) {
      const detail =
        kind === 'image' && (CHECKSUM_ALGORITHMS as readonly string[]).includes(key)
          ? 'image content artifacts cannot have checksums'
          : `unknown key for a ${kind} artifact, expected one of: ${KIND_KEYS[kind].join(', ')}`;
      throw cekitError(node.keyPos.get(key) ?? node.pos, `key ${path}.${key}: ${detail}`);
    }
    if (key.startsWith('source-')) warnings.add(`${where(posOf(node, key))}: key ${path}.${key} is ignored by jettison`);
  }
  const name = str(node, 'name') ?? defaultResourceName(node);
  if (!name) throw cekitError(node.pos, `key ${path}.name: required key missing in a plain artifact, expected a string`);
  const target = str(node, 'target') ?? posix.basename(name);
  if (!target || target.includes('/') || target === '.' || target === '..') {
    throw cekitError(posOf(node, 'target'), `key ${path}.target: expected a file name, got ${JSON.stringify(target)}`);
  }
  const base: ArtifactBase = {
    name,
    target,
    dest: normalizeDest(str(node, 'dest') ?? '/tmp/artifacts/'),
    description: str(node, 'description'),
    pos: node.pos,
    key: path,
  };
  const checksums: Checksums = {};
  for (const a of CHECKSUM_ALGORITHMS) {
    const v = str(node, a);
    if (v !== undefined) checksums[a] = v.trim().toLowerCase();
  }
  switch (kind) {
    case 'image':
      return { ...base, kind, image: str(node, 'image')!, path: str(node, 'path')!, imagePos: posOf(node, 'image') };
    case 'path': {
      const p = str(node, 'path')!;
      const nodeBase = node.entries.get('path')!.base;
      return { ...base, kind, path: isAbsolute(p) ? p : join(nodeBase, p), checksums };
    }
    case 'url':
      return { ...base, kind, url: str(node, 'url')!.trim(), checksums };
    case 'git': {
      const g = sub(node, 'git')!;
      return { ...base, kind, url: str(g, 'url')!, ref: str(g, 'ref')!, checksums };
    }
    case 'plain':
      return { ...base, kind, checksums };
  }
}

function toPackages(node: YMap | undefined, path: string, warnings: Warnings): Packages {
  const p: Packages = { install: [], remove: [], reinstall: [], repositories: [] };
  if (!node) return p;
  p.manager = str(node, 'manager');
  if (node.entries.has('manager_flags')) {
    const f = node.entries.get('manager_flags')!;
    p.managerFlags = f.kind === 'scalar' ? f.text : null;
  }
  p.install = texts(node, 'install') ?? [];
  p.remove = texts(node, 'remove') ?? [];
  p.reinstall = texts(node, 'reinstall') ?? [];
  for (const key of ['content_sets', 'content_sets_file']) {
    if (get(node, key)) warnings.add(`${where(posOf(node, key))}: key ${path}.${key} (ODCS content sets) is ignored by jettison`);
  }
  list(node, 'repositories').forEach((r, i) => {
    const m = r as YMap;
    const name = str(m, 'name')!;
    const kinds = (['url', 'rpm', 'id', 'odcs'] as const).filter((k) => get(m, k));
    if (kinds.length !== 1) {
      throw cekitError(m.pos, `key ${path}.repositories[${i}]: expected exactly one of the keys id, odcs, rpm, url in repository '${name}'`);
    }
    const kind = kinds[0]!;
    const url = kind === 'url' ? str(sub(m, 'url')!, 'repository') : undefined;
    if (kind === 'url' && !url) throw cekitError(posOf(m, 'url'), `key ${path}.repositories[${i}].url.repository: required key missing, expected a string`);
    p.repositories.push({
      name,
      kind,
      url,
      rpm: str(m, 'rpm'),
      filename: str(m, 'filename') ?? `${name.replace(/ /g, '_')}.repo`,
      pos: m.pos,
    });
  });
  return p;
}

function toCommon(node: YMap, warnings: Warnings, what: string): Descriptor {
  const envs: Env[] = list(node, 'envs').map((e) => ({ name: str(e as YMap, 'name')!, value: str(e as YMap, 'value') }));
  const labels: Label[] = list(node, 'labels').map((l) => ({ name: str(l as YMap, 'name')!, value: str(l as YMap, 'value')! }));
  const args: Arg[] = list(node, 'args').map((a) => ({ name: str(a as YMap, 'name')!, value: str(a as YMap, 'value') }));
  const ports: Port[] = list(node, 'ports').map((p) => {
    const m = p as YMap;
    const expose = get(m, 'expose');
    return { value: str(m, 'value')!, protocol: str(m, 'protocol'), expose: !(expose?.kind === 'scalar' && expose.value === false) };
  });
  const volumes: Volume[] = list(node, 'volumes').map((v) => {
    const path = str(v as YMap, 'path')!;
    return { name: str(v as YMap, 'name') ?? posix.basename(path), path };
  });
  const runNode = sub(node, 'run');
  const run: Run | undefined = runNode
    ? {
        user: str(runNode, 'user'),
        workdir: str(runNode, 'workdir'),
        cmd: texts(runNode, 'cmd'),
        entrypoint: texts(runNode, 'entrypoint'),
      }
    : undefined;
  const artifacts = list(node, 'artifacts').map((a, i) => toArtifact(a as YMap, `artifacts[${i}]`, warnings));
  const modules = sub(node, 'modules');
  const repositories: ModuleRepository[] = [];
  const install: InstallRef[] = [];
  if (modules) {
    list(modules, 'repositories').forEach((r, i) => {
      const m = r as YMap;
      const at = `modules.repositories[${i}]`;
      const p = str(m, 'path');
      const git = sub(m, 'git');
      if (get(m, 'url')) throw cekitError(posOf(m, 'url'), `key ${at}.url: URL module repositories are not supported, expected path or git`);
      if (!p && !git) throw cekitError(m.pos, `key ${at}: expected the key path or git`);
      if (p && git) throw cekitError(m.pos, `key ${at}: expected only one of the keys path and git`);
      const name = str(m, 'name') ?? defaultResourceName(m)!;
      repositories.push({
        name,
        path: p ? (isAbsolute(p) ? p : join(m.entries.get('path')!.base, p)) : undefined,
        git: git ? { url: str(git, 'url')!, ref: str(git, 'ref')! } : undefined,
        pos: m.pos,
      });
    });
    list(modules, 'install').forEach((r, i) => {
      const m = r as YMap;
      install.push({
        name: str(m, 'name')!,
        version: str(m, 'version'),
        pos: posOf(m, 'name'),
        versionPos: get(m, 'version') ? posOf(m, 'version') : undefined,
        key: `modules.install[${i}]`,
      });
    });
  }
  for (const key of ['osbs', 'help', 'release', 'follow_tag']) {
    if (get(node, key)) warnings.add(`${where(posOf(node, key))}: key ${key} in ${what} has no effect in jettison (ignored)`);
  }
  return {
    name: str(node, 'name')!,
    version: str(node, 'version')!,
    description: str(node, 'description'),
    args,
    labels,
    envs,
    ports,
    volumes,
    run,
    artifacts,
    repositories,
    install,
    packages: toPackages(sub(node, 'packages'), 'packages', warnings),
    pos: node.pos,
  };
}

export function toImage(node: YMap, warnings: Warnings): ImageDescriptor {
  const common = toCommon(node, warnings, `image '${str(node, 'name')}'`);
  return { ...common, from: str(node, 'from'), fromPos: posOf(node, 'from'), namePos: posOf(node, 'name') };
}

export function toModule(node: YMap, dir: string, warnings: Warnings): ModuleDescriptor {
  const common = toCommon(node, warnings, `module '${str(node, 'name')}'`);
  if (get(node, 'from')) warnings.add(`${where(posOf(node, 'from'))}: key from in module '${common.name}' has no effect (ignored)`);
  const execute: Execute[] = list(node, 'execute').map((e, i) => {
    const m = e as YMap;
    const script = str(m, 'script')!;
    return {
      name: str(m, 'name') ?? `${common.name}/${script}`,
      script,
      user: str(m, 'user') ?? 'root',
      pos: posOf(m, 'script'),
      key: `execute[${i}].script`,
    };
  });
  return { ...common, dir, execute };
}
