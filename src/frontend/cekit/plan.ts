/**
 * The planner: descriptor + overrides → a plan of stages (builders then the final image), each a
 * list of sections (one per installed module, then the image's own content) with the artifacts,
 * packages, ARGs, ENVs, LABELs, ports, scripts and volumes to render, plus the files the build
 * context must hold. Reads the descriptor, override files and module repositories; everything else
 * is computed.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize, resolve } from 'node:path';
import {
  toImage,
  Warnings,
  where,
  type Arg,
  type Artifact,
  type Env,
  type ImageDescriptor,
  type Label,
  type ModuleDescriptor,
  type PackageRepository,
  type Port,
  type Run,
  type Volume,
} from './descriptor.ts';
import { displayPath, loadModuleRepositories, resolveInstallOrder } from './modules.ts';
import { applyOverrides } from './overrides.ts';
import { managerFlags, PACKAGE_MANAGERS, type PackageManager } from './packages.ts';
import { checkRequired, imageSchema, overridesSchema, validate } from './schema.ts';
import { cekitError, loadYamlFile, parseYaml, type YMap, type YNode } from './yaml.ts';

/** One override: a file, or inline YAML/JSON text (as `--overrides` takes it). */
export type OverrideSource = { file: string } | { inline: string };

export interface PlanOptions {
  overrides?: OverrideSource[];
  /** Squash the final image's own layers into one (default true, CEKit's default). */
  squash?: boolean;
  /** Where git module repositories are cloned (default: a `cekit` dir in the OS temp dir). */
  cacheDir?: string;
  /** Messages show file names relative to this directory (default: the current directory). */
  displayRoot?: string;
}

export interface Section {
  kind: 'module' | 'image';
  name: string;
  version: string;
  description?: string;
  /** Context-file artifacts (path, url, git, plain) with their context paths. */
  artifacts: { artifact: Artifact; contextPath: string; directory: boolean }[];
  imageArtifacts: (Artifact & { kind: 'image' })[];
  /** `modules/NAME` when the module has scripts to run. */
  contentPath?: string;
  packages: { install: string[]; remove: string[]; reinstall: string[] };
  args: Arg[];
  envs: Env[];
  labels: Label[];
  ports: Port[];
  execute: { user: string; script: string }[];
  volumes: Volume[];
}

export interface Stage {
  name: string;
  version: string;
  from: string;
  builder: boolean;
  /** The image's own ARGs (rendered before the modules, as CEKit does). */
  args: Arg[];
  manager: PackageManager;
  flags: string;
  repoFiles: { contextPath: string; filename: string }[];
  repoRpms: string[];
  sections: Section[];
  run: Run;
}

export type ContextFile =
  | { kind: 'module'; path: string; source: string }
  | { kind: 'artifact'; path: string; artifact: Artifact; directory: boolean }
  | { kind: 'repository'; path: string; url: string; name: string };

export interface CekitPlan {
  descriptor: string;
  stages: Stage[];
  squash: boolean;
  /** Default tags of the final image: name:version and name:latest. */
  tags: string[];
  contextFiles: ContextFile[];
  warnings: string[];
}

/** CEKit's default tags for an image. */
export function defaultTags(name: string, version: string): string[] {
  return [`${name}:${version}`, `${name}:latest`];
}

const STAGE_NAME = /^[a-z][a-z0-9_.-]*$/;
// A Docker image reference (distribution/reference grammar).
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?';
const REFERENCE = new RegExp(
  `^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`,
);

export function isImageReference(ref: string): boolean {
  return ref.length <= 255 && REFERENCE.test(ref);
}

function safeName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return s === '' ? '_' : s;
}

function loadOverrides(sources: OverrideSource[], descriptorDir: string, displayRoot: string): YMap[] {
  return sources.map((src, i) => {
    let node: YNode;
    if ('file' in src) {
      node = loadYamlFile(src.file, displayPath(resolve(src.file), displayRoot));
    } else {
      node = parseYaml(src.inline, `--overrides[${i + 1}]`, descriptorDir);
    }
    if (node.kind === 'scalar' && node.type === 'null') {
      return { kind: 'map', entries: new Map(), keyPos: new Map(), pos: node.pos, base: node.base } as YMap;
    }
    if (node.kind !== 'map') throw cekitError(node.pos, `overrides: expected a mapping of image keys`);
    validate(node, overridesSchema, '', 'overrides');
    return node;
  });
}

