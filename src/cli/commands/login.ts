/**
 * `jettison login [-u USER] [-p PASS | --password-stdin] [REGISTRY]` and nothing else: checks the
 * credentials against the registry and saves them in Docker's config file ($DOCKER_CONFIG or
 * ~/.docker), as `docker login` does. REGISTRY defaults to Docker Hub.
 */
import type { Command } from 'commander';
import { JettisonError } from '../../errors.ts';
import { login, resolveRegistryConfig } from '../../registry/index.ts';
import { CommandExit, type CliIO, type GlobalOptions } from '../context.ts';
import type { RegisterCommand } from './index.ts';

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer | string>) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads one line from a terminal; with `hidden`, without echo. */
async function prompt(io: CliIO, question: string, hidden: boolean): Promise<string> {
  io.stderr.write(question);
  const stdin = io.stdin as NodeJS.ReadStream;
  const raw = hidden && typeof stdin.setRawMode === 'function';
  if (raw) stdin.setRawMode(true);
  try {
    return await new Promise<string>((resolve, reject) => {
      let line = '';
      const onData = (chunk: Buffer | string): void => {
        for (const ch of chunk.toString()) {
          if (ch === '\u0003') {
            cleanup();
            reject(new CommandExit(130));
            return;
          }
          if (ch === '\r' || ch === '\n') {
            cleanup();
            if (hidden) io.stderr.write('\n');
            resolve(line);
            return;
          }
          if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1);
          else line += ch;
        }
      };
      const onEnd = (): void => {
        cleanup();
        resolve(line);
      };
      const cleanup = (): void => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.pause();
      };
      stdin.on('data', onData);
      stdin.on('end', onEnd);
      stdin.resume();
    });
  } finally {
    if (raw) stdin.setRawMode(false);
  }
}

export const register: RegisterCommand = (program: Command, io: CliIO, globals: () => GlobalOptions) => {
  program
    .command('login')
    .description('Log in to a registry (credentials are saved in the Docker config file)')
    .argument('[registry]', 'registry host, e.g. localhost:5000 (default: Docker Hub)', 'docker.io')
    .option('-u, --username <user>', 'username')
    .option('-p, --password <password>', 'password (prefer --password-stdin)')
    .option('--password-stdin', 'read the password from standard input', false)
    .action(async (registry: string, o: { username?: string; password?: string; passwordStdin: boolean }) => {
      if (o.password !== undefined && o.passwordStdin) throw new JettisonError('USAGE', '--password and --password-stdin are mutually exclusive');
      let username = o.username;
      let password = o.password;
      if (o.passwordStdin) {
        if (!username) throw new JettisonError('USAGE', 'Must provide --username with --password-stdin');
        password = (await readAll(io.stdin)).replace(/[\r\n]+$/, '');
      } else if (password !== undefined) {
        io.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
      }
      if (username === undefined || password === undefined) {
        if (!io.stdin.isTTY) throw new JettisonError('USAGE', 'Cannot perform an interactive login from a non TTY device');
        if (username === undefined) username = (await prompt(io, 'Username: ', false)).trim();
        if (password === undefined) password = await prompt(io, 'Password: ', true);
      }
      if (!username) throw new JettisonError('USAGE', 'Error: Non-null Username Required');
      if (!password) throw new JettisonError('USAGE', 'Error: Non-null Password Required');
      const config = await resolveRegistryConfig(globals(), io.env);
      const result = await login(registry, { username, password }, { config });
      if (!result.storedIn.startsWith('docker-credential-')) {
        io.stderr.write(`WARNING! Your password will be stored unencrypted in ${result.storedIn}.\n`);
      }
      io.stdout.write('Login Succeeded\n');
    });
};
