/**
 * `jettison cekit …`: CEKit image descriptors. `validate` checks a descriptor (with overrides and
 * modules), `generate` prints the Dockerfile it means (or writes the whole build context with
 * --context), `cache add`/`cache ls` manage the local artifact cache for plain (checksum-only)
 * artifacts. `build` generates, writes the context (verifying every artifact) and builds it with the
 * build engine (src/build/cekit.ts), progress on stderr as `jettison build` shows it.
 */
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { cekitBuild, parseOutput, type OutputSpec } from '../../build/index.ts';
import { ArtifactCache, generate, prepareContext, type OverrideSource } from '../../frontend/cekit/index.ts';
import { parseProgressMode } from '../../progress/index.ts';
import { resolveRoot } from '../../store/index.ts';
import { collect, type CliIO, type GlobalOptions } from '../context.ts';
import { keyValues, runWithDisplay } from './build.ts';

interface DescriptorFlags {
  descriptor: string;
  squash: boolean;
}

interface CekitBuildFlags extends DescriptorFlags {
  tag: string[];
  buildArg: string[];
  cache: boolean;
  pull?: boolean;
  progress: string;
  output: string[];
  push?: boolean;
  context?: string;
  iidfile?: string;
}

/** --overrides and --overrides-file share one list so their relative order is kept (the last wins). */
function descriptorOptions(cmd: Command, overrides: OverrideSource[]): Command {
  return cmd
    .option('--descriptor <file>', 'image descriptor', 'image.yaml')
    .option(
      '--overrides <yaml>',
      'overrides as inline YAML or JSON (repeatable, applied in order)',
      (v: string) => {
        overrides.push({ inline: v });
        return v;
      },
    )
    .option('--overrides-file <file>', 'overrides descriptor file (repeatable, applied in order)', (v: string) => {
      overrides.push({ file: v });
      return v;
    })
    .option('--no-squash', 'keep the final image\'s layers (default: squash them into one on top of the base)');
}

export function register(program: Command, io: CliIO, globals: () => GlobalOptions): void {
  const root = (): string => resolveRoot({ root: globals().root, cwd: io.cwd }, io.env);
  const group = program.command('cekit').description('build images from CEKit image descriptors');

  const run = async (flags: DescriptorFlags, overrides: OverrideSource[]) => {
    const resolved = overrides.map((o) => ('file' in o ? { file: resolve(io.cwd, o.file) } : o));
    const result = await generate(resolve(io.cwd, flags.descriptor), {
      overrides: resolved,
      squash: flags.squash,
      cacheDir: join(root(), 'cekit'),
      displayRoot: io.cwd,
    });
    for (const w of result.warnings) io.stderr.write(`warning: ${w}\n`);
    return result;
  };

  const validateOverrides: OverrideSource[] = [];
  descriptorOptions(group.command('validate'), validateOverrides)
    .description('check a descriptor, its overrides and modules')
    .action(async (flags: DescriptorFlags) => {
      const result = await run(flags, validateOverrides);
      io.stdout.write(`${flags.descriptor}: valid (${result.plan.stages.length} image${result.plan.stages.length > 1 ? 's' : ''}, tags ${result.tags.join(', ')})\n`);
    });

  const generateOverrides: OverrideSource[] = [];
  descriptorOptions(group.command('generate'), generateOverrides)
    .description('print the Dockerfile a descriptor means')
    .option('-o, --output <file>', 'write the Dockerfile to FILE instead of stdout')
    .option('--context <dir>', 'write the whole build context (Dockerfile, modules, artifacts) to DIR')
    .action(async (flags: DescriptorFlags & { output?: string; context?: string }) => {
      const result = await run(flags, generateOverrides);
      if (flags.context) {
        await prepareContext(result, resolve(io.cwd, flags.context), { root: root() });
      }
      if (flags.output) writeFileSync(resolve(io.cwd, flags.output), result.dockerfile);
      else if (!flags.context) io.stdout.write(result.dockerfile);
      if (flags.context) io.stdout.write(`build context written to ${flags.context}\n`);
    });

  const buildOverrides: OverrideSource[] = [];
  descriptorOptions(group.command('build'), buildOverrides)
    .description('build the image a descriptor describes (builders first, then the final image)')
    .option('--squash', 'squash the final image\'s own layers into one on top of its base (the default)')
    .option('-t, --tag <name>', 'name and tag the image (repeatable; default NAME:VERSION and NAME:latest)', collect, [])
    .option('--build-arg <key=value>', 'set a build-time variable (repeatable)', collect, [])
    .option('--no-cache', 'do not use the build cache')
    .option('--pull', 'always pull base images')
    .option('--progress <mode>', 'auto, tty, plain, json or quiet', 'auto')
    .option('-o, --output <spec>', 'type=image|oci,dest=…|docker,dest=…|local,dest=DIR|tar,dest=…|registry (repeatable)', collect, [])
    .option('--push', 'push the image (same as -o type=registry, added to the outputs)')
    .option('--context <dir>', 'write the build context to DIR and keep it (default: a private directory, removed after the build)')
    .option('--iidfile <file>', 'write the image ID to this file')
    .action(async (flags: CekitBuildFlags) => {
      const mode = parseProgressMode(flags.progress);
      const outputs: OutputSpec[] = flags.output.map(parseOutput);
      if (outputs.length === 0) outputs.push({ type: 'image' });
      if (flags.push && !outputs.some((o) => o.type === 'registry')) outputs.push({ type: 'registry' });
      const g = globals();
      const result = await runWithDisplay(io, mode, (hooks) =>
        cekitBuild({
          descriptor: flags.descriptor,
          overrides: buildOverrides,
          squash: flags.squash,
          ...(flags.context ? { contextDir: flags.context } : {}),
          cwd: io.cwd,
          env: io.env,
          root: root(),
          tags: flags.tag,
          buildArgs: keyValues(flags.buildArg, '--build-arg', io.env),
          noCache: flags.cache === false,
          ...(flags.pull ? { pull: true } : {}),
          outputs,
          registry: { insecureRegistries: g.insecureRegistries, registryMirrors: g.registryMirrors },
          ...hooks,
        }),
      );
      if (flags.iidfile) await writeFile(resolve(io.cwd, flags.iidfile), result.imageId);
    });

  const cache = group.command('cache').description('the local artifact cache for plain (checksum-only) artifacts');
  cache
    .command('add <file...>')
    .description('add files to the artifact cache')
    .action(async (files: string[]) => {
      const c = new ArtifactCache(root());
      for (const f of files) {
        const e = await c.addFile(resolve(io.cwd, f));
        io.stdout.write(`${e.sha256}  ${f}\n`);
      }
    });
  cache
    .command('ls')
    .description('list cached artifacts with their checksums')
    .option('--json', 'print the index as JSON')
    .action((flags: { json?: boolean }) => {
      const entries = new ArtifactCache(root()).entries();
      if (flags.json) {
        io.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
        return;
      }
      for (const e of entries) {
        io.stdout.write(
          `${e.names.join(', ')}\n  size:   ${e.size}\n  md5:    ${e.md5}\n  sha1:   ${e.sha1}\n  sha256: ${e.sha256}\n  sha512: ${e.sha512}\n`,
        );
      }
      if (!entries.length) io.stdout.write('the artifact cache is empty\n');
    });
}
