/**
 * Process helpers for the build benchmarks: run a command to completion with its output kept for
 * error messages (the last 64 KiB of each stream), optionally under `/usr/bin/time` to learn the
 * peak resident set size (ru_maxrss of the process; GNU time's %M, in KiB); find mounts below a
 * directory (to unmount what a reference builder left behind before removing its state).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall-clock time from spawn to exit, in milliseconds. */
  ms: number;
  /** Peak RSS in KiB, when measured. */
  maxRssKiB?: number;
}

const KEEP = 64 * 1024;
export const GNU_TIME = '/usr/bin/time';

function keepTail(chunks: Buffer[], c: Buffer, size: { n: number }): void {
  chunks.push(c);
  size.n += c.length;
  while (size.n - chunks[0].length > KEEP) size.n -= chunks.shift()!.length;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Measure the peak RSS with GNU time (written to this file, then read and removed). */
  rssFile?: string;
}

/** Runs `cmd args…`; resolves with its exit status, the tail of its output and its duration. */
export function runProcess(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const timed = opts.rssFile !== undefined && existsSync(GNU_TIME);
  const argv = timed ? ['-f', '%M', '-o', opts.rssFile!, cmd, ...args] : args;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(timed ? GNU_TIME : cmd, argv, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const outSize = { n: 0 };
    const errSize = { n: 0 };
    child.stdout.on('data', (c: Buffer) => keepTail(out, c, outSize));
    child.stderr.on('data', (c: Buffer) => keepTail(err, c, errSize));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const ms = performance.now() - t0;
      const r: RunResult = { code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), ms };
      if (timed) {
        try {
          // GNU time writes "Command exited with non-zero status N" first when the command fails.
          const kib = Number(readFileSync(opts.rssFile!, 'utf8').trim().split('\n').pop());
          if (Number.isFinite(kib) && kib > 0) r.maxRssKiB = kib;
        } catch {
          /* not written: the command could not be started */
        }
        rmSync(opts.rssFile!, { force: true });
      }
      resolve(r);
    });
  });
}

/** Runs a command and throws (with its output) unless it exits 0. */
export async function mustRun(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await runProcess(cmd, args, opts);
  if (r.code !== 0) {
    const tail = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} → exit ${r.code ?? r.signal}\n${tail}`);
  }
  return r;
}

/** Mount points at or below `dir`, in mount order (unmount them in reverse). */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[4].replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
}

/** Unmounts (lazily) whatever is mounted below `dir`, then removes it. */
export async function removeTree(dir: string): Promise<void> {
  for (const m of mountsUnder(dir).reverse()) await runProcess('umount', ['-l', m]);
  rmSync(dir, { recursive: true, force: true });
}

/** The first of `paths` that exists. */
export function firstExisting(...paths: string[]): string | undefined {
  return paths.find((p) => existsSync(p));
}

export const REPO = join(import.meta.dirname, '..', '..');
