/**
 * Registry authentication, learnt from the registry's 401 challenges: anonymous, HTTP Basic, and
 * bearer tokens (Docker's token protocol: GET REALM?service=S&scope=…, with Basic credentials when
 * there are some, `token` or `access_token` in the answer; an identity token is exchanged with an
 * OAuth2 POST). Tokens are cached per set of scopes until shortly before they expire.
 */
import { RegistryError } from '../errors.ts';
import type { Challenge } from './challenge.ts';
import type { Credentials } from './credentials.ts';
import { drain, readBody, redact, send } from './http.ts';

/** "repository:NAME:pull" or "repository:NAME:pull,push". */
export function repositoryScope(repository: string, actions: string[]): string {
  return `repository:${repository}:${actions.join(',')}`;
}

/** Merges scopes naming the same resource (unions their actions) and sorts them. */
export function mergeScopes(scopes: string[]): string[] {
  const byResource = new Map<string, Set<string>>();
  for (const scope of scopes.flatMap((s) => s.split(' ')).filter(Boolean)) {
    const last = scope.lastIndexOf(':');
    const resource = last > 0 ? scope.slice(0, last) : scope;
    const actions = last > 0 ? scope.slice(last + 1).split(',').filter(Boolean) : [];
    let set = byResource.get(resource);
    if (!set) byResource.set(resource, (set = new Set()));
    for (const a of actions) set.add(a);
  }
  return [...byResource.entries()]
    .map(([resource, actions]) => `${resource}:${[...actions].sort().join(',')}`)
    .sort();
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

export class Authenticator {
  private readonly registry: string;
  private readonly getCredentials: () => Promise<Credentials | undefined>;
  private scheme: 'basic' | 'bearer' | undefined;
  private realm: string | undefined;
  private service: string | undefined;
  private credentials: Promise<Credentials | undefined> | undefined;
  private readonly tokens = new Map<string, Promise<CachedToken>>();
  /** The token each cache key resolved to, to find a refused one. */
  private readonly issued = new Map<string, string>();

  constructor(registry: string, getCredentials: () => Promise<Credentials | undefined>) {
    this.registry = registry;
    this.getCredentials = getCredentials;
  }

  private creds(): Promise<Credentials | undefined> {
    this.credentials ??= this.getCredentials();
    return this.credentials;
  }

  /** The Authorization header for a request needing these scopes, or undefined (none known yet). */
  async authorization(scopes: string[]): Promise<string | undefined> {
    if (this.scheme === 'basic') {
      const c = await this.creds();
      if (c?.username === undefined) return undefined;
      return `Basic ${Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')}`;
    }
    if (this.scheme === 'bearer') {
      const c = await this.creds();
      if (c?.registryToken) return `Bearer ${c.registryToken}`;
      const key = mergeScopes(scopes).join(' ');
      let entry = this.tokens.get(key);
      if (entry) {
        const t = await entry.catch(() => undefined);
        if (!t || t.expiresAt <= Date.now()) {
          this.tokens.delete(key);
          entry = undefined;
        }
      }
      if (!entry) {
        entry = this.fetchToken(mergeScopes(scopes));
        this.tokens.set(key, entry);
        entry.then(
          (t) => this.issued.set(key, t.token),
          () => this.tokens.delete(key),
        );
      }
      return `Bearer ${(await entry).token}`;
    }
    return undefined;
  }

  /**
   * Learns from a 401. Returns the scopes to retry with, or undefined when another try cannot help
   * (no usable challenge, or Basic without credentials).
   */
  async unauthorized(challenges: Challenge[], scopes: string[], sent: string | undefined): Promise<string[] | undefined> {
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    const basic = challenges.find((c) => c.scheme === 'basic');
    if (bearer) {
      this.scheme = 'bearer';
      this.realm = bearer.params.realm;
      this.service = bearer.params.service;
      const merged = mergeScopes([...scopes, ...(bearer.params.scope ? [bearer.params.scope] : [])]);
      // A token we sent was refused (expired, revoked, too narrow): forget it. Requests that sent
      // nothing (the first ones, in parallel) share whatever token is being fetched.
      if (sent?.startsWith('Bearer ')) {
        const refused = sent.slice('Bearer '.length);
        for (const [key, token] of this.issued) {
          if (token === refused) {
            this.tokens.delete(key);
            this.issued.delete(key);
          }
        }
      }
      return merged;
    }
    if (basic) {
      const first = this.scheme !== 'basic';
      this.scheme = 'basic';
      const c = await this.creds();
      if (c?.username === undefined || (!first && sent !== undefined)) return undefined;
      return scopes;
    }
    return undefined;
  }

  private async fetchToken(scopes: string[]): Promise<CachedToken> {
    const realm = new URL(this.realm as string);
    const c = await this.creds();
    const anonymous = c?.username === undefined && c?.identityToken === undefined;
    const what = anonymous ? 'anonymous token' : 'oauth token';
    let res;
    if (c?.identityToken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: c.identityToken, client_id: 'jettison' });
      if (this.service) form.set('service', this.service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      res = await send({
        method: 'POST',
        url: realm,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(form.toString()),
      });
    } else {
      if (this.service) realm.searchParams.set('service', this.service);
      for (const s of scopes) realm.searchParams.append('scope', s);
      const headers: Record<string, string> = {};
      if (c?.username !== undefined) {
        realm.searchParams.set('account', c.username);
        headers.authorization = `Basic ${Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')}`;
      }
      res = await send({ method: 'GET', url: realm, headers });
    }
    if (res.status !== 200) {
      await drain(res);
      const code = res.status === 401 || res.status === 403 ? 'UNAUTHORIZED' : 'REGISTRY';
      throw new RegistryError(
        code,
        `failed to authorize: failed to fetch ${what}: unexpected status from ${c?.identityToken ? 'POST' : 'GET'} request to ${redact(realm)}: ${res.status} ${statusText(res.status)}`,
        { status: res.status },
      );
    }
    const body = await readBody(res, 1 << 20);
    let data: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
    try {
      data = JSON.parse(body.toString('utf8'));
    } catch {
      throw new RegistryError('UNAUTHORIZED', `failed to authorize: ${this.registry}: the token server answered with invalid JSON`);
    }
    const token = typeof data.token === 'string' && data.token ? data.token : data.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new RegistryError('UNAUTHORIZED', `failed to authorize: ${this.registry}: the token server's answer has no token`);
    }
    const expiresIn = typeof data.expires_in === 'number' && data.expires_in > 0 ? data.expires_in : 60;
    // Renew a little early so a token does not expire in flight.
    const margin = Math.min(30, expiresIn / 4);
    return { token, expiresAt: Date.now() + (expiresIn - margin) * 1000 };
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  416: 'Requested Range Not Satisfiable',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? '';
}
