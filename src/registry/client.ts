/**
 * A client for one registry endpoint (OCI distribution spec, /v2/ API): authenticated requests with
 * bounded retries and backoff on 5xx, 429 and dropped connections; manifests fetched with a size
 * limit; blobs streamed (a dropped download resumes with a Range request); blob uploads monolithic
 * or chunked (POST, PATCH…, PUT), cross-repository mounts; registry error bodies turned into
 * RegistryError messages.
 */
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { RegistryError } from '../errors.ts';
import type { Descriptor, Digest } from '../image/types.ts';
import { Authenticator, repositoryScope, statusText } from './auth.ts';
import { parseChallenges } from './challenge.ts';
import type { Credentials } from './credentials.ts';
import { drain, readBody, redact, retryableError, retryableStatus, send, sleep, type HttpResponse } from './http.ts';

/** The largest manifest or index accepted (as containerd). */
export const MANIFEST_LIMIT = 4 << 20;

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface ClientOptions {
  /** The registry host jettison names in messages, e.g. "docker.io". */
  registry: string;
  /** Base URL of the API (the /v2/ prefix is added): "https://registry-1.docker.io", a mirror URL. */
  endpoint: URL;
  credentials?: () => Promise<Credentials | undefined>;
  /** Extra tries after a retryable failure (default 3). */
  retries?: number;
  /** First backoff delay, doubled each time (default 250 ms). */
  retryDelayMs?: number;
  /** Called before each retry. */
  onRetry?: (what: string, attempt: number, err: unknown) => void;
}

export interface RequestOptions {
  scopes: string[];
  headers?: Record<string, string>;
  /** Makes a fresh body for each try. */
  body?: () => Buffer | Readable;
  /** Retry 5xx and connection failures (default true; false for non-replayable steps). */
  retry?: boolean;
  followRedirects?: boolean;
}

export interface RegistryErrorBody {
  code?: string;
  message?: string;
  detail?: unknown;
}

/** Builds the error for an unexpected answer (reads at most 64 KiB of its body). */
export async function responseError(res: HttpResponse, context: string): Promise<RegistryError> {
  let errors: RegistryErrorBody[] = [];
  try {
    const body = await readBody(res, 64 << 10);
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: RegistryErrorBody[] };
    if (Array.isArray(parsed.errors)) errors = parsed.errors;
  } catch {
    // not a distribution error body
  }
  let first = errors[0];
  // HEAD answers have no body: use the spec's wording for the status.
  if (!first?.code && res.status === 401) first = { code: 'UNAUTHORIZED', message: 'authentication required' };
  if (!first?.code && res.status === 403) first = { code: 'DENIED', message: 'requested access to the resource is denied' };
  const server = first?.code ? `${first.code.toLowerCase()}: ${first.message ?? ''}`.trim() : undefined;
  const code = res.status === 404 ? 'NOT_FOUND' : res.status === 401 || res.status === 403 ? 'UNAUTHORIZED' : 'REGISTRY';
  const text = `${res.status} ${statusText(res.status)}`.trim();
  const message = server ? `${context}: ${server}` : `${context}: unexpected status: ${text}`;
  return new RegistryError(code, message, { status: res.status, registryCode: first?.code });
}

/** The registry's own words in an error built by responseError ("unauthorized: authentication required"). */
export function serverDetail(err: RegistryError): string {
  const code = err.registryCode?.toLowerCase();
  const i = code ? err.message.lastIndexOf(`: ${code}: `) : -1;
  if (i >= 0) return err.message.slice(i + 2);
  const j = err.message.lastIndexOf(': unexpected status: ');
  return j >= 0 ? err.message.slice(j + 2) : err.message;
}

export class RegistryClient {
  readonly registry: string;
  readonly endpoint: URL;
  private readonly auth: Authenticator;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly onRetry: ClientOptions['onRetry'];

  constructor(opts: ClientOptions) {
    this.registry = opts.registry;
    this.endpoint = opts.endpoint;
    this.auth = new Authenticator(opts.registry, opts.credentials ?? (async () => undefined));
    this.retries = opts.retries ?? 3;
    this.retryDelayMs = opts.retryDelayMs ?? 250;
    this.onRetry = opts.onRetry;
  }

  /** endpoint + "/v2/" + path */
  url(path: string): URL {
    const base = this.endpoint.href.replace(/\/+$/, '');
    return new URL(`${base}/v2/${path}`);
  }

  /** Waits before retry number `attempt` (1-based). */
  backoff(attempt: number): Promise<void> {
    return sleep(this.retryDelayMs * 2 ** (attempt - 1));
  }

  get maxRetries(): number {
    return this.retries;
  }

