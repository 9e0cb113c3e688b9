/**
 * Resolving a path inside a root directory as if the root were `/`: `..` stops at the root and
 * symlinks (absolute or relative) are followed *within* the root, never out of it. This is how a
 * build context, a stage's file system and a COPY destination are read and written; no path given
 * by a Dockerfile, a context or an image can reach the host outside its root.
 */
import { lstat, readlink } from 'node:fs/promises';
import { PathEscapeError } from '../errors.ts';

const MAX_SYMLINKS = 255;

export interface ResolveOptions {
  /** Follow a symlink in the last component too (default true). */
  followFinal?: boolean;
}

/** Splits a path into components, dropping empty and `.` ones. */
function components(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

/**
 * The host path that `path` (interpreted inside `root`) refers to. Missing components are kept
 * lexically. The result is always `root` or below it.
 */
export async function resolveInRoot(root: string, path: string, opts: ResolveOptions = {}): Promise<string> {
  const rel = await resolveRelative(root, path, opts);
  return rel === '' ? root : `${root}/${rel}`;
}

/** Like resolveInRoot, but returns the resolved path relative to the root ('' for the root). */
export async function resolveRelative(root: string, path: string, opts: ResolveOptions = {}): Promise<string> {
  const followFinal = opts.followFinal ?? true;
  const done: string[] = [];
  let todo = components(path);
  let hops = 0;
  while (todo.length > 0) {
    const c = todo.shift()!;
    if (c === '..') {
      done.pop();
      continue;
    }
    const isFinal = todo.length === 0;
    const host = `${root}/${[...done, c].join('/')}`;
    let st;
    try {
      st = await lstat(host);
    } catch {
      done.push(c);
      continue;
    }
    if (st.isSymbolicLink() && (!isFinal || followFinal)) {
      if (++hops > MAX_SYMLINKS) throw new PathEscapeError(`too many levels of symbolic links resolving ${path}`);
      const target = await readlink(host);
      if (target.startsWith('/')) done.length = 0;
      todo = [...components(target), ...todo];
      continue;
    }
    done.push(c);
  }
  return done.join('/');
}

/** Lexical clean of a path to a root-relative form ('' for the root); `..` cannot climb above it. */
export function cleanRelative(p: string): string {
  const out: string[] = [];
  for (const c of components(p)) {
    if (c === '..') out.pop();
    else out.push(c);
  }
  return out.join('/');
}

/** True when p contains glob meta characters as filepath.Match knows them. */
export function hasWildcard(p: string): boolean {
  return /[*?[]/.test(p);
}

/** Go's filepath.Match for one path component: `*`, `?`, `[…]` (with `^`/`!` negation and ranges), `\` escapes. */
export function matchComponent(pattern: string, name: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '\\' && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else if (ch === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) throw new SyntaxError(`syntax error in pattern "${pattern}"`);
      let body = pattern.slice(i + 1, close);
      if (body.startsWith('^') || body.startsWith('!')) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else re += /[.+()|{}$^\]/]/.test(ch) ? `\\${ch}` : ch;
  }
  return new RegExp(`${re}$`, 'u').test(name);
}

