/**
 * A small bearer-token server for tests, speaking the Docker registry token protocol
 * (GET REALM?service=S&scope=repository:NAME:ACTIONS…, HTTP Basic credentials optional). It signs
 * RS256 JWTs that `docker-registry` (auth: token) verifies against a self-signed certificate: the
 * certificate travels in the JWT header (`x5c`) and the registry trusts it through `rootcertbundle`.
 *
 *   const keys = await createSigningKeys(dir);               // key.pem + cert.pem via openssl
 *   const ts = await startTokenServer({ keys, users: { alice: 'pw' } });
 *   // registry config: realm ts.realm, service ts.service, issuer ts.issuer, rootcertbundle keys.certPath
 *
 * Policy: by default a known user gets every action asked for and an anonymous caller gets `pull` only;
 * pass `policy` to decide per scope. `requests` records what was asked (for assertions).
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, createSign, randomUUID, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SigningKeys {
  keyPem: string;
  certPem: string;
  /** Path of the PEM certificate (the registry's rootcertbundle). */
  certPath: string;
}

/** Generates an RSA key and a self-signed certificate in dir (openssl). */
export async function createSigningKeys(dir: string): Promise<SigningKeys> {
  const keyPath = join(dir, 'token-key.pem');
  const certPath = join(dir, 'token-cert.pem');
  await run('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
    '-subj', '/CN=jettison-test-token-issuer', '-keyout', keyPath, '-out', certPath,
  ]);
  return { keyPem: await readFile(keyPath, 'utf8'), certPem: await readFile(certPath, 'utf8'), certPath };
}

export interface TokenRequestRecord {
  account: string | undefined;
  /** The username the Basic credentials named (undefined when anonymous). */
  user: string | undefined;
  service: string | null;
  scopes: string[];
}

export interface TokenServerOptions {
  keys: SigningKeys;
  /** username → password. */
  users?: Record<string, string>;
  service?: string;
  issuer?: string;
  /** Seconds a token lives (default 300). */
  expiresIn?: number;
  /** Answer with `access_token` instead of `token` (both are valid per the protocol). */
  field?: 'token' | 'access_token';
  /** The actions granted for one scope; default: all for a known user, pull for anonymous. */
  policy?: (user: string | undefined, type: string, name: string, actions: string[]) => string[];
}

export interface TokenServer {
  /** The realm URL to put in the registry config. */
  realm: string;
  service: string;
  issuer: string;
  requests: TokenRequestRecord[];
  stop(): Promise<void>;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

export async function startTokenServer(opts: TokenServerOptions): Promise<TokenServer> {
  const service = opts.service ?? 'jettison-test-registry';
  const issuer = opts.issuer ?? 'jettison-test-issuer';
  const users = opts.users ?? {};
  const key = createPrivateKey(opts.keys.keyPem);
  const certDer = new X509Certificate(opts.keys.certPem).raw;
  const requests: TokenRequestRecord[] = [];
  const policy =
    opts.policy ?? ((user: string | undefined, _type: string, _name: string, actions: string[]) => (user ? actions : actions.filter((a) => a === 'pull')));

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://token');
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    let user: string | undefined;
    const authz = req.headers.authorization;
    if (authz) {
      const m = /^Basic\s+(.+)$/i.exec(authz);
      const decoded = m ? Buffer.from(m[1], 'base64').toString() : '';
      const colon = decoded.indexOf(':');
      const name = decoded.slice(0, colon);
      const pass = decoded.slice(colon + 1);
      if (colon < 0 || users[name] === undefined || users[name] !== pass) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ details: 'incorrect username or password' }));
        return;
      }
      user = name;
    }
    const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    requests.push({ account: url.searchParams.get('account') ?? undefined, user, service: url.searchParams.get('service'), scopes });
    const access: { type: string; name: string; actions: string[] }[] = [];
    for (const scope of scopes) {
      // type:name:actions, where name may itself contain ':' (a registry host with a port).
      const first = scope.indexOf(':');
      const last = scope.lastIndexOf(':');
      if (first < 0 || last === first) continue;
      const type = scope.slice(0, first);
      const name = scope.slice(first + 1, last);
      const actions = scope.slice(last + 1).split(',').filter(Boolean);
      const granted = policy(user, type, name, actions);
      if (granted.length > 0) access.push({ type, name, actions: granted });
    }
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = opts.expiresIn ?? 300;
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] };
    const claims = {
      iss: issuer,
      sub: user ?? '',
      aud: service,
      exp: now + expiresIn,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(signingInput).sign(key);
    const token = `${signingInput}.${b64url(signature)}`;
    const body: Record<string, unknown> = { expires_in: expiresIn, issued_at: new Date(now * 1000).toISOString() };
    body[opts.field ?? 'token'] = token;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
