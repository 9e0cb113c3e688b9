/**
 * `jettison run [OPTIONS] IMAGE [COMMAND [ARG…]]`: runs an image from the store in the RUN sandbox, with
 * the image's Entrypoint, Cmd, Env, User and WorkingDir (each overridable like `docker run`), stdout and
 * stderr attached, stdin with -i. Exits with the command's exit code. The container's changes are always
 * thrown away (`--rm` is accepted for docker compatibility). Ctrl-C kills the container.
 */
import type { Command } from 'commander';
import { JettisonError } from '../../errors.ts';
import { readImage } from '../../store/index.ts';
import { createWorker, layerDirs } from '../../worker/index.ts';
import { CommandExit, type CliIO, type GlobalOptions } from '../context.ts';
import { storeFor } from './images.ts';

interface RunFlags {
  rm?: boolean;
  interactive?: boolean;
  env: string[];
  user?: string;
  workdir?: string;
  entrypoint?: string;
  network: string;
  runtime?: string;
  snapshotter?: string;
  platform?: string;
}

/** The process args Docker would run: entrypoint + (command from the CLI, else the image's Cmd). */
export function processArgs(entrypoint: string[] | null | undefined, cmd: string[] | null | undefined, cliCmd: string[], cliEntrypoint?: string): string[] {
  if (cliEntrypoint !== undefined) return [...(cliEntrypoint === '' ? [] : [cliEntrypoint]), ...cliCmd];
  return [...(entrypoint ?? []), ...(cliCmd.length > 0 ? cliCmd : (cmd ?? []))];
}

/** Env with -e applied: NAME=VALUE sets, a bare NAME takes the value from our own environment. */
function mergeEnv(image: string[], flags: string[], hostEnv: NodeJS.ProcessEnv): string[] {
  const out = new Map<string, string>();
  for (const e of image) out.set(e.split('=')[0], e);
  for (const e of flags) {
    const i = e.indexOf('=');
    if (i >= 0) out.set(e.slice(0, i), e);
    else if (hostEnv[e] !== undefined) out.set(e, `${e}=${hostEnv[e]}`);
  }
  return [...out.values()];
}

const HELP = `Usage: jettison run [OPTIONS] IMAGE [COMMAND [ARG...]]

Run a command in an image (its changes are discarded).

Options (before IMAGE; everything after IMAGE is the command):
  --rm                      remove the container when it exits (always done)
  -i, --interactive         pass standard input to the command
  -e, --env NAME[=VALUE]    set an environment variable (repeatable)
  -u, --user USER[:GROUP]   user to run as (default: the image's User)
  -w, --workdir DIR         working directory (default: the image's WorkingDir)
  --entrypoint CMD          override the image's Entrypoint ("" clears it)
  --network host|none       network (default: host)
  --runtime NAME            OCI runtime: runc, crun or a path (default: the first that works)
  --snapshotter NAME        overlay or copy (default: overlay when it can be mounted)
  --platform OS/ARCH[/VAR]  which image of a multi-platform index (default: this host)
  -h, --help                show this help
`;

const VALUED: Record<string, keyof RunFlags> = {
  '-e': 'env',
  '--env': 'env',
  '-u': 'user',
  '--user': 'user',
  '-w': 'workdir',
  '--workdir': 'workdir',
  '--entrypoint': 'entrypoint',
  '--network': 'network',
  '--runtime': 'runtime',
  '--snapshotter': 'snapshotter',
  '--platform': 'platform',
};

