/**
 * `jettison check [-f FILE] [--build-arg K=V]… [--format text|json]`: validates a Dockerfile and
 * prints lint warnings under BuildKit's rule names. Exit 0 when valid (warnings included), 1 with
 * FILE:LINE:COL errors otherwise, or when `# check=error=true` and there are warnings.
 */
import type { Command } from 'commander';
import { JettisonError, SourceError } from '../../errors.ts';
import { lintDockerfile, parseDockerfile } from '../../frontend/dockerfile/index.ts';
import { collect, CommandExit, type CliIO, type GlobalOptions } from '../context.ts';
import { buildArgsFrom, readDockerfile } from './plan.ts';

export function register(program: Command, io: CliIO, _globals: () => GlobalOptions): void {
  program
    .command('check')
    .description('validate a Dockerfile and report lint warnings (BuildKit rule names)')
    .option('-f, --file <path>', 'the Dockerfile (default: ./Dockerfile; - for stdin)')
    .option('--build-arg <key=value>', 'set a build arg (repeatable)', collect, [])
    .option('--format <format>', 'text or json', 'text')
    .action(async (flags: { file?: string; buildArg: string[]; format: string }) => {
      if (flags.format !== 'text' && flags.format !== 'json') {
        io.stderr.write(`error: unknown format "${flags.format}" (expected text or json)\n`);
        throw new CommandExit(2);
      }
      const { name, text } = await readDockerfile(io, flags.file);
      let result;
      try {
        result = lintDockerfile(parseDockerfile(text, { file: name }), { buildArgs: buildArgsFrom(flags.buildArg, io.env) });
      } catch (err) {
        if (!(err instanceof JettisonError)) throw err;
        if (flags.format === 'json') {
          const pos = err instanceof SourceError ? err.position : null;
          io.stdout.write(`${JSON.stringify({ warnings: [], error: { message: err.message, ...(pos ?? {}) } }, null, 2)}\n`);
        } else {
          io.stderr.write(`error: ${err.message}\n`);
        }
        throw new CommandExit(1);
      }
      const { warnings, violation } = result;
      if (flags.format === 'json') {
        io.stdout.write(`${JSON.stringify({ warnings, error: violation ? { message: violation } : null }, null, 2)}\n`);
      } else {
        for (const w of warnings) io.stdout.write(`${w.file}:${w.line}:${w.column}: ${w.rule}: ${w.message}\n`);
        io.stdout.write(
          warnings.length === 0
            ? 'Check complete, no warnings found.\n'
            : `Check complete, ${warnings.length} warning${warnings.length === 1 ? ' has' : 's have'} been found!\n`,
        );
        if (violation) io.stderr.write(`error: ${violation}\n`);
      }
      if (violation) throw new CommandExit(1);
    });
}
