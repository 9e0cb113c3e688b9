/**
 * CEKit modules: the registry of every module found in the module repositories (by name and version,
 * the highest version being the default), loading repositories from local paths and git (cloned with
 * the git CLI into a cache directory), and the install order CEKit computes: the listed order, each
 * module's dependencies first (depth first), a module already installed is not installed again, and
 * a dependency cycle is broken where it closes (reported as a warning).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { JettisonError, type SourcePosition } from '../../errors.ts';
import { toModule, where, type InstallRef, type ModuleDescriptor, type ModuleRepository, type Warnings } from './descriptor.ts';
import { moduleSchema, validate } from './schema.ts';
import { compareVersions } from './version.ts';
import { cekitError, loadYamlFile, type YMap } from './yaml.ts';

const MODULE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

export class ModuleRegistry {
  private readonly modules = new Map<string, Map<string, ModuleDescriptor>>();
  private readonly defaults = new Map<string, string>();

  add(module: ModuleDescriptor): void {
    if (!MODULE_NAME.test(module.name)) {
      throw cekitError(module.pos, `key name: module name ${JSON.stringify(module.name)} must be a plain name (letters, digits, '.', '_', '-')`);
    }
    let versions = this.modules.get(module.name);
    if (!versions) {
      versions = new Map();
      this.modules.set(module.name, versions);
      this.defaults.set(module.name, module.version);
    }
    const existing = versions.get(module.version);
    if (existing) {
      throw cekitError(
        module.pos,
        `Module '${module.name}' with version '${module.version}' already exists in module registry (also defined in ${existing.dir})`,
      );
    }
    versions.set(module.version, module);
    if (compareVersions(module.version, this.defaults.get(module.name)!) > 0) this.defaults.set(module.name, module.version);
  }

  /** The module asked for; without a version, the highest one. Errors point at the install entry. */
  get(ref: InstallRef, warnings: Warnings): ModuleDescriptor {
    const versions = this.modules.get(ref.name);
    if (!versions) throw cekitError(ref.pos, `key ${ref.key}.name: There are no modules with '${ref.name}' name available`);
    if (ref.version === undefined) {
      const def = this.defaults.get(ref.name)!;
      if (versions.size > 1) {
        warnings.add(`${where(ref.pos)}: Module version not specified for '${ref.name}' module, using '${def}' default version`);
      }
      return versions.get(def)!;
    }
    const m = versions.get(ref.version);
    if (!m) {
      const available = [...versions.keys()].sort(compareVersions).join(', ');
      throw cekitError(
        ref.versionPos ?? ref.pos,
        `key ${ref.key}.version: Module '${ref.name}' with version '${ref.version}' could not be found, available versions: ${available}`,
      );
    }
    return m;
  }

  /** Every module, for listing. */
  all(): ModuleDescriptor[] {
    return [...this.modules.values()].flatMap((v) => [...v.values()]);
  }
}

