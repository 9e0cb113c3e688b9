/**
 * Registry credentials in Docker's client config file: `$DOCKER_CONFIG/config.json`, else
 * `~/.docker/config.json`. Reads `auths` entries (`auth` = base64 "user:password", or
 * `username`/`password`, or `identitytoken`/`registrytoken`) and, when `credHelpers`/`credsStore`
 * name an installed `docker-credential-*` helper, asks the helper. Writes (login/logout) keep every
 * other field of the file, replace it atomically and leave it mode 0600, as `docker login` does.
 * Docker Hub's entry is keyed "https://index.docker.io/v1/"; other registries by host[:port].
 */
import { spawn } from 'node:child_process';
import { access, constants, mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { JettisonError } from '../errors.ts';
import { writeFileAtomic } from '../util/fs.ts';
import { DOCKER_HUB, registryHostOf } from './config.ts';

export interface Credentials {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token ("identitytoken"). */
  identityToken?: string;
  /** A bearer token sent as is ("registrytoken"). */
  registryToken?: string;
}

export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
  [k: string]: unknown;
}

interface DockerConfigFile {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [k: string]: unknown;
}

export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(dockerConfigDir(env), 'config.json');
}

/** The key under `auths` that Docker uses for a registry. */
export function authKey(registry: string): string {
  const host = registryHostOf(registry);
  return host === DOCKER_HUB ? DOCKER_HUB_AUTH_KEY : host;
}

async function readConfig(file: string): Promise<DockerConfigFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new JettisonError('DOCKER_CONFIG', `cannot read ${file}: ${(err as Error).message}`);
  }
  if (text.trim() === '') return {};
  try {
    const data = JSON.parse(text) as unknown;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error('expected a JSON object');
    return data as DockerConfigFile;
  } catch (err) {
    throw new JettisonError('DOCKER_CONFIG', `${file}: invalid docker config: ${(err as Error).message}`);
  }
}

/** The auths entry for a registry: by its exact key, else any key naming the same host. */
function findEntry(config: DockerConfigFile, registry: string): [string, AuthEntry] | undefined {
  const auths = config.auths ?? {};
  const key = authKey(registry);
  if (auths[key]) return [key, auths[key]];
  const host = registryHostOf(registry);
  for (const [k, v] of Object.entries(auths)) {
    try {
      if (registryHostOf(k) === host) return [k, v];
    } catch {
      // an unparsable key: not ours
    }
  }
  return undefined;
}

function decodeEntry(entry: AuthEntry, where: string): Credentials | undefined {
  const creds: Credentials = {};
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new JettisonError('DOCKER_CONFIG', `${where}: invalid auth configuration: expected base64 of "user:password"`);
    creds.username = decoded.slice(0, colon);
    creds.password = decoded.slice(colon + 1);
  } else if (typeof entry.username === 'string') {
    creds.username = entry.username;
    if (typeof entry.password === 'string') creds.password = entry.password;
  }
  if (typeof entry.identitytoken === 'string' && entry.identitytoken) creds.identityToken = entry.identitytoken;
  if (typeof entry.registrytoken === 'string' && entry.registrytoken) creds.registryToken = entry.registrytoken;
  return Object.keys(creds).length > 0 ? creds : undefined;
}

async function findExecutable(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

function runHelper(bin: string, verb: 'get' | 'store' | 'erase', input: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [verb], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => (stdout += s));
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout }));
    child.stdin.end(input);
  });
}

function helperName(config: DockerConfigFile, registry: string): string | undefined {
  const key = authKey(registry);
  const host = registryHostOf(registry);
  return config.credHelpers?.[key] ?? config.credHelpers?.[host] ?? config.credsStore ?? undefined;
}

/** Credentials for a registry, or undefined (anonymous). */
export async function readCredentials(registry: string, env: NodeJS.ProcessEnv = process.env): Promise<Credentials | undefined> {
  const file = dockerConfigPath(env);
  const config = await readConfig(file);
  const helper = helperName(config, registry);
  if (helper) {
    const bin = await findExecutable(`docker-credential-${helper}`, env);
    if (bin) {
      const r = await runHelper(bin, 'get', authKey(registry), env);
      if (r.code === 0) {
        try {
          const out = JSON.parse(r.stdout) as { Username?: string; Secret?: string };
          if (out.Username === '<token>') return { identityToken: out.Secret };
          return { username: out.Username, password: out.Secret };
        } catch {
          throw new JettisonError('DOCKER_CONFIG', `docker-credential-${helper} returned invalid JSON`);
        }
      }
      // Not found in the helper: fall through to the file.
    }
  }
  const found = findEntry(config, registry);
  return found ? decodeEntry(found[1], `${file}: auths["${found[0]}"]`) : undefined;
}

async function writeConfig(file: string, dir: string, config: DockerConfigFile): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600 });
}

/**
 * Saves credentials for a registry (`jettison login`): in its credential helper when one is configured
 * and installed, else base64 in `auths`. Returns where they went.
 */
export async function storeCredentials(registry: string, creds: { username: string; password: string }, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const dir = dockerConfigDir(env);
  const file = dockerConfigPath(env);
  const config = await readConfig(file);
  const key = authKey(registry);
  const helper = helperName(config, registry);
  if (helper) {
    const bin = await findExecutable(`docker-credential-${helper}`, env);
    if (bin) {
      const r = await runHelper(bin, 'store', JSON.stringify({ ServerURL: key, Username: creds.username, Secret: creds.password }), env);
      if (r.code !== 0) throw new JettisonError('DOCKER_CONFIG', `docker-credential-${helper} could not store the credentials`);
      // Docker leaves an empty entry in auths so that the registry is listed.
      config.auths = { ...(config.auths ?? {}), [key]: {} };
      await writeConfig(file, dir, config);
      return `docker-credential-${helper}`;
    }
  }
  const auths = { ...(config.auths ?? {}) };
  const old = findEntry(config, registry);
  if (old && old[0] !== key) delete auths[old[0]];
  auths[key] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
  config.auths = auths;
  await writeConfig(file, dir, config);
  return file;
}

/** Removes a registry's credentials (`jettison logout`). Resolves to false when there were none. */
export async function removeCredentials(registry: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const dir = dockerConfigDir(env);
  const file = dockerConfigPath(env);
  const config = await readConfig(file);
  let removed = false;
  const helper = helperName(config, registry);
  if (helper) {
    const bin = await findExecutable(`docker-credential-${helper}`, env);
    if (bin) removed = (await runHelper(bin, 'erase', authKey(registry), env)).code === 0;
  }
  const auths = { ...(config.auths ?? {}) };
  const host = registryHostOf(registry);
  for (const k of Object.keys(auths)) {
    let h: string;
    try {
      h = registryHostOf(k);
    } catch {
      continue;
    }
    if (h === host) {
      delete auths[k];
      removed = true;
    }
  }
  if (!removed) return false;
  config.auths = auths;
  await writeConfig(file, dir, config);
  return true;
}
