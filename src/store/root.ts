/**
 * Where the store lives: --root DIR, else $JETTISON_ROOT, else $XDG_DATA_HOME/jettison, else
 * ~/.local/share/jettison.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function resolveRoot(opts: { root?: string; cwd?: string } = {}, env: NodeJS.ProcessEnv = process.env): string {
  const cwd = opts.cwd ?? process.cwd();
  if (opts.root) return resolve(cwd, opts.root);
  if (env.JETTISON_ROOT) return resolve(cwd, env.JETTISON_ROOT);
  if (env.XDG_DATA_HOME) return join(resolve(cwd, env.XDG_DATA_HOME), 'jettison');
  return join(env.HOME || homedir(), '.local', 'share', 'jettison');
}