function run(cmd: string, args: string[], cwd?: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 4000) err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolvePromise();
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}: ${err.trim()}`));
    });
  });
}

/** Clones `url` at `ref` into the cache (a fresh clone each time, as CEKit does); returns its directory. */
export async function cloneGit(url: string, ref: string, cacheDir: string, what: string): Promise<string> {
  const key = createHash('sha256').update(`${url}\0${ref}`).digest('hex').slice(0, 32);
  const root = join(cacheDir, 'git');
  mkdirSync(root, { recursive: true });
  const dir = join(root, key);
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  if (ref.startsWith('-') || url.startsWith('-')) {
    throw new JettisonError('CEKIT_GIT', `${what}: invalid git url or ref (must not start with '-')`);
  }
  try {
    await run('git', ['clone', '--quiet', '--no-checkout', '--', url, tmp]);
    await run('git', ['-c', 'advice.detachedHead=false', 'checkout', '--quiet', ref, '--'], tmp);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw new JettisonError('CEKIT_GIT', `${what}: cannot clone ${url} at ${ref}: ${(err as Error).message}`);
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}

function findModuleFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    const entries = readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.isFile() && e.name === 'module.yaml') found.push(join(d, e.name));
    }
    for (const e of entries) {
      if (e.isDirectory() && e.name !== '.git') walk(join(d, e.name));
    }
  };
  walk(dir);
  return found;
}

export interface LoadOptions {
  /** Where git module repositories are cloned. */
  cacheDir: string;
  warnings: Warnings;
  /** Shown instead of absolute paths in messages (file names relative to it). */
  displayRoot?: string;
}

export function displayPath(path: string, root: string | undefined): string {
  if (!root) return path;
  const rel = relative(root, path);
  return rel.startsWith('..') || rel === '' ? path : rel;
}

/** Loads every module of the given repositories (and of repositories the modules name) into a registry. */
export async function loadModuleRepositories(repositories: ModuleRepository[], opts: LoadOptions): Promise<ModuleRegistry> {
  const registry = new ModuleRegistry();
  const seen = new Map<string, ModuleRepository>();
  const queue = [...repositories];
  while (queue.length) {
    const repo = queue.shift()!;
    const prior = seen.get(repo.name);
    if (prior) {
      const same = prior.path === repo.path && prior.git?.url === repo.git?.url && prior.git?.ref === repo.git?.ref;
      if (!same) {
        opts.warnings.add(
          `${where(repo.pos)}: Module repository '${repo.name}' already added, please check your image configuration, skipping module repository '${repo.name}'`,
        );
      }
      continue;
    }
    seen.set(repo.name, repo);
    let dir: string;
    if (repo.git) {
      dir = await cloneGit(repo.git.url, repo.git.ref, opts.cacheDir, `${where(repo.pos)}: module repository '${repo.name}'`);
    } else {
      dir = repo.path!;
      if (!existsSync(dir) || !statSync(dir).isDirectory()) {
        throw cekitError(repo.pos, `key modules.repositories: module repository '${repo.name}': directory ${displayPath(dir, opts.displayRoot)} does not exist`);
      }
    }
    for (const file of findModuleFiles(dir)) {
      const node = loadYamlFile(file, displayPath(file, opts.displayRoot));
      if (node.kind !== 'map') throw cekitError(node.pos, 'module descriptor: expected a mapping');
      validate(node, moduleSchema, '', 'module descriptor');
      const module = toModule(node as YMap, resolve(file, '..'), opts.warnings);
      registry.add(module);
      queue.push(...module.repositories);
    }
  }
  return registry;
}

/** A module to install, with the install entry that asked for it. */
export interface ModuleToInstall {
  module: ModuleDescriptor;
  requestedBy: string;
  pos: SourcePosition;
}

/**
 * The modules an image installs, in CEKit's order. The image's own install entries (after overrides)
 * also decide the version of the same module wherever a dependency asks for it.
 */
export function resolveInstallOrder(
  imageName: string,
  install: InstallRef[],
  registry: ModuleRegistry,
  warnings: Warnings,
): ModuleToInstall[] {
  const imageChoice = new Map(install.map((r) => [r.name, r]));
  const order = new Map<string, ModuleToInstall>();
  const stack: string[] = [];
  const visit = (source: string, refs: InstallRef[]): void => {
    for (const asked of refs) {
      const ref = imageChoice.get(asked.name) ?? asked;
      const existing = order.get(ref.name);
      if (existing) {
        const at = stack.indexOf(ref.name);
        if (at >= 0) {
          const cycle = [...stack.slice(at), ref.name].join(' -> ');
          warnings.add(
            `${where(asked.pos)}: module dependency cycle ${cycle}: '${source}' is installed before '${ref.name}' to break it`,
          );
        } else if (ref.version !== undefined && ref.version !== existing.module.version) {
          warnings.add(
            `${where(asked.pos)}: Module version inconsistency for ${ref.name}: ${ref.version} requested, but ${existing.module.version} will be used.`,
          );
        }
        continue;
      }
      const module = registry.get(ref, warnings);
      const entry: ModuleToInstall = { module, requestedBy: source, pos: ref.pos };
      order.set(ref.name, entry);
      stack.push(ref.name);
      visit(module.name, module.install);
      stack.pop();
      // Dependencies first: move this module after everything it pulled in.
      order.delete(ref.name);
      order.set(ref.name, entry);
    }
  };
  visit(imageName, install);
  return [...order.values()];
}
