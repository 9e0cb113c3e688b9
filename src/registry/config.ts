/**
 * Where and how jettison talks to registries: which hosts get plain HTTP, which mirrors to try when
 * pulling, where credentials live. Resolved from the global flags (`--insecure-registry HOST`,
 * `--registry-mirror REGISTRY=MIRROR`) merged with jettison's config file:
 *
 *   $JETTISON_CONFIG, else $XDG_CONFIG_HOME/jettison/config.json, else ~/.config/jettison/config.json
 *   { "insecureRegistries": ["myreg.local:5000"],
 *     "registryMirrors": { "docker.io": ["http://127.0.0.1:5000"] } }
 *
 * A missing file is an empty config. Loopback registries (localhost, 127.0.0.0/8, ::1) always use plain
 * HTTP. docker.io is reached at registry-1.docker.io, as Docker does.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { JettisonError } from '../errors.ts';

export const DOCKER_HUB = 'docker.io';
export const DOCKER_HUB_ENDPOINT = 'registry-1.docker.io';

export interface RegistryConfig {
  /** Hosts ("host" or "host:port") reached over plain HTTP. */
  insecureRegistries: string[];
  /** Registry host → mirror base URLs, tried in order before the registry itself (pulls only). */
  mirrors: Record<string, string[]>;
  /** The environment (HOME, DOCKER_CONFIG…) used to find credentials. */
  env: NodeJS.ProcessEnv;
  /** The jettison config file that was read, when there was one. */
  configFile?: string;
}

/** The global options this module reads (a subset of the CLI's GlobalOptions). */
export interface RegistryGlobals {
  insecureRegistries?: string[];
  registryMirrors?: string[];
}

/** A malformed flag or config file (code REGISTRY_CONFIG). */
function configError(message: string): JettisonError {
  return new JettisonError('REGISTRY_CONFIG', message);
}

/** The path of jettison's config file for this environment. */
export function jettisonConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.JETTISON_CONFIG) return env.JETTISON_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'jettison', 'config.json');
}

/** "index.docker.io", "registry-1.docker.io", "docker.io" → "docker.io"; other hosts unchanged (lowercase). */
export function normalizeRegistryHost(host: string): string {
  const h = host.toLowerCase();
  if (h === 'index.docker.io' || h === DOCKER_HUB_ENDPOINT || h === DOCKER_HUB) return DOCKER_HUB;
  return h;
}

/**
 * Reduces what users type for a registry ("https://index.docker.io/v1/", "http://host:5000",
 * "host:5000/", "docker.io") to its host, normalised.
 */
export function registryHostOf(input: string): string {
  let s = input.trim();
  s = s.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = s.indexOf('/');
  if (slash >= 0) s = s.slice(0, slash);
  if (s === '') throw configError(`invalid registry "${input}"`);
  return normalizeRegistryHost(s);
}

function splitHostPort(host: string): { name: string; port: string | undefined } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (v6) return { name: v6[1], port: v6[2] };
  const colons = host.split(':').length - 1;
  if (colons === 1) {
    const [name, port] = host.split(':');
    return { name, port };
  }
  return { name: host, port: undefined }; // a bare IPv6 address or a plain name
}

/** localhost, 127.0.0.0/8 and ::1, with any port. */
export function isLoopback(host: string): boolean {
  const { name } = splitHostPort(host.toLowerCase());
  return name === 'localhost' || name === '::1' || /^127(?:\.\d{1,3}){3}$/.test(name);
}

/** True when the registry is reached over plain HTTP. */
export function isInsecure(host: string, config: Pick<RegistryConfig, 'insecureRegistries'>): boolean {
  const h = host.toLowerCase();
  if (isLoopback(h)) return true;
  const { name } = splitHostPort(h);
  return config.insecureRegistries.some((entry) => {
    const e = entry.toLowerCase();
    return e === h || (!splitHostPort(e).port && e === name);
  });
}

/** The base URL ("https://registry-1.docker.io", "http://127.0.0.1:5000") of a registry. */
export function registryEndpoint(registry: string, config: Pick<RegistryConfig, 'insecureRegistries'>): URL {
  const host = normalizeRegistryHost(registry);
  const real = host === DOCKER_HUB ? DOCKER_HUB_ENDPOINT : host;
  return new URL(`${isInsecure(host, config) ? 'http' : 'https'}://${real}`);
}

