/**
 * What every CLI command receives: where to write, and the global options. Commands are thin
 * shells over the library API: they parse flags, call a function, and print its result.
 */
import type { Writable } from 'node:stream';

export interface GlobalOptions {
  /** --root DIR, else $JETTISON_ROOT, else the per-user default (see src/store/root.ts). */
  root?: string;
  /** --insecure-registry HOST (repeatable): plain HTTP allowed. */
  insecureRegistries: string[];
  /** --registry-mirror REGISTRY=MIRROR (repeatable). */
  registryMirrors: string[];
  debug: boolean;
}

export interface CliIO {
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean; columns?: number };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** commander's accumulator for a repeatable option (`.option(flags, text, collect, [])`). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Thrown by a command to end with a given exit code after it has printed what it had to say. */
export class CommandExit extends Error {
  readonly exitCode: number;
  constructor(exitCode: number) {
    super(`exit ${exitCode}`);
    this.exitCode = exitCode;
  }
}