  /**
   * Sends a request, authenticating as the registry's challenges ask and retrying what is retryable.
   * Returns any HTTP answer (the caller checks the status) other than a retryable one.
   */
  async request(method: string, target: string | URL, opts: RequestOptions): Promise<HttpResponse> {
    const url = typeof target === 'string' ? this.url(target) : target;
    let scopes = opts.scopes;
    let authRetried = false;
    // Credentials go to the registry's own origin only (an upload Location may point elsewhere).
    const sameOrigin = url.origin === this.endpoint.origin;
    for (let attempt = 0; ; attempt++) {
      const authorization = sameOrigin ? await this.auth.authorization(scopes) : undefined;
      const headers: Record<string, string> = { ...opts.headers };
      if (authorization) headers.authorization = authorization;
      let res: HttpResponse;
      try {
        res = await send({ method, url, headers, body: opts.body?.(), followRedirects: opts.followRedirects });
      } catch (err) {
        if (opts.retry !== false && retryableError(err) && attempt < this.retries) {
          this.onRetry?.(`${method} ${redact(url)}`, attempt + 1, err);
          await this.backoff(attempt + 1);
          continue;
        }
        throw err;
      }
      if (res.status === 401 && !authRetried && sameOrigin) {
        const next = await this.auth.unauthorized(parseChallenges(res.headers['www-authenticate']), scopes, authorization);
        if (next) {
          await drain(res);
          authRetried = true;
          scopes = next;
          attempt--; // an auth round trip is not a failure
          continue;
        }
      }
      if (opts.retry !== false && retryableStatus(res.status) && attempt < this.retries) {
        await drain(res);
        this.onRetry?.(`${method} ${redact(url)}`, attempt + 1, new Error(`status ${res.status}`));
        await this.backoff(attempt + 1);
        continue;
      }
      return res;
    }
  }

