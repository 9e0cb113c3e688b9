/**
 * Runs one container with an OCI runtime in the foreground (`runc run --bundle DIR ID`), its stdout and
 * stderr streamed to callbacks as they come. A foreground `run` removes its container itself when the
 * process exits, so `delete --force` runs only when one may be left behind: the run was aborted, the
 * runtime died by a signal or failed, or its state dir (`<state root>/<id>`) is still there. An
 * AbortSignal kills the container (SIGKILL to every process in it) and the promise rejects with the
 * signal's reason once the runtime has exited and the container is gone.
 */
import { execFile, spawn } from 'node:child_process';
import { lstat, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { JettisonError } from '../../errors.ts';

export interface Runtime {
  /** 'runc' or 'crun' (or the basename of a custom binary). */
  name: string;
  /** Absolute path of the binary. */
  path: string;
  /** The runtime's state directory (`--root`), ours alone. */
  stateRoot: string;
}

export interface RunOptions {
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  stdin?: Readable | Buffer | string;
  signal?: AbortSignal;
}

export interface RunResult {
  exitCode: number;
}

function runtimeArgs(rt: Runtime, ...rest: string[]): string[] {
  return ['--root', rt.stateRoot, ...rest];
}

/** `runtime delete --force ID`; ignores a container that is not there. */
export function deleteContainer(rt: Runtime, id: string): Promise<void> {
  return new Promise((resolve) => {
    execFile(rt.path, runtimeArgs(rt, 'delete', '--force', id), () => resolve());
  });
}

/** Whether the runtime still keeps state for container `id` (runc and crun: a dir `<root>/<id>`). */
async function stateLeft(rt: Runtime, id: string): Promise<boolean> {
  try {
    await lstat(join(rt.stateRoot, id));
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/** Sends SIGKILL to every process of container `id`. */
function killContainer(rt: Runtime, id: string): Promise<void> {
  return new Promise((resolve) => {
    execFile(rt.path, runtimeArgs(rt, 'kill', '--all', id, 'KILL'), () => resolve());
  });
}

/** Container ids the runtime has under its state root. */
export function listContainers(rt: Runtime): Promise<string[]> {
  return new Promise((resolve) => {
    execFile(rt.path, runtimeArgs(rt, 'list', '--format', 'json'), { encoding: 'utf8' }, (err, stdout) => {
      if (err) return resolve([]);
      try {
        const list = JSON.parse(stdout || 'null') as { id: string }[] | null;
        resolve((list ?? []).map((c) => c.id));
      } catch {
        resolve([]);
      }
    });
  });
}

/** The runtime's own error lines from its JSON log (level error/fatal), joined. */
async function runtimeErrors(logFile: string): Promise<string> {
  let text = '';
  try {
    text = await readFile(logFile, 'utf8');
  } catch {
    return '';
  }
  const msgs: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const o = JSON.parse(line) as { level?: string; msg?: string };
      if ((o.level === 'error' || o.level === 'fatal') && o.msg) msgs.push(o.msg);
    } catch {
      if (/error/i.test(line)) msgs.push(line.trim());
    }
  }
  return msgs.join('; ');
}

/**
 * Writes `spec` as BUNDLE/config.json and runs container `id`. Resolves with the process's exit code
 * (128+N when killed by signal N). Rejects with a JettisonError 'RUNTIME' when the runtime could not
 * start the process (its own error message), or with the abort reason when `signal` fired.
 */
export async function runContainer(
  rt: Runtime,
  bundle: string,
  id: string,
  spec: Record<string, unknown>,
  opts: RunOptions = {},
): Promise<RunResult> {
  await writeFile(join(bundle, 'config.json'), JSON.stringify(spec), { mode: 0o600 });
  const logFile = join(bundle, 'runtime.log');
  const signal = opts.signal;
  if (signal?.aborted) throw abortReason(signal);
  const hasStdin = opts.stdin !== undefined;
  const child = spawn(rt.path, runtimeArgs(rt, '--log', logFile, '--log-format', 'json', 'run', '--bundle', bundle, id), {
    stdio: [hasStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  let aborted = false;
  const onAbort = () => {
    aborted = true;
    void killContainer(rt, id);
    // The runtime may not have created the container yet: kill it too; the finally below deletes.
    setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }, 2000).unref();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  // Set once the runtime exited by itself with no error of its own: it removed the container then.
  let clean = false;
  try {
    child.stdout!.on('data', (c: Buffer) => opts.onStdout?.(c));
    child.stderr!.on('data', (c: Buffer) => opts.onStderr?.(c));
    if (hasStdin) {
      const s = opts.stdin!;
      child.stdin!.on('error', () => {});
      if (typeof s === 'string' || Buffer.isBuffer(s)) child.stdin!.end(s);
      else s.pipe(child.stdin!);
    }
    const { code, sig } = await new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c, s) => resolve({ code: c, sig: s }));
    });
    if (aborted) throw abortReason(signal!);
    if (sig) throw new JettisonError('RUNTIME', `${rt.name} was killed by ${sig}`);
    const errors = await runtimeErrors(logFile);
    if (errors && code !== 0) {
      throw new JettisonError('RUNTIME', errors.startsWith(`${rt.name} `) ? errors : `${rt.name}: ${errors}`);
    }
    clean = !errors && code !== null;
    return { exitCode: code ?? 1 };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new JettisonError('RUNTIME_NOT_FOUND', `${rt.path}: not found`);
    }
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('close', r));
    }
    if (!clean || (await stateLeft(rt, id))) await deleteContainer(rt, id);
  }
}

function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r;
  return new JettisonError('ABORTED', typeof r === 'string' ? r : 'the process was cancelled');
}
