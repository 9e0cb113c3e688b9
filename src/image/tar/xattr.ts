/**
 * Extended attributes without a native addon: Node has no xattr API, so a whole tree's attributes
 * are read with ONE `getfattr -R` process (parsing its dump) and a layer's attributes are set with
 * ONE `setfattr --restore` process. Both come from Debian's `attr` package. Symlinks are never
 * followed (-h, -P).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { JettisonError } from '../../errors.ts';

const GETFATTR = '/usr/bin/getfattr';
const SETFATTR = '/usr/bin/setfattr';

function missingTool(tool: string): JettisonError {
  return new JettisonError('MISSING_TOOL', `extended attributes need ${tool} (Debian package "attr"); install it or pass xattrs: false`);
}

/** Undoes getfattr's quoting: "\\" → "\", "\ooo" → that byte. Returns the UTF-8 decoding. */
function unquote(s: string): string {
  if (!s.includes('\\')) return s;
  const bytes: number[] = [];
  const raw = Buffer.from(s, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x5c && i + 3 < raw.length && /^[0-7]{3}$/.test(raw.toString('latin1', i + 1, i + 4))) {
      bytes.push(parseInt(raw.toString('latin1', i + 1, i + 4), 8));
      i += 3;
    } else if (raw[i] === 0x5c && raw[i + 1] === 0x5c) {
      bytes.push(0x5c);
      i += 1;
    } else bytes.push(raw[i]);
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Quotes a name for setfattr --restore: backslash and control characters as \ooo. */
function quote(s: string): string {
  const raw = Buffer.from(s, 'utf8');
  let out = '';
  let plain: number[] = [];
  const flush = () => {
    if (plain.length) out += Buffer.from(plain).toString('utf8');
    plain = [];
  };
  for (const b of raw) {
    if (b === 0x5c || b < 0x20 || b === 0x7f) {
      flush();
      out += '\\' + b.toString(8).padStart(3, '0');
    } else plain.push(b);
  }
  flush();
  return out;
}

/**
 * All extended attributes under `dir` (itself included), keyed by absolute path. Paths without
 * attributes are absent. One getfattr process; its dump is parsed line by line as it streams.
 */
export async function readXattrTree(dir: string): Promise<Map<string, Map<string, Buffer>>> {
  if (!existsSync(GETFATTR)) throw missingTool('getfattr');
  const child = spawn(GETFATTR, ['-R', '-d', '-m', '-', '-e', 'hex', '-h', '-P', '--absolute-names', dir], {
    env: { ...process.env, LC_ALL: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
  const out = new Map<string, Map<string, Buffer>>();
  let current: Map<string, Buffer> | undefined;
  for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
    if (line.startsWith('# file: ')) {
      current = new Map();
      out.set(unquote(line.slice('# file: '.length)), current);
    } else if (line !== '' && current) {
      const eq = line.lastIndexOf('=');
      if (eq < 0) continue;
      const name = unquote(line.slice(0, eq));
      const value = line.slice(eq + 1);
      current.set(name, value.startsWith('0x') ? Buffer.from(value.slice(2), 'hex') : Buffer.from(value.replace(/^"|"$/g, '')));
    }
  }
  const code = await exited;
  if (code !== 0) throw new JettisonError('XATTR', `getfattr ${dir} failed (exit ${code}): ${stderr.trim()}`);
  return out;
}

/**
 * Sets attributes on many paths with one setfattr process (symlinks not followed). Resolves with
 * setfattr's complaints (unsupported or forbidden attributes, as containerd logs and ignores them),
 * or undefined when everything was set.
 */
export async function restoreXattrs(entries: Iterable<[string, Map<string, Buffer>]>): Promise<string | undefined> {
  const lines: string[] = [];
  for (const [path, attrs] of entries) {
    if (attrs.size === 0) continue;
    lines.push(`# file: ${quote(path)}`);
    for (const [name, value] of attrs) lines.push(`${quote(name)}=0x${value.toString('hex')}`);
    lines.push('');
  }
  if (lines.length === 0) return undefined;
  if (!existsSync(SETFATTR)) throw missingTool('setfattr');
  const tmp = await mkdtemp(join(tmpdir(), 'jettison-xattr-'));
  try {
    const file = join(tmp, 'restore');
    await writeFile(file, lines.join('\n') + '\n');
    const child = spawn(SETFATTR, ['-h', `--restore=${file}`], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      if (stderr.length < 8192) stderr += d;
    });
    const code = await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (c) => resolve(c ?? 1));
    });
    return code === 0 ? undefined : stderr.trim() || `setfattr exited ${code}`;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Attributes that belong to overlayfs itself and never go into or come out of a layer. */
export function isOverlayXattr(name: string): boolean {
  return name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.');
}
