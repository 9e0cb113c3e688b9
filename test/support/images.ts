/**
 * Base root filesystems for tests, made from Debian packages and cached as tar files.
 *
 * - `busyboxRootfs()`: a minimal root from the busybox-static .deb: /bin/busybox and a symlink for each
 *   applet (`busybox --list-full`), /etc/passwd and /etc/group with root (0), nobody (65534) and `www`
 *   (1000:1000, also a member of `staff` 50 and `users` 100), /tmp (1777), /root, /home/www, /var/www
 *   (owned by www, holding index.html, for `busybox httpd -h /var/www`).
 * - `debianRootfs({ packages })`: mmdebstrap of Debian bookworm (variant `minbase` by default) with extra
 *   packages, from the mirrors this machine's apt uses. Slow the first time (minutes), cached by the
 *   package list and variant.
 *
 * Both return the path of an uncompressed tar whose entries have no leading "./" where we make it, sorted by
 * name with numeric owners. The cache is `$JETTISON_TEST_CACHE` (default /var/tmp/jettison-test-cache);
 * a missing file is rebuilt. Builds go to a temporary dir inside the cache and are renamed into place, so
 * two test processes asking at once each build and the last rename wins with an identical file.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Bump when the recipe changes so caches rebuild. */
const RECIPE = 3;

export function testCacheDir(): string {
  return process.env.JETTISON_TEST_CACHE || '/var/tmp/jettison-test-cache';
}

/** Users and groups the busybox root has (exported so tests can assert on them). */
export const BUSYBOX_USERS = {
  root: { uid: 0, gid: 0 },
  www: { uid: 1000, gid: 1000, groups: [50, 100] },
  nobody: { uid: 65534, gid: 65534 },
} as const;

const PASSWD = `root:x:0:0:root:/root:/bin/sh
www:x:1000:1000:www:/home/www:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
`;
const GROUP = `root:x:0:
staff:x:50:www
users:x:100:www,nobody
www:x:1000:
nogroup:x:65534:
`;

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const cache = testCacheDir();
  await mkdir(cache, { recursive: true });
  const dir = await mkdtemp(join(cache, '.tmp-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Finds the busybox-static .deb in apt's cache, or downloads it into `dir`. */
async function busyboxDeb(dir: string): Promise<string> {
  const archives = '/var/cache/apt/archives';
  if (existsSync(archives)) {
    const found = readdirSync(archives).filter((n) => /^busybox-static_.*\.deb$/.test(n)).sort();
    if (found.length > 0) return join(archives, found[found.length - 1]);
  }
  await run('apt-get', ['download', 'busybox-static'], { cwd: dir });
  const got = (await readdir(dir)).filter((n) => /^busybox-static_.*\.deb$/.test(n));
  if (got.length === 0) throw new Error('apt-get download busybox-static produced no .deb');
  return join(dir, got[0]);
}

/** Tars `root`'s top-level entries (no "./" prefix) reproducibly into `out`. */
async function tarTree(root: string, out: string): Promise<void> {
  const top = (await readdir(root)).sort();
  await run('tar', [
    '--create', '--file', out, '--directory', root, '--sort=name', '--numeric-owner', '--format=posix',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime', '--mtime=@0', '--xattrs', '--', ...top,
  ]);
}

/** The path of a tar holding a minimal busybox root filesystem (built and cached when missing). */
export async function busyboxRootfs(): Promise<string> {
  const cache = testCacheDir();
  return withTempDir(async (tmp) => {
    const deb = await busyboxDeb(tmp);
    const version = decodeURIComponent(deb.replace(/^.*busybox-static_/, '').replace(/\.deb$/, '')).replace(/[^A-Za-z0-9.+~-]/g, '_');
    const target = join(cache, `busybox-${version}-r${RECIPE}.tar`);
    if (existsSync(target)) return target;
    const x = join(tmp, 'x');
    await run('dpkg-deb', ['-x', deb, x]);
    const root = join(tmp, 'root');
    for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'root', 'tmp', 'var/www', 'home/www', 'dev', 'proc', 'sys']) {
      await mkdir(join(root, d), { recursive: true, mode: 0o755 });
    }
    await run('cp', ['-a', join(x, 'bin', 'busybox'), join(root, 'bin', 'busybox')]);
    const { stdout } = await run(join(root, 'bin', 'busybox'), ['--list-full']);
    for (const rel of stdout.split('\n').map((s) => s.trim()).filter(Boolean).sort()) {
      if (rel === 'bin/busybox' || rel.includes('..')) continue;
      const p = join(root, rel);
      if (existsSync(p)) continue;
      await mkdir(dirname(p), { recursive: true });
      await symlink('/bin/busybox', p);
    }
    await writeFile(join(root, 'etc', 'passwd'), PASSWD, { mode: 0o644 });
    await writeFile(join(root, 'etc', 'group'), GROUP, { mode: 0o644 });
    await writeFile(join(root, 'etc', 'shadow'), 'root:*:19000:0:99999:7:::\nwww:!:19000::::::\nnobody:*:19000::::::\n', { mode: 0o640 });
    await writeFile(join(root, 'var', 'www', 'index.html'), '<h1>hello from busybox httpd</h1>\n', { mode: 0o644 });
    await chmod(join(root, 'tmp'), 0o1777);
    await chmod(join(root, 'root'), 0o700);
    await chown(join(root, 'home', 'www'), 1000, 1000);
    await chown(join(root, 'var', 'www'), 1000, 1000);
    await chown(join(root, 'var', 'www', 'index.html'), 1000, 1000);
    const out = join(tmp, 'rootfs.tar');
    await tarTree(root, out);
    await rename(out, target);
    return target;
  });
}

