/**
 * Host mounts the worker makes (overlay, tmpfs) through /bin/mount, and taking them down reliably:
 * umount, retried while busy, lazy as the last resort. Also reads /proc/self/mountinfo to find mounts
 * left under a directory (a crashed run's leftovers).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { JettisonError } from '../errors.ts';

function exec(cmd: string, args: string[], cwd?: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, encoding: 'utf8' }, (err, _stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stderr: stderr || (err && code !== 0 && !stderr ? String(err.message) : '') });
    });
  });
}

/** Runs mount(8); `cwd` lets relative paths in options (overlay lowerdir) resolve against it. */
export async function mount(type: string, source: string, target: string, options: string, cwd?: string): Promise<void> {
  const r = await exec('mount', ['-t', type, '-o', options, '--', source, target], cwd);
  if (r.code !== 0) {
    throw new JettisonError('MOUNT', `mount -t ${type} ${target}: ${r.stderr.trim() || `exit code ${r.code}`}`);
  }
}

/**
 * Unmounts `target`: plain umount, retried while busy, then lazily (detached, freed when unused).
 */
export async function unmount(target: string): Promise<void> {
  for (let i = 0; i < 5; i++) {
    if (!(await isMountPoint(target))) return;
    const r = await exec('umount', ['--', target]);
    if (r.code === 0) return;
    if (!/busy/i.test(r.stderr)) break;
    await sleep(50 * (i + 1));
  }
  if (!(await isMountPoint(target))) return;
  const r = await exec('umount', ['-l', '--', target]);
  if (r.code !== 0 && (await isMountPoint(target))) {
    throw new JettisonError('MOUNT', `umount ${target}: ${r.stderr.trim()}`);
  }
}

/** Decodes mountinfo's octal escapes (\040 for a space…). */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The mount points of this process's mount namespace, in mount order. */
export async function mountPoints(): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => unescape(line.split(' ')[4]));
}

export async function isMountPoint(path: string): Promise<boolean> {
  return (await mountPoints()).includes(path);
}

/** Mount points at or below `dir`, deepest (last mounted) first: the order to unmount them in. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const prefix = dir.endsWith('/') ? dir : dir + '/';
  return (await mountPoints()).filter((m) => m === dir || m.startsWith(prefix)).reverse();
}

/** Unmounts everything at or below `dir` (the mount table is read again only when a umount needed retries). */
export async function unmountAll(dir: string): Promise<void> {
  for (let round = 0; round < 3; round++) {
    const ms = await mountsUnder(dir);
    if (ms.length === 0) return;
    let clean = true;
    for (const m of ms) {
      const r = await exec('umount', ['--', m]);
      if (r.code !== 0) {
        clean = false;
        await unmount(m);
      }
    }
    if (clean) return;
  }
}