  /** GET a manifest or index by tag or digest; the body is read whole (bounded). */
  async getManifest(repository: string, reference: string, context: string): Promise<{ bytes: Buffer; mediaType: string; digestHeader?: string }> {
    const res = await this.request('GET', `${repository}/manifests/${reference}`, {
      scopes: [repositoryScope(repository, ['pull'])],
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (res.status !== 200) throw await responseError(res, context);
    const bytes = await readBody(res, MANIFEST_LIMIT);
    const type = String(res.headers['content-type'] ?? '').split(';')[0].trim();
    const digestHeader = typeof res.headers['docker-content-digest'] === 'string' ? res.headers['docker-content-digest'] : undefined;
    return { bytes, mediaType: type, digestHeader };
  }

  /** True when the repository has the blob (HEAD). */
  async hasBlob(repository: string, digest: Digest, scopes: string[]): Promise<boolean> {
    const res = await this.request('HEAD', `${repository}/blobs/${digest}`, { scopes });
    await drain(res);
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw await responseError(res, `HEAD ${this.registry}/${repository}/blobs/${digest}`);
  }

  /**
   * Streams a blob. If the connection drops part-way, it asks for the rest with a Range request
   * (bounded retries); the caller verifies the digest of what comes out.
   */
  async *blobChunks(repository: string, desc: Descriptor, onBytes?: (n: number) => void): AsyncGenerator<Buffer> {
    const path = `${repository}/blobs/${desc.digest}`;
    const scopes = [repositoryScope(repository, ['pull'])];
    let received = 0;
    let failures = 0;
    // Network chunks are small (16-64 KiB): hand the store 1 MiB pieces (fewer writes and awaits).
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const take = (): Buffer => {
      const out = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      return out;
    };
    for (;;) {
      const headers: Record<string, string> = {};
      if (received > 0) headers.range = `bytes=${received}-`;
      const res = await this.request('GET', path, { scopes, headers });
      let skip = 0;
      if (received > 0 && res.status === 200) skip = received; // server ignored Range: skip what we have
      else if (res.status !== 200 && !(received > 0 && res.status === 206)) {
        throw await responseError(res, `failed to fetch ${desc.digest} from ${this.registry}/${repository}`);
      }
      try {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          let c = chunk;
          if (skip > 0) {
            if (c.length <= skip) {
              skip -= c.length;
              continue;
            }
            c = c.subarray(skip);
            skip = 0;
          }
          received += c.length;
          onBytes?.(c.length);
          pending.push(c);
          pendingBytes += c.length;
          if (pendingBytes >= 1 << 20) yield take();
        }
        const expected = Number(res.headers['content-length'] ?? NaN);
        if (res.status === 200 && Number.isFinite(expected) && received < expected) throw new Error('connection closed early');
        if (pendingBytes > 0) yield take();
        return;
      } catch (err) {
        if (err instanceof RegistryError && err.code !== 'NETWORK') throw err;
        // What arrived before the failure is good: pass it on, then ask for the rest.
        if (pendingBytes > 0) yield take();
        failures++;
        if (failures > this.retries) {
          throw new RegistryError('NETWORK', `failed to fetch ${desc.digest} from ${this.registry}/${repository}: ${(err as Error).message}`, {}, { cause: err });
        }
        this.onRetry?.(`GET ${path}`, failures, err);
        await this.backoff(failures);
      }
    }
  }

  /**
   * Asks the registry to mount a blob from another repository. Resolves to true when mounted, else
   * to the upload URL the registry opened instead (or undefined).
   */
  async mountBlob(repository: string, digest: Digest, from: string): Promise<true | URL | undefined> {
    const url = this.url(`${repository}/blobs/uploads/`);
    url.searchParams.set('mount', digest);
    url.searchParams.set('from', from);
    const res = await this.request('POST', url, {
      scopes: [repositoryScope(repository, ['pull', 'push']), repositoryScope(from, ['pull'])],
      body: () => Buffer.alloc(0),
    });
    await drain(res);
    if (res.status === 201) return true;
    if (res.status === 202 && typeof res.headers.location === 'string') return new URL(res.headers.location, url);
    return undefined;
  }

  /** Opens an upload session (POST); resolves to the upload URL. */
  async startUpload(repository: string): Promise<URL> {
    const url = this.url(`${repository}/blobs/uploads/`);
    const res = await this.request('POST', url, { scopes: [repositoryScope(repository, ['pull', 'push'])], body: () => Buffer.alloc(0) });
    if (res.status !== 202 || typeof res.headers.location !== 'string') {
      throw await responseError(res, `failed to push to ${this.registry}/${repository}: cannot start a blob upload`);
    }
    await drain(res);
    return new URL(res.headers.location, url);
  }

  /**
   * Uploads a blob read from `file` into an open session: one PUT when chunkSize is undefined or the
   * blob fits in one chunk, else PATCH chunks then a final PUT. Not retried here (the caller restarts
   * the whole upload).
   */
  async uploadBlob(repository: string, location: URL, file: string, desc: Descriptor, opts: { chunkSize?: number; onBytes?: (n: number) => void }): Promise<void> {
    const scopes = [repositoryScope(repository, ['pull', 'push'])];
    const context = `failed to push ${desc.digest} to ${this.registry}/${repository}`;
    const chunkSize = opts.chunkSize && opts.chunkSize > 0 && opts.chunkSize < desc.size ? opts.chunkSize : undefined;
    let url = location;
    const fh = await open(file, 'r');
    try {
      const stream = (start: number, end: number): Readable => {
        const s = fh.createReadStream({ start, end: end - 1, autoClose: false });
        if (opts.onBytes) s.on('data', (c: Buffer | string) => opts.onBytes?.(c.length));
        return s;
      };
      if (chunkSize) {
        for (let offset = 0; offset < desc.size; offset += chunkSize) {
          const end = Math.min(desc.size, offset + chunkSize);
          const res = await this.request('PATCH', url, {
            scopes,
            retry: false,
            headers: {
              'content-type': 'application/octet-stream',
              'content-range': `${offset}-${end - 1}`,
              'content-length': String(end - offset),
            },
            body: () => stream(offset, end),
          });
          if (res.status !== 202 || typeof res.headers.location !== 'string') throw await responseError(res, context);
          await drain(res);
          url = new URL(res.headers.location, url);
        }
        url.searchParams.set('digest', desc.digest);
        const res = await this.request('PUT', url, { scopes, retry: false, headers: { 'content-length': '0' }, body: () => Buffer.alloc(0) });
        if (res.status !== 201) throw await responseError(res, context);
        await drain(res);
      } else {
        url = new URL(url);
        url.searchParams.set('digest', desc.digest);
        const res = await this.request('PUT', url, {
          scopes,
          retry: false,
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(desc.size) },
          body: () => (desc.size === 0 ? Buffer.alloc(0) : stream(0, desc.size)),
        });
        if (res.status !== 201) throw await responseError(res, context);
        await drain(res);
      }
    } finally {
      await fh.close();
    }
  }

  /** PUT a manifest or index; resolves to the digest the registry reports (if any). */
  async putManifest(repository: string, reference: string, bytes: Buffer, mediaType: string, context: string): Promise<string | undefined> {
    const res = await this.request('PUT', `${repository}/manifests/${reference}`, {
      scopes: [repositoryScope(repository, ['pull', 'push'])],
      headers: { 'content-type': mediaType },
      body: () => bytes,
    });
    if (res.status !== 201 && res.status !== 200) throw await responseError(res, context);
    await drain(res);
    const d = res.headers['docker-content-digest'];
    return typeof d === 'string' ? d : undefined;
  }

  /** GET /v2/ (login check): resolves when the credentials are accepted. */
  async ping(): Promise<HttpResponse> {
    return this.request('GET', this.url(''), { scopes: [] });
  }
}
