/**
 * A small real image for the interop tests: a root file system with busybox-static (a tar made by
 * the system tar, gzip-compressed), imported with `jettison import` into a fresh store.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliResult } from '../../support/cli.ts';

export interface Fixture {
  dir: string;
  root: string;
  cli: (args: string[]) => Promise<CliResult>;
  cleanup: () => void;
}

export async function busyboxImage(name = 'interop/busybox:1'): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'jettison-interop-'));
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  symlinkSync('busybox', join(rootfs, 'bin', 'sh'));
  writeFileSync(join(rootfs, 'etc', 'hello'), 'hello from jettison\n');
  execFileSync('tar', ['-C', rootfs, '--numeric-owner', '--owner=0', '--group=0', '-czf', join(dir, 'rootfs.tar.gz'), '.']);
  const root = join(dir, 'store');
  const cli = (args: string[]) => runCli(['--root', root, ...args], { cwd: dir });
  const r = await cli(['import', join(dir, 'rootfs.tar.gz'), name]);
  if (r.code !== 0) throw new Error(`import failed: ${r.stderr}`);
  return { dir, root, cli, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
