/**
 * Node's on-disk module compile cache for the CLI: where it lives and how it is turned on. Kept apart
 * from main.ts (and free of imports but Node's own) so that bin/jettison.js can turn the cache on
 * before it loads the CLI itself: only code compiled after enableModuleCache() is cached.
 */
import { constants, enableCompileCache } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where the compile cache lives: $NODE_COMPILE_CACHE, else $XDG_CACHE_HOME/jettison (or ~/.cache/jettison). */
export function compileCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NODE_COMPILE_CACHE) return env.NODE_COMPILE_CACHE;
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'jettison', 'node-compile-cache');
}

/**
 * Turns on Node's on-disk module compile cache in the user's cache directory (never the temp dir:
 * a build leaves nothing there): later runs skip type stripping and compiling of unchanged modules.
 * Call it before the CLI is loaded; $NODE_DISABLE_COMPILE_CACHE=1 turns it off. True when the cache
 * is on.
 */
export function enableModuleCache(env: NodeJS.ProcessEnv = process.env): boolean {
  try {
    const r = enableCompileCache?.(compileCacheDir(env));
    return r !== undefined && (r.status === constants.compileCacheStatus.ENABLED || r.status === constants.compileCacheStatus.ALREADY_ENABLED);
  } catch {
    return false; // no cache (read-only home): just slower
  }
}
