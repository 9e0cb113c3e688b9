/**
 * Host probes remembered across processes, so that a build does not mount a test overlay and run a
 * test container every time: `<worker state>/probes.json` records the probes that passed (overlayfs
 * in the state dir; a runtime binary that ran a container), each under a key of what could change the
 * answer: the kernel release, this boot (/proc/sys/kernel/random/boot_id), the state dir's device, and
 * for a runtime its path, size and mtime. A key that differs, a missing or unreadable file, or a probe
 * that failed means probing again; failures are never remembered. Written atomically.
 */
import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { release } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/fs.ts';

interface ProbeFile {
  version: 1;
  /** Probe name ("overlay", "runtime:/usr/sbin/runc") → the key it passed under. */
  passed: Record<string, string>;
}

/** This boot's id (the kernel's random boot_id), 'unknown-boot' where there is none. */
export function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown-boot';
  }
}

export class ProbeCache {
  private readonly file: string;
  private readonly tmpDir: string;
  private readonly hostKey: string;

  /** `stateDir` holds the file; temp files go to `tmpDir` (swept when their writer is gone). */
  constructor(stateDir: string, tmpDir: string) {
    this.file = join(stateDir, 'probes.json');
    this.tmpDir = tmpDir;
    let dev = '?';
    try {
      dev = String(statSync(stateDir).dev);
    } catch {
      /* the key just has no device */
    }
    this.hostKey = `${release()}|${bootId()}|dev=${dev}`;
  }

  /** The key a runtime binary's probe is remembered under (undefined when it cannot be stat'ed). */
  runtimeKey(path: string): string | undefined {
    try {
      const st = statSync(path, { bigint: true });
      return `${this.hostKey}|${path}|${st.size}|${st.mtimeNs}`;
    } catch {
      return undefined;
    }
  }

  overlayKey(): string {
    return this.hostKey;
  }

  private async read(): Promise<ProbeFile> {
    try {
      const o = JSON.parse(await readFile(this.file, 'utf8')) as Partial<ProbeFile>;
      if (o && o.version === 1 && o.passed && typeof o.passed === 'object') return { version: 1, passed: { ...o.passed } };
    } catch {
      /* missing or bad: probe again */
    }
    return { version: 1, passed: {} };
  }

  /** True when probe `name` passed before under exactly `key`. */
  async passed(name: string, key: string | undefined): Promise<boolean> {
    if (key === undefined) return false;
    return (await this.recorded(name)) === key;
  }

  /** The key probe `name` last passed under, if any. */
  async recorded(name: string): Promise<string | undefined> {
    return (await this.read()).passed[name];
  }

  /** Records that probe `name` passed under `key` (best effort: a failed write only means probing again). */
  async remember(name: string, key: string | undefined): Promise<void> {
    if (key === undefined) return;
    try {
      const f = await this.read();
      if (f.passed[name] === key) return;
      f.passed[name] = key;
      await writeFileAtomic(this.file, JSON.stringify(f, null, 1) + '\n', { tmpDir: this.tmpDir, mode: 0o600 });
    } catch {
      /* next process probes again */
    }
  }
}
