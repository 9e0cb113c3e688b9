/**
 * Process identity for lock and temp-file names: "<pid>.<start>.<random>", where <start> is the
 * process start time from /proc (so a recycled pid is not mistaken for a live owner). An owner is
 * alive while a process with that pid and that start time exists.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

/** The start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), or undefined. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: split after its last ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

let selfStart: string | undefined;

/** "<pid>.<start>" of this process. */
export function selfIdentity(): string {
  selfStart ??= processStartTime(process.pid) ?? '0';
  return `${process.pid}.${selfStart}`;
}

/** A fresh unique owner token for this process: "<pid>.<start>.<12 hex>". */
export function newOwnerToken(): string {
  return `${selfIdentity()}.${randomBytes(6).toString('hex')}`;
}

/** The "<pid>.<start>" prefix of a token (or of a file name that starts with one), if well formed. */
export function parseOwner(token: string): { pid: number; start: string } | undefined {
  const m = /^(\d+)\.(\d+)(?:\.|$)/.exec(token);
  if (!m) return undefined;
  return { pid: Number(m[1]), start: m[2] };
}

/**
 * True when the owner named by the token still runs. Malformed tokens count as dead. Where /proc
 * is missing (not Linux) a pid that answers signal 0 counts as alive.
 */
export function ownerAlive(token: string): boolean {
  const o = parseOwner(token);
  if (!o) return false;
  if (o.pid === process.pid) return o.start === (selfStart ?? processStartTime(process.pid) ?? '0');
  const start = processStartTime(o.pid);
  if (start !== undefined) return start === o.start;
  try {
    process.kill(o.pid, 0);
    return o.start === '0';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
