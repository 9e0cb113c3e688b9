/**
 * The shape of CEKit image, module and overrides descriptors (after CEKit's pykwalify schemas) and a
 * validator that reports the first problem as `FILE:LINE:COL: key PATH: expected …`. Unknown keys are
 * errors, as in CEKit. Types follow pykwalify: `str` is a string, `text` a string or a number, `any`
 * any scalar. A null value counts as absent (PyYAML + pykwalify), except where `nullable` is set.
 */
import { cekitError, type YMap, type YNode } from './yaml.ts';

export type Schema =
  | { t: 'str' | 'text' | 'int' | 'bool' | 'any'; required?: boolean; nullable?: boolean; enum?: string[] }
  | { t: 'map'; keys: Record<string, Schema>; required?: boolean; open?: boolean }
  | { t: 'seq'; of: Schema; required?: boolean };

const str: Schema = { t: 'str' };
const text: Schema = { t: 'text' };
const req = <S extends Schema>(s: S): S => ({ ...s, required: true });
const seq = (of: Schema): Schema => ({ t: 'seq', of });
const map = (keys: Record<string, Schema>): Schema => ({ t: 'map', keys });

export const CHECKSUM_ALGORITHMS = ['md5', 'sha1', 'sha256', 'sha512'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** Every key any artifact kind accepts; the kind-specific check happens when the artifact is built. */
export const artifactSchema = map({
  name: str,
  target: str,
  dest: str,
  description: text,
  path: str,
  url: str,
  image: str,
  git: map({ url: req(str), ref: req(text) }),
  md5: str,
  sha1: str,
  sha256: str,
  sha512: str,
  'source-url': str,
  'source-md5': str,
  'source-sha1': str,
  'source-sha256': str,
  pnc_build_id: text,
  pnc_artifact_id: text,
});

const repositorySchema = map({
  name: str,
  description: text,
  path: str,
  url: str,
  git: map({ url: req(str), ref: req(text) }),
});

const packageRepositorySchema = map({
  name: req(str),
  id: str,
  description: text,
  filename: str,
  present: { t: 'bool' },
  rpm: str,
  url: map({ repository: str, gpg: str }),
  odcs: map({ pulp: str }),
});

export const PACKAGE_MANAGERS = ['yum', 'dnf', 'microdnf', 'apk', 'apt-get'];

const packagesSchema = map({
  manager: { t: 'str', enum: PACKAGE_MANAGERS },
  manager_flags: { t: 'text', nullable: true },
  install: seq(text),
  remove: seq(text),
  reinstall: seq(text),
  repositories: seq(packageRepositorySchema),
  content_sets: { t: 'map', keys: {}, open: true },
  content_sets_file: str,
});

const imageKeys: Record<string, Schema> = {
  name: str,
  version: text,
  schema_version: { t: 'int' },
  release: text,
  from: str,
  follow_tag: str,
  description: text,
  args: seq(map({ name: req(str), value: text, example: text, description: text })),
  labels: seq(map({ name: req(str), value: req(text), description: text })),
  envs: seq(map({ name: req(str), value: { t: 'any' }, example: { t: 'any' }, description: text })),
  ports: seq(
    map({ value: req({ t: 'int' }), protocol: str, service: str, expose: { t: 'bool' }, description: text }),
  ),
  volumes: seq(map({ name: str, path: req(str) })),
  run: map({ user: text, workdir: str, cmd: seq(text), entrypoint: seq(text) }),
  artifacts: seq(artifactSchema),
  modules: map({ repositories: seq(repositorySchema), install: seq(map({ name: req(str), version: text })) }),
  packages: packagesSchema,
  osbs: { t: 'map', keys: {}, open: true },
  help: map({ add: { t: 'bool' }, template: str }),
};

export const imageSchema: Schema = map({ ...imageKeys, name: req(str), version: req(text) });
export const overridesSchema: Schema = map(imageKeys);
export const moduleSchema: Schema = map({
  ...imageKeys,
  name: req(str),
  version: req(text),
  execute: seq(map({ name: str, script: req(str), user: text })),
});

function describe(s: Schema): string {
  switch (s.t) {
    case 'str':
      return s.enum ? `one of ${s.enum.join(', ')}` : 'a string';
    case 'text':
      return 'a string or a number';
    case 'int':
      return 'an integer';
    case 'bool':
      return 'a boolean (true/false)';
    case 'any':
      return 'a scalar value';
    case 'map':
      return 'a mapping';
    case 'seq':
      return 'a list';
  }
}

function shown(node: YNode): string {
  if (node.kind === 'map') return 'a mapping';
  if (node.kind === 'seq') return 'a list';
  if (node.type === 'null') return 'null';
  return node.type === 'str' ? JSON.stringify(node.value) : String(node.text);
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/** Checks `node` against `schema`; throws a SourceError naming the key path on the first problem. */
export function validate(node: YNode, schema: Schema, path: string, what = 'descriptor'): void {
  const fail = (n: YNode, detail: string): never => {
    throw cekitError(n.pos, path ? `key ${path}: ${detail}` : `${what}: ${detail}`);
  };
  if (node.kind === 'scalar' && node.type === 'null' && schema.t !== 'map') {
    if (schema.t !== 'seq' && schema.nullable) return;
    return;
  }
  switch (schema.t) {
    case 'str':
      if (node.kind !== 'scalar' || node.type !== 'str') fail(node, `expected ${describe(schema)}, got ${shown(node)}`);
      if (schema.enum && node.kind === 'scalar' && !schema.enum.includes(String(node.value))) {
        fail(node, `expected one of ${schema.enum.join(', ')}, got ${shown(node)}`);
      }
      return;
    case 'text':
      if (node.kind !== 'scalar' || node.type === 'bool') fail(node, `expected ${describe(schema)}, got ${shown(node)}`);
      return;
    case 'int':
      if (node.kind !== 'scalar' || node.type !== 'int') fail(node, `expected ${describe(schema)}, got ${shown(node)}`);
      return;
    case 'bool':
      if (node.kind !== 'scalar' || node.type !== 'bool') fail(node, `expected ${describe(schema)}, got ${shown(node)}`);
      return;
    case 'any':
      if (node.kind !== 'scalar') fail(node, `expected ${describe(schema)}, got ${shown(node)}`);
      return;
    case 'seq':
      if (node.kind !== 'seq') return fail(node, `expected a list, got ${shown(node)}`);
      node.items.forEach((item, i) => validate(item, schema.of, join(path, i), what));
      return;
    case 'map': {
      if (node.kind === 'scalar' && node.type === 'null') return;
      if (node.kind !== 'map') return fail(node, `expected a mapping, got ${shown(node)}`);
      if (schema.open) return;
      for (const [key, value] of node.entries) {
        const sub = schema.keys[key];
        if (!sub) {
          const keyPos = node.keyPos.get(key) ?? node.pos;
          throw cekitError(
            keyPos,
            `key ${join(path, key)}: unknown key, expected one of: ${Object.keys(schema.keys).join(', ')}`,
          );
        }
        validate(value, sub, join(path, key), what);
      }
      checkRequired(node, schema, path, what);
      return;
    }
  }
}

/** Required keys of a mapping (checked again after overrides are merged). */
export function checkRequired(node: YMap, schema: Schema, path: string, what = 'descriptor'): void {
  if (schema.t !== 'map') return;
  for (const [key, sub] of Object.entries(schema.keys)) {
    if (!sub.required) continue;
    const v = node.entries.get(key);
    if (!v || (v.kind === 'scalar' && v.type === 'null')) {
      const at = path ? `key ${join(path, key)}` : `key ${key}`;
      throw cekitError(v?.pos ?? node.pos, `${at}: required key missing in ${what}, expected ${describe(sub)}`);
    }
  }
}
