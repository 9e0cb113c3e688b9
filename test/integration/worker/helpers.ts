/**
 * Shared set-up for the worker's integration tests: a temporary store root, the busybox base root
 * filesystem unpacked once per process as a layer dir, and probes of the host (mounts, runc containers).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxRootfs } from '../../support/images.ts';
import { mountsUnder } from '../../support/host.ts';
import type { ExecOptions, ProcessSpec, Snapshot, Worker } from '../../../src/worker/index.ts';

export const TMP_BASE = '/var/tmp';

/** A fresh temporary dir (removed by the caller with cleanupDir). */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(TMP_BASE, `jettison-${prefix}-`));
}

export function cleanupDir(dir: string): void {
  // Nothing may be mounted below when tests pass; unmount anyway so a failure does not leave mounts.
  for (const m of mountsUnder(dir).reverse()) {
    try {
      execFileSync('umount', ['-l', m]);
    } catch {
      /* already gone */
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

let busyboxLayer: string | undefined;

/** The busybox rootfs unpacked into a layer dir (once per process, under `dir`). */
export async function busyboxLayerDir(dir: string): Promise<string> {
  if (busyboxLayer && existsSync(busyboxLayer)) return busyboxLayer;
  const tar = await busyboxRootfs();
  const l = join(dir, 'busybox-layer');
  mkdirSync(l);
  execFileSync('tar', ['-xpf', tar, '-C', l, '--numeric-owner', '--xattrs']);
  busyboxLayer = l;
  return l;
}

export { mountsUnder, runcContainers } from '../../support/host.ts';


/** Runs a process and collects its output. */
export async function run(
  worker: Worker,
  snap: Snapshot,
  proc: ProcessSpec,
  opts: Omit<ExecOptions, 'onStdout' | 'onStderr'> = {},
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const r = await worker.exec(snap, proc, { ...opts, onStdout: (c) => out.push(c), onStderr: (c) => err.push(c) });
  return { exitCode: r.exitCode, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

export const sh = (script: string): string[] => ['/bin/sh', '-c', script];
