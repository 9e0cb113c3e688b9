/** Runs the CLI in-process with captured output, as a user would run `jettison ARGS…`. */
import { PassThrough, Readable } from 'node:stream';
import { main } from '../../src/cli/main.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: string | Buffer } = {},
): Promise<CliResult> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunksOut: Buffer[] = [];
  const chunksErr: Buffer[] = [];
  out.on('data', (c: Buffer) => chunksOut.push(c));
  err.on('data', (c: Buffer) => chunksErr.push(c));
  const stdin = Readable.from(opts.stdin === undefined ? [] : [Buffer.from(opts.stdin)]);
  const code = await main(args, {
    stdout: out,
    stderr: err,
    stdin,
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd ?? process.cwd(),
  });
  return { code, stdout: Buffer.concat(chunksOut).toString(), stderr: Buffer.concat(chunksErr).toString() };
}
