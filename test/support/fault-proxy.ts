/**
 * An HTTP proxy for tests that sits in front of a registry and breaks chosen requests: answers with
 * an error status, drops the connection before answering, drops it half-way through the body, or
 * flips a byte of the body (same length). Every request is recorded in `requests`.
 *
 *   const proxy = await startFaultProxy(reg.url);
 *   proxy.addFault({ method: 'GET', path: /\/blobs\//, fault: 'truncate', times: 1 });
 *   … pull from proxy.host …
 *   assert.equal(proxy.requests.filter((r) => r.fault === 'truncate').length, 1);
 *
 * The Host header is passed through unchanged, so the registry's Location headers point back at the proxy.
 */
import { request as httpRequest, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FaultKind =
  /** Answer with `status` (default 500) without asking the registry. */
  | 'status'
  /** Close the connection before any response. */
  | 'reset'
  /** Forward, send the headers and about half of the body, then close the connection. */
  | 'truncate'
  /** Forward, but flip one byte in the middle of the body. */
  | 'corrupt';

export interface FaultRule {
  method?: string;
  /** Matched against the request path with its query. */
  path?: RegExp | string;
  fault: FaultKind;
  status?: number;
  /** How many matching requests to break (default 1; Infinity for all). */
  times?: number;
}

export interface ProxiedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** The status the client saw (undefined when the connection was dropped first). */
  status?: number;
  fault?: FaultKind;
}

export interface FaultProxy {
  /** "127.0.0.1:PORT" */
  host: string;
  url: string;
  requests: ProxiedRequest[];
  addFault(rule: FaultRule): void;
  clearFaults(): void;
  stop(): Promise<void>;
}

function matches(rule: FaultRule, req: IncomingMessage): boolean {
  if (rule.method && rule.method !== req.method) return false;
  const path = req.url ?? '';
  if (rule.path instanceof RegExp) return rule.path.test(path);
  if (typeof rule.path === 'string') return path.includes(rule.path);
  return true;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const rules: { rule: FaultRule; left: number }[] = [];
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const record: ProxiedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers };
    requests.push(record);
    const hit = rules.find((r) => r.left > 0 && matches(r.rule, req));
    const fault = hit?.rule.fault;
    if (hit) {
      hit.left--;
      record.fault = fault;
    }
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault === 'status') {
      req.resume();
      record.status = hit!.rule.status ?? 500;
      res.writeHead(record.status, { 'content-type': 'text/plain' }).end('injected failure\n');
      return;
    }
    const up = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (upRes) => {
        record.status = upRes.statusCode;
        const headers = { ...upRes.headers };
        const length = Number(upRes.headers['content-length'] ?? NaN);
        if (fault === 'truncate') {
          res.writeHead(upRes.statusCode ?? 502, headers);
          let sent = 0;
          const limit = Number.isFinite(length) ? Math.floor(length / 2) : 1024;
          upRes.on('data', (chunk: Buffer) => {
            if (sent >= limit) return;
            const part = chunk.subarray(0, limit - sent);
            sent += part.length;
            res.write(part);
            if (sent >= limit) {
              upRes.destroy();
              // Let the written bytes leave before the connection goes.
              setTimeout(() => res.socket?.destroy(), 20);
            }
          });
          upRes.on('end', () => res.socket?.destroy());
          return;
        }
        if (fault === 'corrupt') {
          res.writeHead(upRes.statusCode ?? 502, headers);
          let offset = 0;
          const middle = Number.isFinite(length) ? Math.floor(length / 2) : 0;
          upRes.on('data', (chunk: Buffer) => {
            if (middle >= offset && middle < offset + chunk.length) {
              chunk = Buffer.from(chunk);
              chunk[middle - offset] ^= 0xff;
            }
            offset += chunk.length;
            res.write(chunk);
          });
          upRes.on('end', () => res.end());
          return;
        }
        res.writeHead(upRes.statusCode ?? 502, headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(up);
  };

  const server: Server = createServer(handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    requests,
    addFault(rule) {
      rules.push({ rule, left: rule.times ?? 1 });
    },
    clearFaults() {
      rules.length = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
