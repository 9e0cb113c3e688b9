/**
 * Opening a build context: a local directory, a git repository URL (`URL#ref:subdir`; https, ssh, git@,
 * git:// and file:// URLs, local bare repositories in tests), or a tar stream (`-` on the command line).
 * The result is a directory to read with root-scoped paths plus its .dockerignore patterns.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { JettisonError } from '../errors.ts';
import { PatternMatcher, parseIgnoreFile } from './patterns.ts';
import { resolveInRoot } from './scoped-path.ts';

const run = promisify(execFile);

export interface BuildContext {
  /** Host directory that is the context's root. */
  root: string;
  /** Patterns from .dockerignore (or <Dockerfile>.dockerignore). */
  ignore: PatternMatcher;
  /** Where the context came from, for messages. */
  description: string;
  /** Removes temporary files (clones, unpacked tars). */
  close(): Promise<void>;
}

export interface GitSource {
  url: string;
  ref?: string;
  subdir?: string;
}

/** Recognises git contexts the way BuildKit's client does; undefined for anything else. */
export function parseGitUrl(spec: string): GitSource | undefined {
  const isGit =
    /^git@[^:]+:/.test(spec) ||
    /^(git|ssh):\/\//.test(spec) ||
    /^github\.com\//.test(spec) ||
    (/^(https?|file):\/\//.test(spec) && /\.git(#|$)|\.git\/?(#|$)/.test(spec)) ||
    (/^file:\/\//.test(spec));
  if (!isGit) return undefined;
  const hash = spec.indexOf('#');
  let url = hash < 0 ? spec : spec.slice(0, hash);
  if (url.startsWith('github.com/')) url = `https://${url}`;
  const fragment = hash < 0 ? '' : spec.slice(hash + 1);
  const colon = fragment.indexOf(':');
  const ref = colon < 0 ? fragment : fragment.slice(0, colon);
  const subdir = colon < 0 ? '' : fragment.slice(colon + 1);
  const out: GitSource = { url };
  if (ref) out.ref = ref;
  if (subdir) out.subdir = subdir;
  return out;
}

/** Shallow-fetches a git ref (branch, tag or commit) into a fresh directory. */
export async function cloneGit(src: GitSource, into: string, opts: { keepGitDir?: boolean } = {}): Promise<void> {
  const git = (args: string[]) => run('git', args, { cwd: into, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' }, maxBuffer: 1 << 24 });
  try {
    await git(['init', '-q']);
    await git(['remote', 'add', 'origin', src.url]);
    const ref = src.ref ?? 'HEAD';
    let commit = 'FETCH_HEAD';
    try {
      await git(['fetch', '-q', '--depth=1', '--recurse-submodules=no', 'origin', ref]);
    } catch (shallowErr) {
      // Servers that refuse to fetch a commit by id: fetch everything, then the ref must name a branch,
      // a tag or a commit of it (never fall back to the default branch).
      await git(['fetch', '-q', '--tags', '--recurse-submodules=no', 'origin', '+refs/heads/*:refs/remotes/origin/*']);
      let found: string | undefined;
      for (const candidate of [`refs/remotes/origin/${ref}`, `refs/tags/${ref}`, ref]) {
        try {
          found = (await git(['rev-parse', '--verify', '-q', `${candidate}^{commit}`])).stdout.trim();
          break;
        } catch {
          // not this kind of ref
        }
      }
      if (!found) throw shallowErr;
      commit = found;
    }
    await git(['-c', 'advice.detachedHead=false', 'checkout', '-q', commit]);
    await git(['submodule', 'update', '--init', '--recursive', '--depth=1']).catch(() => undefined);
    if (!opts.keepGitDir) await rm(join(into, '.git'), { recursive: true, force: true });
  } catch (err) {
    const msg = err instanceof Error && 'stderr' in err ? String((err as { stderr: unknown }).stderr).trim() : String(err);
    throw new JettisonError('GIT', `failed to fetch git context ${src.url}${src.ref ? `#${src.ref}` : ''}: ${msg}`);
  }
}

/**
 * The context's ignore file: `<Dockerfile>.dockerignore` when there is one, else `.dockerignore` at the
 * root. `dockerfile` is a host path for a directory context (read as docker's client reads it); with
 * `confined` (a tar or git context, whose files are not trusted) it is a path inside the root, and both
 * names are resolved within the root, so a symlink cannot make jettison read a host file.
 */
async function readIgnore(root: string, dockerfile: string | undefined, confined: boolean): Promise<PatternMatcher> {
  const names = dockerfile !== undefined ? [`${dockerfile}.dockerignore`, '.dockerignore'] : ['.dockerignore'];
  for (const name of names) {
    try {
      const path = confined ? await resolveInRoot(root, name) : name === '.dockerignore' ? join(root, name) : name;
      return new PatternMatcher(parseIgnoreFile(await readFile(path, 'utf8')));
    } catch {
      // try the next one
    }
  }
  return new PatternMatcher([]);
}

export interface OpenContextOptions {
  cwd: string;
  /**
   * The Dockerfile when known (for <Dockerfile>.dockerignore): a host path for a directory context, a path
   * inside the context for a tar or git one.
   */
  dockerfile?: string;
  /** Unpacks a tar stream into a directory (the layer applier, in merge mode), for `-` contexts. */
  unpackTar?: (into: string) => Promise<void>;
}

export async function openContext(spec: string, opts: OpenContextOptions): Promise<BuildContext> {
  const git = parseGitUrl(spec);
  if (git) {
    const tmp = await mkdtemp(join(tmpdir(), 'jettison-git-'));
    try {
      await cloneGit(git, tmp);
      const root = git.subdir ? await resolveInRoot(tmp, git.subdir) : tmp;
      if (!(await isDir(root))) throw new JettisonError('CONTEXT', `git context ${spec}: subdirectory "${git.subdir}" not found`);
      return { root, ignore: await readIgnore(root, opts.dockerfile, true), description: spec, close: () => rm(tmp, { recursive: true, force: true }) };
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }
  if (spec === '-') {
    if (!opts.unpackTar) throw new JettisonError('CONTEXT', 'a context on standard input needs a tar reader');
    const tmp = await mkdtemp(join(tmpdir(), 'jettison-ctx-'));
    try {
      await opts.unpackTar(tmp);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
    return { root: tmp, ignore: await readIgnore(tmp, opts.dockerfile, true), description: 'stdin', close: () => rm(tmp, { recursive: true, force: true }) };
  }
  const root = resolve(opts.cwd, spec);
  if (!(await isDir(root))) throw new JettisonError('CONTEXT', `unable to prepare context: path "${spec}" not found`);
  return { root, ignore: await readIgnore(root, opts.dockerfile, false), description: spec, close: async () => undefined };
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}