/** Reads the descriptor, applies overrides, loads modules and computes the plan. */
export async function planDescriptor(descriptorPath: string, opts: PlanOptions = {}): Promise<CekitPlan> {
  const displayRoot = opts.displayRoot ?? process.cwd();
  const abs = resolve(descriptorPath);
  const warnings = new Warnings();
  const root = loadYamlFile(abs, displayPath(abs, displayRoot));
  const overrides = loadOverrides(opts.overrides ?? [], resolve(abs, '..'), displayRoot);

  const imageNodes: YMap[] = [];
  if (root.kind === 'seq') {
    if (root.items.length === 0) throw cekitError(root.pos, 'descriptor: expected an image, or a list of images, got an empty list');
    root.items.forEach((item, i) => {
      if (item.kind !== 'map') throw cekitError(item.pos, `descriptor[${i}]: expected an image descriptor (a mapping)`);
      imageNodes.push(item);
    });
  } else if (root.kind === 'map') {
    imageNodes.push(root);
  } else {
    throw cekitError(root.pos, 'descriptor: expected an image descriptor (a mapping) or a list of them');
  }
  const images: ImageDescriptor[] = imageNodes.map((node, i) => {
    const prefix = imageNodes.length > 1 ? `[${i}]` : '';
    validate(node, imageSchema, '', `image descriptor${prefix}`);
    const merged = applyOverrides(node, overrides);
    validate(merged, imageSchema, '', `image descriptor${prefix}`);
    checkRequired(merged, imageSchema, '', `image descriptor${prefix}`);
    return toImage(merged, warnings);
  });

  const builders = images.slice(0, -1);
  const stageNames = new Map<string, number>();
  builders.forEach((b, i) => {
    if (!STAGE_NAME.test(b.name)) {
      throw cekitError(b.namePos, `key name: builder image name '${b.name}' is used as the stage name and must match ${STAGE_NAME.source}`);
    }
    if (stageNames.has(b.name)) throw cekitError(b.namePos, `key name: builder image name '${b.name}' is used twice`);
    stageNames.set(b.name, i);
  });

  const registry = await loadModuleRepositories(
    images.flatMap((img) => img.repositories),
    { cacheDir: opts.cacheDir ?? join(process.env.TMPDIR ?? '/tmp', 'jettison-cekit'), warnings, displayRoot },
  );

  const contextFiles: ContextFile[] = [];
  const artifactPaths = new Map<string, string>(); // identity → context path
  const usedPaths = new Set<string>();
  const modulePaths = new Map<string, ModuleDescriptor>();

  const artifactPath = (a: Artifact, directory: boolean): string => {
    const identity = JSON.stringify({ ...a, pos: undefined, description: undefined });
    const known = artifactPaths.get(identity);
    if (known) return known;
    let dir = `artifacts/${safeName(a.name)}`;
    for (let n = 2; usedPaths.has(dir); n++) dir = `artifacts/${safeName(a.name)}-${n}`;
    usedPaths.add(dir);
    const path = `${dir}/${a.target}`;
    artifactPaths.set(identity, path);
    contextFiles.push({ kind: 'artifact', path, artifact: a, directory });
    return path;
  };

  const stages: Stage[] = images.map((img, index) => {
    const builder = index < images.length - 1;
    if (!img.from) throw cekitError(img.pos, `key from: required key missing in image '${img.name}', expected the base image`);
    const order = resolveInstallOrder(img.name, img.install, registry, warnings);
    const imageArtifacts = new Map(img.artifacts.map((a) => [a.name, a]));

    // Package manager, flags and repositories: the image's, else those contributed by modules.
    let managerName = img.packages.manager;
    let flags = img.packages.managerFlags;
    const repos = new Map<string, PackageRepository>(img.packages.repositories.map((r) => [r.name, r]));
    let run: Run = {};
    for (const { module } of order) {
      if (!img.packages.manager && module.packages.manager) managerName = module.packages.manager;
      if (img.packages.managerFlags === undefined && module.packages.managerFlags !== undefined) flags = module.packages.managerFlags;
      for (const r of module.packages.repositories) if (!repos.has(r.name)) repos.set(r.name, r);
      if (module.run) run = mergeRun(run, module.run);
    }
    if (img.run) run = mergeRun(run, img.run);
    const manager = PACKAGE_MANAGERS[managerName ?? 'yum']!;

    const checkImageArtifact = (a: Artifact & { kind: 'image' }): void => {
      const at = stageNames.get(a.image);
      if (at !== undefined) {
        if (at >= index) {
          throw cekitError(
            a.imagePos,
            `key ${a.key}.image: '${a.image}' is ${at === index ? 'this image itself' : 'a later builder'}, expected an earlier builder image`,
          );
        }
        return;
      }
      if (!isImageReference(a.image)) {
        const known = [...stageNames.keys()].slice(0, builder ? index : undefined);
        throw cekitError(
          a.imagePos,
          `key ${a.key}.image: '${a.image}' names no builder image (${known.length ? `builders: ${known.join(', ')}` : 'there are no builders'}) and is not a valid image reference`,
        );
      }
      if (!/[/:@]/.test(a.image)) {
        warnings.add(`${where(a.pos)}: artifact '${a.name}': image '${a.image}' is not a builder of this descriptor; it is pulled as an image`);
      }
    };

    const section = (d: ModuleDescriptor | ImageDescriptor, kind: 'module' | 'image'): Section => {
      const artifacts: Section['artifacts'] = [];
      const imageContent: Section['imageArtifacts'] = [];
      for (const original of d.artifacts) {
        // Artifacts the image defines (or overrides) replace a module's artifact of the same name.
        const a = kind === 'module' ? (imageArtifacts.get(original.name) ?? original) : original;
        if (a.kind === 'image') {
          checkImageArtifact(a);
          imageContent.push(a);
          continue;
        }
        let directory = a.kind === 'git';
        if (a.kind === 'path') {
          if (!existsSync(a.path)) {
            throw cekitError(a.pos, `key ${a.key}.path: artifact '${a.name}': ${displayPath(a.path, displayRoot)} does not exist`);
          }
          directory = statSync(a.path).isDirectory();
        }
        artifacts.push({ artifact: a, contextPath: artifactPath(a, directory), directory });
      }
      const s: Section = {
        kind,
        name: d.name,
        version: d.version,
        description: d.description,
        artifacts,
        imageArtifacts: imageContent,
        packages: { install: d.packages.install, remove: d.packages.remove, reinstall: d.packages.reinstall },
        args: kind === 'module' ? d.args : [],
        envs: d.envs,
        labels: d.labels,
        ports: builder ? [] : d.ports,
        execute: [],
        volumes: builder ? [] : d.volumes,
      };
      if (builder && (d.ports.length || d.volumes.length)) {
        warnings.add(`${where(d.pos)}: ports and volumes of ${kind} '${d.name}' have no effect in builder image '${img.name}' (ignored)`);
      }
      if (kind === 'module' && 'execute' in d && d.execute.length) {
        const path = `modules/${d.name}`;
        const other = modulePaths.get(path);
        if (other && other.dir !== d.dir) {
          throw cekitError(d.pos, `module '${d.name}' is used in two versions (${other.version} and ${d.version}); a build context holds one`);
        }
        if (!other) {
          modulePaths.set(path, d);
          contextFiles.push({ kind: 'module', path, source: d.dir });
        }
        s.contentPath = path;
        for (const e of d.execute) {
          const script = normalize(e.script);
          if (isAbsolute(script) || script.startsWith('..') || !existsSync(join(d.dir, script))) {
            throw cekitError(e.pos, `key ${e.key}: expected a file in the directory of module '${d.name}', got ${JSON.stringify(e.script)}`);
          }
          s.execute.push({ user: e.user, script: `/tmp/scripts/${d.name}/${script}` });
        }
      }
      return s;
    };

    const sections = order.map(({ module }) => section(module, 'module'));
    const own = section(img, 'image');
    if (!builder) {
      // CEKit's build labels: description (unless given) and summary (from the description).
      const labels = [...own.labels];
      if (img.description && !labels.some((l) => l.name === 'description')) labels.push({ name: 'description', value: img.description });
      const desc = labels.find((l) => l.name === 'description');
      if (desc && !labels.some((l) => l.name === 'summary')) labels.push({ name: 'summary', value: desc.value });
      own.labels = labels;
    } else if (img.run) {
      warnings.add(`${where(img.pos)}: run of builder image '${img.name}' has no effect (ignored)`);
    }
    sections.push(own);

    const repoFiles: Stage['repoFiles'] = [];
    const repoRpms: string[] = [];
    for (const r of repos.values()) {
      if (!manager.repositories) {
        warnings.add(`${where(r.pos)}: package repository '${r.name}' ignored: the ${manager.name} package manager does not support CEKit repositories`);
        continue;
      }
      if (r.kind === 'url') {
        if (!/^[A-Za-z0-9._-]+$/.test(r.filename)) throw cekitError(r.pos, `package repository '${r.name}': filename ${JSON.stringify(r.filename)} is not a plain file name`);
        const path = `repos/${r.filename}`;
        if (!contextFiles.some((f) => f.path === path)) contextFiles.push({ kind: 'repository', path, url: r.url!, name: r.name });
        repoFiles.push({ contextPath: path, filename: r.filename });
      } else if (r.kind === 'rpm') {
        repoRpms.push(r.rpm!);
      } else if (r.kind === 'id') {
        warnings.add(`${where(r.pos)}: Repository '${r.name}' is defined as plain. It must be available inside the image as jettison will not inject it.`);
      } else {
        warnings.add(`${where(r.pos)}: package repository '${r.name}' (ODCS) is ignored by jettison`);
      }
    }

    return {
      name: img.name,
      version: img.version,
      from: img.from,
      builder,
      args: img.args,
      manager,
      flags: managerFlags(manager, flags),
      repoFiles,
      repoRpms,
      sections,
      run,
    };
  });

  const final = images[images.length - 1]!;
  return {
    descriptor: abs,
    stages,
    squash: opts.squash ?? true,
    tags: defaultTags(final.name, final.version),
    contextFiles,
    warnings: warnings.list,
  };
}

function mergeRun(base: Run, over: Run): Run {
  const out: Run = { ...base };
  for (const k of ['user', 'workdir', 'cmd', 'entrypoint'] as const) {
    if (over[k] !== undefined) (out as Record<string, unknown>)[k] = over[k];
  }
  return out;
}

