/**
 * Compiled code kept between runs of the CLI, in the user's cache directory (never the temp dir: a
 * build leaves nothing there). Kept apart from main.ts, and free of imports but Node's own, so that
 * bin/jettison.cjs can use it (bundled alone as dist/loader.cjs) before it loads the CLI:
 *
 * - enableModuleCache(): Node's module compile cache, for the sources and the compiled modules (only
 *   code compiled after it is turned on is cached);
 * - loadBundle(): runs the bundled CLI (dist/jettison.cjs) with a V8 code cache made *after* a
 *   command ran. Node's compile cache holds only what V8 compiled when the file was loaded: the top
 *   level, not the functions compiled on first call, which every start would compile again. One
 *   cache per command (build, images, …), as each runs different code.
 *
 * $NODE_DISABLE_COMPILE_CACHE=1 turns both off.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { constants, createRequire, enableCompileCache } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { constants as vmConstants, Script } from 'node:vm';
import { crc32 } from 'node:zlib';

/** Where the compile cache lives: $NODE_COMPILE_CACHE, else $XDG_CACHE_HOME/jettison (or ~/.cache/jettison). */
export function compileCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NODE_COMPILE_CACHE) return env.NODE_COMPILE_CACHE;
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'jettison', 'node-compile-cache');
}

/**
 * Whether compiled code under `dir` can be trusted: the directory and every existing ancestor belong to
 * this user or root, and no one else can write to them (an ancestor may be a sticky directory such as
 * /tmp). Compiled code is run as is, so a cache another user can write to (a root process run with a
 * user's HOME or XDG_CACHE_HOME, say) would let that user run code as this one.
 */
export function trustedCacheDir(dir: string): boolean {
  const me = process.geteuid?.() ?? 0;
  // The deepest part that exists, with its symbolic links resolved; the rest will be made by this user.
  let p = dir;
  for (;;) {
    try {
      p = realpathSync(p);
      break;
    } catch {
      const up = dirname(p);
      if (up === p) return false;
      p = up;
    }
  }
  for (let first = true; ; first = false) {
    const st = lstatSync(p);
    if (st.uid !== me && st.uid !== 0) return false;
    const othersWrite = (st.mode & 0o022) !== 0;
    if (othersWrite && (first || (st.mode & 0o1000) === 0)) return false;
    const up = dirname(p);
    if (up === p) return true;
    p = up;
  }
}

/**
 * Makes the cache directory `dir` where it is trusted (trustedCacheDir), it and each missing ancestor
 * with mode 0700 whatever the umask: mkdir -p would make them 0775 under umask 002, and
 * trustedCacheDir would refuse them on the next run. True when `dir` is there and trusted.
 */
function makeCacheDir(dir: string): boolean {
  if (!trustedCacheDir(dir)) return false;
  const missing: string[] = [];
  for (let p = dir; !existsSync(p); p = dirname(p)) missing.unshift(p);
  for (const p of missing) {
    try {
      mkdirSync(p, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue; // made meanwhile: judged below
      throw err;
    }
    chmodSync(p, 0o700); // a umask such as 0277 narrows what mkdir makes
  }
  return trustedCacheDir(dir);
}

/**
 * Turns on Node's on-disk module compile cache (compileCacheDir): later runs skip type stripping and
 * compiling of unchanged modules. Call it before the CLI is loaded. True when the cache is on.
 */
export function enableModuleCache(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NODE_DISABLE_COMPILE_CACHE !== undefined) return false; // set, even empty: Node's cache is off
  try {
    const dir = compileCacheDir(env);
    if (!makeCacheDir(dir)) return false;
    // Node makes a directory of its own in `dir` (per Node version and flags) as mkdir -p does: 0700
    // too. Nothing else runs yet, so the umask can be narrowed for this call alone.
    const umask = process.umask(0o077);
    let r: ReturnType<typeof enableCompileCache> | undefined;
    try {
      r = enableCompileCache?.(dir);
    } finally {
      process.umask(umask);
    }
    return r !== undefined && (r.status === constants.compileCacheStatus.ENABLED || r.status === constants.compileCacheStatus.ALREADY_ENABLED);
  } catch {
    return false; // no cache (read-only home): just slower
  }
}

