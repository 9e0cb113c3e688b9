/**
 * What a test sees of the host after jettison ran: mount points left under a directory, containers
 * runc still knows.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/** Mount points at or below `dir` in this mount namespace. */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[4].replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m === dir || m.startsWith(dir + '/'));
}

/** Container ids runc knows under a state root. */
export function runcContainers(stateRoot: string): string[] {
  if (!existsSync(stateRoot)) return [];
  const out = execFileSync('runc', ['--root', stateRoot, 'list', '--format', 'json'], { encoding: 'utf8' });
  const list = JSON.parse(out || 'null') as { id: string }[] | null;
  return (list ?? []).map((c) => c.id);
}
