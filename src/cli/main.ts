/**
 * The jettison command line: global flags, then one subcommand. Each subcommand lives in
 * src/cli/commands/<name>.ts and registers itself through src/cli/commands/index.ts.
 */
import { Command, CommanderError } from 'commander';
import { pathToFileURL } from 'node:url';
import { JettisonError } from '../errors.ts';
import { commands } from './commands/index.ts';
import { CommandExit, type CliIO, type GlobalOptions } from './context.ts';

export const VERSION = '0.1.0';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function createProgram(io: CliIO): Command {
  const program = new Command('jettison');
  program
    .description('A daemonless container image builder for multi-stage Dockerfiles and CEKit descriptors')
    .version(VERSION, '-v, --version')
    .option('--root <dir>', 'image store and cache directory (default: $JETTISON_ROOT or ~/.local/share/jettison)')
    .option('--insecure-registry <host>', 'allow plain HTTP to this registry (repeatable)', collect, [])
    .option('--registry-mirror <registry=mirror>', 'pull REGISTRY through MIRROR (repeatable)', collect, [])
    .option('--debug', 'print stack traces for errors', false)
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  const globals = (): GlobalOptions => {
    const o = program.opts();
    return {
      root: o.root,
      insecureRegistries: o.insecureRegistry ?? [],
      registryMirrors: o.registryMirror ?? [],
      debug: Boolean(o.debug),
    };
  };
  for (const register of commands) register(program, io, globals);
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommandExit) return err.exitCode;
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof JettisonError) {
      io.stderr.write(`error: ${err.message}\n`);
      if (program.opts().debug && err.stack) io.stderr.write(`${err.stack}\n`);
      return 1;
    }
    io.stderr.write(`error: ${err instanceof Error ? (program.opts().debug ? err.stack : err.message) : String(err)}\n`);
    return 1;
  }
}

export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
