/**
 * A real registry for tests: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1, a free
 * port, a temporary storage dir, removed on stop.
 *
 *   const reg = await startRegistry();                         // anonymous push and pull
 *   const reg = await startRegistry({ auth: 'basic' });        // htpasswd: reg.username / reg.password
 *   const reg = await startRegistry({ auth: 'token' });        // bearer tokens from a token server
 *   … `${reg.host}/myimage:tag` …
 *   await reg.stop();
 *
 * `reg.host` is "127.0.0.1:PORT" (a registry jettison reaches over plain HTTP without flags).
 * With auth, `reg.username` / `reg.password` are valid credentials; `reg.tokenServer` exposes the
 * token server's request log. `proxyRemote` makes it a pull-through cache of another registry.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createSigningKeys, startTokenServer, type TokenServer, type TokenServerOptions } from './token-server.ts';

const run = promisify(execFile);
export const REGISTRY_BINARY = '/usr/bin/docker-registry';

export interface RegistryOptions {
  auth?: 'none' | 'basic' | 'token';
  /** Credentials accepted (default { jettison: 'jettison-password' }). */
  users?: Record<string, string>;
  /** Token auth only: the token server's policy and token lifetime. */
  tokenPolicy?: TokenServerOptions['policy'];
  tokenExpiresIn?: number;
  tokenField?: TokenServerOptions['field'];
  /** Make this a pull-through cache (mirror) of that registry URL. */
  proxyRemote?: string;
}

export interface TestRegistry {
  /** "127.0.0.1:PORT" */
  host: string;
  /** "http://127.0.0.1:PORT" */
  url: string;
  auth: 'none' | 'basic' | 'token';
  username: string | undefined;
  password: string | undefined;
  /** Where the registry keeps its blobs and repositories. */
  storageDir: string;
  tokenServer: TokenServer | undefined;
  stop(): Promise<void>;
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function waitReady(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`docker-registry exited (${child.exitCode ?? child.signalCode}): ${stderr()}`);
    }
    try {
      const res = await fetch(`${url}/v2/`);
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`docker-registry at ${url} not ready after 20s: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  const auth = opts.auth ?? 'none';
  const users = opts.users ?? { jettison: 'jettison-password' };
  const [username, password] = Object.entries(users)[0] ?? [];
  const dir = await mkdtemp(join(tmpdir(), 'jettison-registry-'));
  const storageDir = join(dir, 'storage');
  let tokenServer: TokenServer | undefined;
  const authLines: string[] = [];
  try {
    if (auth === 'basic') {
      const lines: string[] = [];
      for (const [user, pass] of Object.entries(users)) {
        const { stdout } = await run('htpasswd', ['-Bbn', user, pass]);
        lines.push(stdout.trim());
      }
      await writeFile(join(dir, 'htpasswd'), `${lines.join('\n')}\n`);
      authLines.push('auth:', '  htpasswd:', '    realm: jettison-test', `    path: ${join(dir, 'htpasswd')}`);
    } else if (auth === 'token') {
      const keys = await createSigningKeys(dir);
      tokenServer = await startTokenServer({
        keys,
        users,
        policy: opts.tokenPolicy,
        expiresIn: opts.tokenExpiresIn,
        field: opts.tokenField,
      });
      authLines.push(
        'auth:',
        '  token:',
        `    realm: ${tokenServer.realm}`,
        `    service: ${tokenServer.service}`,
        `    issuer: ${tokenServer.issuer}`,
        `    rootcertbundle: ${keys.certPath}`,
      );
    }
    const proxyLines = opts.proxyRemote ? ['proxy:', `  remoteurl: ${opts.proxyRemote}`] : [];

    // A port picked here may be taken before the registry binds it: retry a few times.
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      const config = [
        'version: 0.1',
        'log:',
        '  level: error',
        '  accesslog:',
        '    disabled: true',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${storageDir}`,
        '  delete:',
        '    enabled: true',
        '  maintenance:',
        '    uploadpurging:',
        '      enabled: false',
        'http:',
        `  addr: 127.0.0.1:${port}`,
        '  secret: jettison-test-secret',
        ...authLines,
        ...proxyLines,
        '',
      ].join('\n');
      const configPath = join(dir, 'config.yml');
      await writeFile(configPath, config);
      const child = spawn(REGISTRY_BINARY, ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
      let errText = '';
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (s: string) => {
        errText = (errText + s).slice(-4000);
      });
      const url = `http://127.0.0.1:${port}`;
      try {
        await waitReady(url, child, () => errText);
      } catch (err) {
        await stopChild(child);
        if (attempt < 3 && /address already in use/.test(errText)) continue;
        throw err;
      }
      return {
        host: `127.0.0.1:${port}`,
        url,
        auth,
        username: auth === 'none' ? undefined : username,
        password: auth === 'none' ? undefined : password,
        storageDir,
        tokenServer,
        async stop() {
          await stopChild(child);
          await tokenServer?.stop();
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
  } catch (err) {
    await tokenServer?.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
