/**
 * login: checks credentials against a registry (GET /v2/ with the scheme its challenge asks for:
 * Basic, or a bearer token fetched with the credentials) and saves them in Docker's config file the
 * way `docker login` does; logout removes them.
 */
import { RegistryError } from '../errors.ts';
import { statusText } from './auth.ts';
import { RegistryClient } from './client.ts';
import { registryEndpoint, registryHostOf, resolveRegistryConfig, type RegistryConfig } from './config.ts';
import { authKey, removeCredentials, storeCredentials } from './credentials.ts';
import { drain, redact } from './http.ts';

export interface LoginOptions {
  config?: RegistryConfig;
  /** Retries of the check (default 3). */
  retries?: number;
  retryDelayMs?: number;
}

export interface LoginResult {
  /** The registry host ("docker.io", "127.0.0.1:5000"). */
  registry: string;
  /** The key of the entry in the docker config ("https://index.docker.io/v1/" for Docker Hub). */
  key: string;
  /** The file or credential helper the credentials went to. */
  storedIn: string;
}

/** Verifies `username`/`password` against the registry, then saves them. */
export async function login(registry: string, creds: { username: string; password: string }, opts: LoginOptions = {}): Promise<LoginResult> {
  const host = registryHostOf(registry);
  const config = opts.config ?? (await resolveRegistryConfig({}, process.env));
  const endpoint = registryEndpoint(host, config);
  const client = new RegistryClient({
    registry: host,
    endpoint,
    credentials: async () => ({ username: creds.username, password: creds.password }),
    retries: opts.retries,
    retryDelayMs: opts.retryDelayMs,
  });
  const pingUrl = client.url('');
  let status: number;
  try {
    const res = await client.ping();
    status = res.status;
    await drain(res);
  } catch (err) {
    if (err instanceof RegistryError && err.code === 'UNAUTHORIZED') {
      throw new RegistryError('UNAUTHORIZED', `login attempt to ${redact(pingUrl)} failed: unauthorized: incorrect username or password`, { status: err.status }, { cause: err });
    }
    throw err;
  }
  if (status !== 200) {
    throw new RegistryError(status === 401 || status === 403 ? 'UNAUTHORIZED' : 'REGISTRY', `login attempt to ${redact(pingUrl)} failed with status: ${status} ${statusText(status)}`.trim(), { status });
  }
  const storedIn = await storeCredentials(host, creds, config.env);
  return { registry: host, key: authKey(host), storedIn };
}

/** Removes saved credentials; resolves to false when there were none. */
export async function logout(registry: string, opts: { config?: RegistryConfig; env?: NodeJS.ProcessEnv } = {}): Promise<boolean> {
  const env = opts.config?.env ?? opts.env ?? process.env;
  return removeCredentials(registryHostOf(registry), env);
}
