/**
 * The jettison command line: global flags, then one subcommand. Each subcommand lives in
 * src/cli/commands/<name>.ts and registers itself through src/cli/commands/index.ts.
 *
 * Startup is most of a short command's time, so this file loads nothing heavy up front: the
 * commands (and commander) are imported inside main(). When the arguments name a command listed in
 * LAZY below, only that command's module is loaded; anything else (--help, help, an unknown or
 * newly added command) loads them all through commands/index.ts, so the output is the same either
 * way. Run as the entry point, it first turns on Node's module compile cache (see
 * enableModuleCache), which keeps the type-stripped and compiled modules between runs.
 */
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import type { RegisterCommand } from './commands/index.ts';
import { collect, CommandExit, type CliIO, type GlobalOptions } from './context.ts';
import { commandName, enableModuleCache } from './compile-cache.ts';

// bin/jettison.cjs calls it from dist/cli/main.js when there is no bundle.
export { enableModuleCache } from './compile-cache.ts';

export const VERSION = '0.1.0';

type CommandModule = { register: RegisterCommand };

/**
 * Commands that can be loaded alone (a command missing here still works: it is loaded with all the
 * others). The key is the command's name as typed.
 */
const LAZY: Record<string, () => Promise<CommandModule>> = {
  build: () => import('./commands/build.ts'),
  run: () => import('./commands/run.ts'),
  images: () => import('./commands/images.ts'),
  inspect: () => import('./commands/inspect.ts'),
  tag: () => import('./commands/tag.ts'),
  rmi: () => import('./commands/rmi.ts'),
  pull: () => import('./commands/pull.ts'),
  push: () => import('./commands/push.ts'),
  login: () => import('./commands/login.ts'),
  logout: () => import('./commands/logout.ts'),
  save: () => import('./commands/save.ts'),
  load: () => import('./commands/load.ts'),
  import: () => import('./commands/import.ts'),
  prune: () => import('./commands/prune.ts'),
  fsck: () => import('./commands/fsck.ts'),
  plan: () => import('./commands/plan.ts'),
  check: () => import('./commands/check.ts'),
  parse: () => import('./commands/parse.ts'),
  cekit: () => import('./commands/cekit.ts'),
};

/**
 * The command `argv` runs (commandName), when it can be loaded alone. Undefined for --help,
 * --version, an unknown option before the command, `help` and unknown names (those need every
 * command registered).
 */
export function lazyCommand(argv: string[]): string | undefined {
  const name = commandName(argv);
  return name !== undefined && Object.hasOwn(LAZY, name) ? name : undefined;
}

async function registerCommands(program: Command, io: CliIO, globals: () => GlobalOptions, only: string | undefined): Promise<void> {
  if (only !== undefined) {
    (await LAZY[only]()).register(program, io, globals);
    return;
  }
  const { commands } = await import('./commands/index.ts');
  for (const register of commands) register(program, io, globals);
}

/** The program with every command registered (or, given `only`, just that one from LAZY). */
export async function createProgram(io: CliIO, only?: string): Promise<Command> {
  const { Command } = await import('commander');
  const program = new Command('jettison');
  // A global option added here goes into compile-cache.ts's lists too (commandName skips them).
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
  await registerCommands(program, io, globals, only);
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const [{ CommanderError }, { JettisonError }] = await Promise.all([import('commander'), import('../errors.ts')]);
  const program = await createProgram(io, lazyCommand(argv));
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

/** The real process's streams, environment and directory. */
export function processIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    // process.stdin makes its stream (a socket or file stream over fd 0: ~5-10 ms) on first access:
    // only the commands that read stdin pay for it.
    get stdin() {
      return process.stdin;
    },
    env: process.env,
    cwd: process.cwd(),
  };
}

// Run as the entry point (`node src/cli/main.ts`). No top-level await: the published CLI is this
// module bundled as CommonJS (scripts/bundle.ts), where import.meta.url is the bundle's own URL.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  enableModuleCache();
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