export interface DebianRootfsOptions {
  /** Extra packages (`--include`), e.g. ['gcc', 'libc6-dev', 'make']. */
  packages?: string[];
  /** mmdebstrap variant: minbase (default) or apt. */
  variant?: 'minbase' | 'apt';
  /** Suite, bookworm by default. */
  suite?: string;
}

/** The mirror arguments for mmdebstrap: this machine's apt sources (deb822 or one-line), else Debian's. */
function mirrorArgs(): string[] {
  const deb822 = '/etc/apt/sources.list.d/debian.sources';
  if (existsSync(deb822)) return [deb822];
  const list = '/etc/apt/sources.list';
  if (existsSync(list)) return [list];
  return ['http://deb.debian.org/debian'];
}

/** The path of a tar holding a Debian root filesystem with `packages` (built and cached when missing). */
export async function debianRootfs(opts: DebianRootfsOptions = {}): Promise<string> {
  const packages = [...new Set(opts.packages ?? [])].sort();
  for (const p of packages) {
    if (!/^[a-z0-9][a-z0-9+.-]*$/.test(p)) throw new Error(`not a Debian package name: ${JSON.stringify(p)}`);
  }
  const variant = opts.variant ?? 'minbase';
  const suite = opts.suite ?? 'bookworm';
  const mirrors = mirrorArgs();
  const key = createHash('sha256')
    .update(JSON.stringify({ RECIPE, packages, variant, suite, mirrors }))
    .digest('hex')
    .slice(0, 16);
  const target = join(testCacheDir(), `debian-${suite}-${variant}-${key}.tar`);
  if (existsSync(target)) return target;
  return withTempDir(async (tmp) => {
    const out = join(tmp, 'rootfs.tar');
    const args = [`--variant=${variant}`, '--mode=root', '--format=tar', '--quiet'];
    if (packages.length > 0) args.push(`--include=${packages.join(',')}`);
    // Clean apt lists and caches so the tar holds only the system.
    args.push('--skip=output/dev', '--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin');
    args.push(suite, out, ...mirrors);
    await run('mmdebstrap', args, {
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, SOURCE_DATE_EPOCH: '0', DEBIAN_FRONTEND: 'noninteractive' },
    });
    await rename(out, target);
    return target;
  });
}
