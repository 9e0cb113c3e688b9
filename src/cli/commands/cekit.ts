/**
 * `jettison cekit …`: CEKit image descriptors. `validate` checks a descriptor (with overrides and
 * modules), `generate` prints the Dockerfile it means (or writes the whole build context with
 * --context), `cache add`/`cache ls` manage the local artifact cache for plain (checksum-only)
 * artifacts. `build` is reserved for the build engine.
 */
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ArtifactCache, generate, prepareContext, type OverrideSource } from '../../frontend/cekit/index.ts';
import { resolveRoot } from '../../store/index.ts';
import { CommandExit, type CliIO, type GlobalOptions } from '../context.ts';

interface DescriptorFlags {
  descriptor: string;
  squash: boolean;
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

  // ---- cekit build: reserved for the build-engine engineer ------------------------------------
  // `jettison cekit build [descriptor flags] [-t TAG]…` should: generate() as above, prepareContext()
  // into a temporary directory, then build that Dockerfile and context with the build engine,
  // squashing the final image's own layers when result.squash, and tagging result.tags by default.
  group
    .command('build')
    .description('build the image a descriptor describes (not available yet)')
    .allowUnknownOption()
    .action(() => {
      io.stderr.write('error: jettison cekit build is not available yet: use `jettison cekit generate --context DIR`\n');
      throw new CommandExit(1);
    });
  // ----------------------------------------------------------------------------------------------

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
