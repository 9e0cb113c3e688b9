/**
 * `jettison build`: docker buildx build's flags over build() (src/build). Progress goes to stderr;
 * the image ID goes to stdout with --progress quiet (and --iidfile / --metadata-file on request).
 */
import { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { JettisonError } from '../../errors.ts';
import { parseCompression } from '../../image/compression.ts';
// From the engine's own files, not src/build/index.ts: that also re-exports the CEKit frontend (and yaml).
import { build, type BuildOptions, type SecretSpec } from '../../build/engine.ts';
import { capYoungGeneration } from '../../build/heap.ts';
import { parseOutput, type OutputSpec } from '../../build/outputs.ts';
import { createDisplay, parseProgressMode, type ProgressDisplay, type ProgressEvent, type ProgressMode } from '../../progress/index.ts';
import { resolveRoot } from '../../store/index.ts';
import { collect, CommandExit, type CliIO, type GlobalOptions } from '../context.ts';

/**
 * "K=V" pairs into a record. A bare K, as docker buildx takes it: from the environment (--build-arg K,
 * left out when unset), an empty value (--label K), or an error where a value is needed ('required').
 */
export function keyValues(values: string[], flag: string, bare: NodeJS.ProcessEnv | 'empty' | 'required'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq === 0 || (eq < 0 && bare === 'required')) throw new JettisonError('USAGE', `invalid ${flag} "${v}": expected KEY=VALUE`);
    if (eq < 0) {
      if (bare === 'empty') out[v] = '';
      else if (typeof bare === 'object' && bare[v] !== undefined) out[v] = bare[v]!;
      continue;
    }
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** --secret id=ID[,src=FILE|,env=VAR] (type=file|env accepted; a bare id reads the env var or file of that name). */
export function parseSecret(value: string): SecretSpec {
  const spec: Record<string, string> = {};
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new JettisonError('USAGE', `invalid --secret "${value}": expected id=ID,src=FILE or id=ID,env=VAR`);
    spec[part.slice(0, eq)] = part.slice(eq + 1);
  }
  const id = spec.id;
  if (!id) throw new JettisonError('USAGE', `invalid --secret "${value}": id is required`);
  const src = spec.src ?? spec.source;
  if (spec.env !== undefined) return { id, env: spec.env };
  if (src !== undefined) return { id, src };
  if (spec.type === 'env') return { id, env: id };
  return { id, src: id };
}

export interface BuildFlags {
  file?: string;
  tag: string[];
  target?: string;
  buildArg: string[];
  secret: string[];
  cache: boolean;
  /** --no-cache-filter (commander files a `--no-x` option under `x`). */
  cacheFilter: string[];
  pull?: boolean;
  progress: string;
  output: string[];
  push?: boolean;
  load?: boolean;
  label: string[];
  platform?: string;
  iidfile?: string;
  metadataFile?: string;
  buildContext: string[];
  network: string;
  jobs?: string;
  runtime?: string;
  quiet?: boolean;
}

/** The build flags, on `cmd` (shared by `jettison build` and parseBuildArgs). */
export function defineBuildOptions(cmd: Command): Command {
  return cmd
    .argument('<context>', 'a directory, "-" (a tar on stdin), or a git URL (URL#ref:subdir)')
    .option('-f, --file <path>', 'the Dockerfile (default: CONTEXT/Dockerfile; "-" reads stdin; inside the context when it is "-" or a git URL)')
    .option('-t, --tag <name>', 'name and tag the image (repeatable)', collect, [])
    .option('--target <stage>', 'build this stage (default: the last one)')
    .option('--build-arg <key=value>', 'set a build-time variable (repeatable)', collect, [])
    .option('--secret <spec>', 'id=ID,src=FILE or id=ID,env=VAR: a secret for RUN --mount=type=secret (repeatable)', collect, [])
    .option('--no-cache', 'do not use the build cache')
    .option('--no-cache-filter <stage>', 'do not use the cache for this stage (repeatable)', collect, [])
    .option('--pull', 'always pull base images')
    .option('--progress <mode>', 'auto, tty, plain, json or quiet', 'auto')
    .option('-q, --quiet', 'print only the image ID (same as --progress quiet)')
    .option('-o, --output <spec>', 'type=image|oci,dest=…|docker,dest=…|local,dest=DIR|tar,dest=…|registry (repeatable); compression=gzip|zstd|uncompressed on image (storage, default uncompressed), oci and registry (default gzip); compression-level=N on oci and registry', collect, [])
    .option('--push', 'push the image (same as -o type=registry, added to the outputs)')
    .option('--load', 'keep the image in the local store (the default; accepted for docker compatibility)')
    .option('--label <key=value>', 'set an image label (repeatable)', collect, [])
    .option('--platform <platform>', 'target platform (only the host\'s is supported)')
    .option('--iidfile <file>', 'write the image ID to this file')
    .option('--metadata-file <file>', 'write build metadata (JSON) to this file')
    .option('--build-context <name=path>', 'extra named context: NAME=DIR or NAME=docker-image://REF (repeatable)', collect, [])
    .option('--network <mode>', 'network of RUN steps: host (default) or none', 'host')
    .option('--jobs <n>', 'steps run in parallel (default: 16, or the number of CPUs when higher)')
    .option('--runtime <name>', 'OCI runtime: runc, crun, or a path (default: the first that works)');
}