/** main.ts's global options: those that take a value (the next argument, or after "="), and flags. */
const GLOBAL_WITH_VALUE = ['--root', '--insecure-registry', '--registry-mirror'];
const GLOBAL_FLAGS = ['--debug'];

/**
 * The command `argv` runs: its first argument after the global options. Undefined when there is
 * none or another option comes first (--help, --version, an unknown option: commander runs no
 * command then). main.ts loads this command alone; the bin names its code cache after it.
 */
export function commandName(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (GLOBAL_WITH_VALUE.includes(a)) i++;
    else if (!GLOBAL_FLAGS.includes(a) && !GLOBAL_WITH_VALUE.some((o) => a.startsWith(`${o}=`))) return a.startsWith('-') ? undefined : a;
  }
  return undefined;
}

/** What names a command's code cache: commandName when it is a plain word, else "other". */
export function cacheKey(argv: string[]): string {
  const name = commandName(argv);
  return name !== undefined && /^[a-z]{1,20}$/.test(name) ? name : 'other';
}

export interface LoadedBundle {
  /** The bundle's module.exports. */
  exports: Record<string, unknown>;
  /**
   * Call when the command succeeded (a failed run, a mistyped flag say, ran little of its code):
   * writes the code compiled so far as the cache, when there was none (or V8 refused it). Never throws.
   */
  saveCache(): void;
}

/**
 * Loads the CommonJS file `file` as Node would (module, exports, require, __filename, __dirname),
 * with the code cache of command `key`. The cache file's name holds checksums of the bundle's path
 * and of its content with the Node version and flags (V8 refuses a cache made with other flags);
 * writing one removes the caches of older bundles at the same path.
 */
export function loadBundle(file: string, key: string, env: NodeJS.ProcessEnv = process.env): LoadedBundle {
  const source = readFileSync(file, 'utf8');
  const wanted = env.NODE_DISABLE_COMPILE_CACHE ? undefined : join(compileCacheDir(env), 'jettison-bundle');
  const dir = wanted !== undefined && trustedCacheDir(wanted) ? wanted : undefined;
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  // <where the bundle is>-<what it holds, for which node>-<command>.v8
  const place = hex(crc32(file));
  const id = `${place}-${hex(crc32(`${process.version}\0${process.execArgv.join('\0')}\0${source}`))}`;
  const cacheFile = dir === undefined ? undefined : join(dir, `${id}-${key}.v8`);
  let cachedData: Buffer | undefined;
  try {
    // CRC-32 of the code cache (4 bytes, big-endian), then the cache: a damaged file is not handed to V8.
    const stored = cacheFile ? readFileSync(cacheFile) : undefined;
    if (stored && stored.length > 4 && stored.readUInt32BE(0) === crc32(stored.subarray(4))) cachedData = stored.subarray(4);
  } catch {
    /* none yet */
  }
  // The wrapper keeps the bundle's own line numbers (it adds to the first line only).
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
    importModuleDynamically: vmConstants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = { exports: {} as Record<string, unknown> };
  (script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  const cacheUsed = cachedData !== undefined && !script.cachedDataRejected;
  return {
    exports: module.exports,
    saveCache() {
      if (!dir || !cacheFile || cacheUsed) return;
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      try {
        const data = script.createCachedData();
        const head = Buffer.alloc(4);
        head.writeUInt32BE(crc32(data));
        if (!makeCacheDir(dir)) return;
        writeFileSync(tmp, Buffer.concat([head, data]), { mode: 0o600 });
        renameSync(tmp, cacheFile);
        // Caches of an older bundle at the same place (another checkout's are left alone).
        for (const name of readdirSync(dir)) {
          if (name.startsWith(`${place}-`) && !name.startsWith(`${id}-`)) rmSync(join(dir, name), { force: true });
        }
      } catch {
        // No cache (read-only home, a full disk): just slower next time.
        try {
          rmSync(tmp, { force: true });
        } catch {
          /* nothing written */
        }
      }
    },
  };
}
