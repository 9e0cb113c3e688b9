/**
 * `jettison parse [--format tree|json] FILE`: prints a Dockerfile's syntax tree, either in the
 * notation of BuildKit's parser tests (one `(keyword ["--flag"] "arg"…)` line per instruction) or
 * as JSON. FILE `-` reads standard input. Parser warnings go to stderr.
 */
import { Option, type Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { JettisonError } from '../../errors.ts';
import { dockerfileToJSON, formatTree, parseDockerfile } from '../../frontend/dockerfile/parser/index.ts';
import type { CliIO } from '../context.ts';

async function readInput(file: string, io: CliIO): Promise<Uint8Array> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const c of io.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
    return Buffer.concat(chunks);
  }
  try {
    return await readFile(resolve(io.cwd, file));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new JettisonError(e.code === 'ENOENT' ? 'NOT_FOUND' : 'IO', `cannot read ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`, { cause: err });
  }
}

export function register(program: Command, io: CliIO): void {
  program
    .command('parse')
    .description('print the syntax tree of a Dockerfile')
    .argument('<file>', 'the Dockerfile (- for standard input)')
    .addOption(new Option('--format <format>', 'output format').choices(['tree', 'json']).default('tree'))
    .action(async (file: string, opts: { format: 'tree' | 'json' }) => {
      const df = parseDockerfile(await readInput(file, io), { file: file === '-' ? 'Dockerfile' : file });
      for (const w of df.warnings) io.stderr.write(`warning: ${df.file}:${w.line}: ${w.message}\n`);
      io.stdout.write(opts.format === 'json' ? dockerfileToJSON(df) : formatTree(df));
    });
}