/** A mirror given as a URL or a bare host → its base URL (no trailing slash). */
export function mirrorEndpoint(mirror: string, config: Pick<RegistryConfig, 'insecureRegistries'>): URL {
  let url: URL;
  try {
    url = /^[a-z][a-z0-9+.-]*:\/\//i.test(mirror)
      ? new URL(mirror)
      : new URL(`${isInsecure(mirror.split('/')[0], config) ? 'http' : 'https'}://${mirror}`);
  } catch {
    throw configError(`invalid registry mirror "${mirror}": expected a URL such as http://127.0.0.1:5000`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw configError(`invalid registry mirror "${mirror}": expected an http:// or https:// URL`);
  }
  url.pathname = url.pathname.replace(/\/+$/, '').replace(/\/v2$/, '');
  url.search = '';
  url.hash = '';
  return url;
}

/** Parses one `--registry-mirror REGISTRY=MIRROR` value. */
export function parseMirrorFlag(value: string): { registry: string; mirror: string } {
  const eq = value.indexOf('=');
  if (eq <= 0 || eq === value.length - 1) {
    throw configError(`invalid --registry-mirror "${value}": expected REGISTRY=MIRROR, e.g. docker.io=http://127.0.0.1:5000`);
  }
  return { registry: registryHostOf(value.slice(0, eq)), mirror: value.slice(eq + 1) };
}

async function readConfigFile(file: string): Promise<{ insecureRegistries: string[]; mirrors: Record<string, string[]> } | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw configError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw configError(`${file}: invalid JSON: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw configError(`${file}: expected a JSON object`);
  }
  const obj = data as Record<string, unknown>;
  const insecure = obj.insecureRegistries ?? [];
  if (!Array.isArray(insecure) || insecure.some((h) => typeof h !== 'string')) {
    throw configError(`${file}: "insecureRegistries" must be an array of host names`);
  }
  const mirrorsIn = obj.registryMirrors ?? {};
  if (typeof mirrorsIn !== 'object' || mirrorsIn === null || Array.isArray(mirrorsIn)) {
    throw configError(`${file}: "registryMirrors" must be an object of registry → array of mirror URLs`);
  }
  const mirrors: Record<string, string[]> = {};
  for (const [registry, list] of Object.entries(mirrorsIn as Record<string, unknown>)) {
    const urls = typeof list === 'string' ? [list] : list;
    if (!Array.isArray(urls) || urls.some((u) => typeof u !== 'string')) {
      throw configError(`${file}: "registryMirrors.${registry}" must be an array of mirror URLs`);
    }
    (mirrors[registryHostOf(registry)] ??= []).push(...(urls as string[]));
  }
  return { insecureRegistries: (insecure as string[]).map((h) => registryHostOf(h)), mirrors };
}

/**
 * The registry configuration for a command: flags first, then the config file. Throws
 * JettisonError REGISTRY_CONFIG for a malformed flag or file.
 */
export async function resolveRegistryConfig(globals: RegistryGlobals = {}, env: NodeJS.ProcessEnv = process.env): Promise<RegistryConfig> {
  const file = jettisonConfigPath(env);
  const fromFile = await readConfigFile(file);
  const insecure = [...(globals.insecureRegistries ?? []).map((h) => registryHostOf(h)), ...(fromFile?.insecureRegistries ?? [])];
  const mirrors: Record<string, string[]> = {};
  for (const flag of globals.registryMirrors ?? []) {
    const { registry, mirror } = parseMirrorFlag(flag);
    (mirrors[registry] ??= []).push(mirror);
  }
  for (const [registry, list] of Object.entries(fromFile?.mirrors ?? {})) (mirrors[registry] ??= []).push(...list);
  const config: RegistryConfig = { insecureRegistries: [...new Set(insecure)], mirrors, env };
  // Validate mirrors now so a typo fails before any transfer.
  for (const list of Object.values(mirrors)) for (const m of list) mirrorEndpoint(m, config);
  if (fromFile) config.configFile = file;
  return config;
}