/** Parses `[OPTIONS] IMAGE [COMMAND…]` the way docker run does: options stop at the image. */
export function parseRunArgs(argv: string[]): { flags: RunFlags; image?: string; command: string[]; help: boolean } {
  const flags: RunFlags = { env: [], network: 'host' };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    if (a === '-h' || a === '--help') return { flags, command: [], help: true };
    if (a === '--rm') flags.rm = true;
    else if (a === '-i' || a === '--interactive') flags.interactive = true;
    else {
      const eq = a.startsWith('--') ? a.indexOf('=') : -1;
      const name = eq > 0 ? a.slice(0, eq) : a.length > 2 && !a.startsWith('--') ? a.slice(0, 2) : a;
      const key = VALUED[name];
      if (!key) throw new JettisonError('USAGE', `unknown flag: ${a}\nSee 'jettison run --help'.`);
      let value: string | undefined;
      if (eq > 0) value = a.slice(eq + 1);
      else if (name !== a) value = a.slice(2).replace(/^=/, '');
      else if (i + 1 < argv.length) value = argv[++i];
      else throw new JettisonError('USAGE', `flag needs an argument: ${a}`);
      if (key === 'env') flags.env.push(value);
      else (flags as unknown as Record<string, string>)[key] = value;
    }
  }
  return { flags, image: argv[i], command: argv.slice(i + 1), help: false };
}

export function register(program: Command, io: CliIO, globals: () => GlobalOptions): void {
  program
    .command('run')
    .description('run a command in an image (changes are discarded)')
    .usage('[OPTIONS] IMAGE [COMMAND [ARG...]]')
    .argument('[args...]')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (argv: string[]) => {
      const { flags, image, command, help } = parseRunArgs(argv);
      if (help) {
        io.stdout.write(HELP);
        return;
      }
      if (!image) throw new JettisonError('USAGE', `"jettison run" requires at least 1 argument\nSee 'jettison run --help'.`);
      if (flags.network !== 'host' && flags.network !== 'none') {
        throw new JettisonError('USAGE', `--network must be host or none, not ${flags.network}`);
      }
      if (flags.snapshotter !== undefined && flags.snapshotter !== 'overlay' && flags.snapshotter !== 'copy') {
        throw new JettisonError('USAGE', `--snapshotter must be overlay or copy, not ${flags.snapshotter}`);
      }
      const store = storeFor(io, globals);
      const { parsePlatform } = await import('../../image/platform.ts');
      const img = await readImage(store, image, flags.platform ? parsePlatform(flags.platform) : undefined);
      const cfg = img.config.config ?? {};
      const args = processArgs(cfg.Entrypoint, cfg.Cmd, command, flags.entrypoint);
      if (args.length === 0) throw new JettisonError('USAGE', `no command specified: ${image} has no Entrypoint or Cmd`);

      const worker = await createWorker({
        root: store.root,
        runtime: flags.runtime,
        snapshotter: flags.snapshotter as 'overlay' | 'copy' | undefined,
      });
      if (worker.snapshotter === 'copy' && !flags.snapshotter) io.stderr.write(`jettison: using the copy snapshotter: ${worker.snapshotterReason}\n`);
      const ac = new AbortController();
      const onSigint = () => ac.abort(new JettisonError('ABORTED', 'interrupted'));
      process.once('SIGINT', onSigint);
      process.once('SIGTERM', onSigint);
      let exitCode: number;
      // From here on, whatever fails (unpacking the layers, preparing the snapshot, the run), the signal
      // handlers come off and the worker closes (unmounting and removing what it made).
      try {
        const lowers = await layerDirs(worker.stateDir, store, img.manifest.layers, img.config.rootfs.diff_ids);
        const snap = await worker.prepare(lowers);
        const res = await worker.exec(
          snap,
          {
            args,
            env: mergeEnv(cfg.Env ?? [], flags.env, io.env),
            cwd: flags.workdir ?? (cfg.WorkingDir || '/'),
            user: flags.user ?? cfg.User ?? '',
            network: flags.network,
            hostname: snap.id.split('.').pop()!.slice(0, 12),
          },
          {
            onStdout: (c) => io.stdout.write(c),
            onStderr: (c) => io.stderr.write(c),
            stdin: flags.interactive ? (io.stdin as unknown as import('node:stream').Readable) : undefined,
            signal: ac.signal,
          },
        );
        exitCode = res.exitCode;
      } catch (err) {
        if (ac.signal.aborted) exitCode = 130;
        else throw err;
      } finally {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigint);
        await worker.close();
      }
      if (exitCode !== 0) throw new CommandExit(exitCode);
    });
}
