/**
 * The HTTP layer under the registry client: one request over node:http(s) with keep-alive agents,
 * streamed request and response bodies, an idle timeout, redirects followed for GET/HEAD (the
 * Authorization header is dropped when a redirect leaves the origin, e.g. to blob storage), and
 * helpers to read a bounded body and to tell retryable failures from final ones.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { JettisonError, RegistryError } from '../errors.ts';

// Not ES imports: importing node:http as an ES module builds its namespace, which runs the lazy
// getters that load undici (fetch, WebSocket): 40-150 ms of every pull or push. getBuiltinModule
// returns the CommonJS exports as they are.
const { Agent: HttpAgent, request: httpRequest } = process.getBuiltinModule('node:http');
const { Agent: HttpsAgent, request: httpsRequest } = process.getBuiltinModule('node:https');

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 16 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 16 });

export const USER_AGENT = 'jettison/0.1.0';

export interface SendOptions {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** A Buffer, or a fresh stream (not replayed: the caller retries). */
  body?: Buffer | Readable;
  /** Idle time (no bytes either way) after which the request fails; default 60 s. */
  idleTimeoutMs?: number;
  /** Follow redirects (GET and HEAD only); default true. */
  followRedirects?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  /** The URL that answered (after redirects). */
  url: URL;
}

/** A request that failed without an HTTP answer (refused, reset, timed out…): code NETWORK. */
function transportError(message: string, options?: ErrorOptions): RegistryError {
  return new RegistryError('NETWORK', message, {}, options);
}

function sendOnce(opts: SendOptions): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const { url } = opts;
    const isHttps = url.protocol === 'https:';
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...opts.headers };
    if (Buffer.isBuffer(opts.body)) headers['content-length'] = String(opts.body.length);
    const req = (isHttps ? httpsRequest : httpRequest)(
      url,
      { method: opts.method, headers, agent: isHttps ? httpsAgent : httpAgent },
      (res) => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url });
      },
    );
    req.setTimeout(opts.idleTimeoutMs ?? 60_000, () => {
      req.destroy(transportError(`${opts.method} ${redact(url)}: no response within ${(opts.idleTimeoutMs ?? 60_000) / 1000}s`));
    });
    req.on('error', (err) => reject(err instanceof JettisonError ? err : transportError(`${opts.method} ${redact(url)}: ${err.message}`, { cause: err })));
    if (opts.body === undefined) req.end();
    else if (Buffer.isBuffer(opts.body)) req.end(opts.body);
    else {
      opts.body.on('error', (err) => req.destroy(err));
      opts.body.pipe(req);
    }
  });
}

/** A URL without its query (upload URLs carry state tokens) for messages. */
export function redact(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

export async function send(opts: SendOptions): Promise<HttpResponse> {
  let current = opts;
  for (let hops = 0; ; hops++) {
    const res = await sendOnce(current);
    const follow =
      (current.followRedirects ?? true) &&
      (current.method === 'GET' || current.method === 'HEAD') &&
      [301, 302, 303, 307, 308].includes(res.status) &&
      typeof res.headers.location === 'string';
    if (!follow) return res;
    res.body.resume();
    if (hops >= 10) throw transportError(`${opts.method} ${redact(opts.url)}: too many redirects`);
    const next = new URL(res.headers.location as string, current.url);
    const headers = { ...current.headers };
    if (next.origin !== current.url.origin) delete headers.authorization;
    current = { ...current, url: next, headers };
  }
}

/** Reads a whole (small) body, failing past `limit` bytes. */
export async function readBody(res: HttpResponse, limit: number): Promise<Buffer> {
  const declared = Number(res.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    res.body.destroy();
    throw new JettisonError('TOO_LARGE', `${redact(res.url)}: response of ${declared} bytes exceeds the limit of ${limit}`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limit) {
        res.body.destroy();
        throw new JettisonError('TOO_LARGE', `${redact(res.url)}: response exceeds the limit of ${limit} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof JettisonError) throw err;
    throw transportError(`${redact(res.url)}: ${(err as Error).message}`, { cause: err });
  }
  return Buffer.concat(chunks);
}

/** Throws the body away (so the connection can be reused). */
export function drain(res: HttpResponse): Promise<void> {
  return new Promise((resolve) => {
    if (res.body.readableEnded || res.body.destroyed) return resolve();
    res.body.on('end', resolve);
    res.body.on('error', () => resolve());
    res.body.on('close', () => resolve());
    res.body.resume();
  });
}

/** Statuses worth another try: rate limiting and server-side failures (not 501). */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/** Connection-level failures are retryable; anything jettison decided itself is not. */
export function retryableError(err: unknown): boolean {
  if (err instanceof RegistryError && err.code === 'NETWORK') return true;
  const code = (err as NodeJS.ErrnoException)?.code;
  return (
    typeof code === 'string' &&
    ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET'].includes(code)
  ) || (err instanceof Error && /aborted|socket hang up/i.test(err.message) && !(err instanceof JettisonError));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