/** The build() options a command line means (everything but I/O: display, signals, stdin). */
export function toBuildOptions(context: string, flags: BuildFlags, io: Pick<CliIO, 'cwd' | 'env'>, g: GlobalOptions): BuildOptions & { progress: ProgressMode } {
  const network = flags.network === 'default' ? 'host' : flags.network;
  if (network !== 'host' && network !== 'none') throw new JettisonError('USAGE', `invalid --network "${flags.network}": expected host or none`);
  const jobs = flags.jobs === undefined ? undefined : Number(flags.jobs);
  if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1)) throw new JettisonError('USAGE', `invalid --jobs "${flags.jobs}": expected a positive integer`);
  const outputs: OutputSpec[] = flags.output.map(parseOutput);
  if (outputs.length === 0) outputs.push({ type: 'image' });
  if (flags.push && !outputs.some((o) => o.type === 'registry')) outputs.push({ type: 'registry' });
  // BuildKit's -o type=image,compression=gzip|zstd|uncompressed: how the image's layers are stored
  // (default uncompressed). On type=oci and type=registry, compression= says how they are exported.
  const wanted = [...new Set(outputs.filter((o) => o.type === 'image').map((o) => o.attrs?.compression).filter((c): c is string => c !== undefined))];
  if (wanted.length > 1) throw new JettisonError('USAGE', `conflicting compression in --output type=image: ${wanted.join(', ')}`);
  const compression = wanted[0] === undefined ? undefined : parseCompression(wanted[0]);
  return {
    ...(compression ? { compression } : {}),
    progress: flags.quiet ? 'quiet' : parseProgressMode(flags.progress),
    context,
    ...(flags.file ? { dockerfile: flags.file } : {}),
    cwd: io.cwd,
    env: io.env,
    root: resolveRoot({ root: g.root, cwd: io.cwd }, io.env),
    ...(flags.target ? { target: flags.target } : {}),
    buildArgs: keyValues(flags.buildArg, '--build-arg', io.env),
    tags: flags.tag,
    labels: keyValues(flags.label, '--label', 'empty'),
    noCache: flags.cache === false,
    noCacheFilter: flags.cacheFilter,
    ...(flags.pull ? { pull: true } : {}),
    network,
    secrets: flags.secret.map(parseSecret),
    buildContexts: keyValues(flags.buildContext, '--build-context', 'required'),
    ...(flags.platform ? { platform: flags.platform } : {}),
    ...(jobs ? { jobs } : {}),
    outputs,
    registry: { insecureRegistries: g.insecureRegistries, registryMirrors: g.registryMirrors },
    ...(flags.runtime ? { runtime: flags.runtime } : {}),
  };
}

/** Parses `build` arguments as the CLI does (for programs and tests). */
export function parseBuildArgs(argv: string[], io: Pick<CliIO, 'cwd' | 'env'>, g: GlobalOptions = { insecureRegistries: [], registryMirrors: [], debug: false }): BuildOptions & { progress: ProgressMode } {
  const cmd = defineBuildOptions(new Command('build')).exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  cmd.parse(argv, { from: 'user' });
  return toBuildOptions(cmd.args[0], cmd.opts() as BuildFlags, io, g);
}

/**
 * Runs a build the way the CLI shows it: a progress display on stderr, SIGINT/SIGTERM cancelling the
 * build (which unmounts and removes its temporary state), BuildKit's `ERROR: failed to solve: …` line and
 * exit code 1 on failure, and the image ID on stdout in quiet mode. Shared by `build` and `cekit build`.
 */
export async function runWithDisplay<T extends { imageId: string }>(
  io: CliIO,
  mode: ProgressMode,
  run: (hooks: { onEvent: (e: ProgressEvent) => void; signal: AbortSignal }) => Promise<T>,
): Promise<T> {
  const display: ProgressDisplay = createDisplay(mode, { stream: io.stderr, env: io.env, explainCache: true });
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // The CLI owns its process, so it may tune V8 for a long build (build/heap.ts); build() as a library
  // leaves the caller's process settings alone.
  const stopHeapWatch = capYoungGeneration();
  try {
    const result = await run({ onEvent: (e) => display.event(e), signal: controller.signal });
    display.close();
    if (mode === 'quiet') io.stdout.write(`${result.imageId}\n`);
    return result;
  } catch (err) {
    display.close();
    if (err instanceof JettisonError) {
      io.stderr.write(`ERROR: failed to solve: ${err.message}\n`);
      throw new CommandExit(1);
    }
    throw err;
  } finally {
    stopHeapWatch();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function register(program: Command, io: CliIO, globals: () => GlobalOptions): void {
  defineBuildOptions(program.command('build').description('build an image from a Dockerfile (docker buildx build\'s flags)'))
    .action(async (context: string, flags: BuildFlags) => {
      const { progress: mode, ...options } = toBuildOptions(context, flags, io, globals());
      const result = await runWithDisplay(io, mode, (hooks) =>
        build({
          ...options,
          // Read only for "-" (context or Dockerfile on stdin): making process.stdin's stream costs startup time.
          get stdin() {
            return io.stdin as unknown as import('node:stream').Readable;
          },
          ...hooks,
        }),
      );
      if (flags.iidfile) await writeFile(resolve(io.cwd, flags.iidfile), result.imageId);
      if (flags.metadataFile) {
        // As BuildKit: after a push, the digest of the manifest pushed (its layers compressed).
        const descriptor = result.exported.find((e) => (e.type === 'registry' || e.type === 'image') && e.descriptor)?.descriptor ?? result.manifest;
        const meta = {
          'containerimage.config.digest': result.imageId,
          'containerimage.digest': descriptor.digest,
          'containerimage.descriptor': descriptor,
          'image.name': result.tags.join(','),
        };
        await writeFile(resolve(io.cwd, flags.metadataFile), `${JSON.stringify(meta, null, 2)}\n`);
      }
    });
}
