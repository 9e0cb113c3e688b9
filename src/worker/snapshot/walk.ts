/**
 * Small tree helpers for snapshots: a depth-first walk that never follows symlinks (streaming, one
 * directory listing in memory at a time), overlay whiteout/opaque tests, and xattr reads via getfattr
 * (Node has no xattr API).
 */
import { execFile } from 'node:child_process';
import { lstat, opendir } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';

export interface WalkEntry {
  /** Path relative to the walked root, with no leading slash ("etc/passwd"). */
  rel: string;
  stat: Stats;
}

/** Every entry under `root` (not root itself), parents before children, names sorted. */
export async function* walk(root: string, rel = ''): AsyncGenerator<WalkEntry> {
  const dir = await opendir(rel ? join(root, rel) : root);
  const names: string[] = [];
  for await (const d of dir) names.push(d.name);
  names.sort();
  for (const name of names) {
    const r = rel ? `${rel}/${name}` : name;
    const st = await lstat(join(root, r));
    yield { rel: r, stat: st };
    if (st.isDirectory()) yield* walk(root, r);
  }
}

/** An overlayfs whiteout: a character device 0/0. */
export function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

export const OPAQUE_XATTR = 'trusted.overlay.opaque';

/** The value of xattr `name` on `path` (not following a symlink), or undefined when it has none. */
export function getXattr(path: string, name: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    execFile('getfattr', ['-h', '--only-values', '--absolute-names', '-n', name, '--', path], { encoding: 'latin1' }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(new Error('getfattr not found: install the attr package (apt-get install attr)'));
      }
      if (/No such attribute|Operation not supported/i.test(stderr)) return resolve(undefined);
      reject(new Error(`getfattr ${path}: ${stderr.trim()}`));
    });
  });
}

export function removeXattr(path: string, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('setfattr', ['-h', '-x', name, '--', path], (err, _o, stderr) => {
      if (!err || /No such attribute/i.test(stderr)) return resolve();
      reject(new Error(`setfattr -x ${name} ${path}: ${stderr.trim()}`));
    });
  });
}

/** True when directory `path` is marked opaque (it hides everything below it in lower layers). */
export async function isOpaque(path: string): Promise<boolean> {
  return (await getXattr(path, OPAQUE_XATTR)) === 'y';
}

/** Every directory under `root` (root included, as '') that is marked opaque: one getfattr run. */
export function opaqueDirs(root: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(
      'getfattr',
      ['-R', '-P', '--absolute-names', '-m', '^trusted\\.overlay\\.opaque$', '-d', '--', root],
      { encoding: 'latin1', maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
          return reject(new Error('getfattr not found: install the attr package (apt-get install attr)'));
        }
        if (err && !stdout) return reject(new Error(`getfattr -R ${root}: ${stderr.trim()}`));
        const out: string[] = [];
        let file: string | undefined;
        for (const line of stdout.split('\n')) {
          if (line.startsWith('# file: ')) {
            file = line.slice(8).replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
            // getfattr prints bytes; names are UTF-8.
            file = Buffer.from(file, 'latin1').toString('utf8');
          } else if (file !== undefined && /^trusted\.overlay\.opaque="y"$/.test(line)) {
            const rel = file === root ? '' : file.startsWith(root + '/') ? file.slice(root.length + 1) : undefined;
            if (rel !== undefined) out.push(rel);
          }
        }
        resolve(out);
      },
    );
  });
}
