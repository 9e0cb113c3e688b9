/**
 * USER resolution the way BuildKit does it: "uid:gid" (numbers, or "root") is taken as is; anything
 * else is looked up in the root filesystem's /etc/passwd and /etc/group (runc's rules: a name must exist,
 * a number need not; supplementary groups are those listing the user, only when no group was given).
 * Unknown names fail with BuildKit's messages.
 */
import { readFile } from 'node:fs/promises';
import { JettisonError } from '../../errors.ts';
import { resolveInRoot } from '../fs/rootpath.ts';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const MAX_ID = 2 ** 31 - 1;

function parseId(s: string): number | undefined {
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 0xffffffff ? n : undefined;
}

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const f = t.split(':');
    const uid = parseId(f[2] ?? '');
    const gid = parseId(f[3] ?? '');
    if (uid === undefined || gid === undefined) continue;
    out.push({ name: f[0], uid, gid });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const f = t.split(':');
    const gid = parseId(f[2] ?? '');
    if (gid === undefined) continue;
    out.push({ name: f[0], gid, members: (f[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean) });
  }
  return out;
}

function fastId(s: string): number | undefined {
  return s === 'root' ? 0 : parseId(s);
}

/**
 * Resolves a USER value against passwd/group file contents (null when the file is missing).
 * Pure: the table tests call this directly.
 */
export function resolveUserFrom(spec: string, passwd: string | null, group: string | null): ResolvedUser {
  if (spec === '') return { uid: 0, gid: 0, additionalGids: [] };
  const colon = spec.indexOf(':');
  const userPart = colon < 0 ? spec : spec.slice(0, colon);
  const groupPart = colon < 0 ? undefined : spec.slice(colon + 1);
  if (groupPart !== undefined) {
    const u = fastId(userPart);
    const g = fastId(groupPart);
    if (u !== undefined && g !== undefined) return { uid: u, gid: g, additionalGids: [] };
  }
  const users = passwd === null ? [] : parsePasswd(passwd);
  const groups = group === null ? [] : parseGroup(group);
  let uid: number;
  let gid = 0;
  let name: string | undefined;
  const num = parseId(userPart);
  // Like runc: a number is always a uid, never a name.
  const entry = num !== undefined ? users.find((u) => u.uid === num) : users.find((u) => u.name === userPart);
  if (entry) {
    uid = entry.uid;
    gid = entry.gid;
    name = entry.name;
  } else if (num !== undefined) {
    uid = num;
  } else {
    throw new JettisonError('USER_NOT_FOUND', `unable to find user ${userPart}: no matching entries in passwd file`);
  }
  if (uid > MAX_ID) throw new JettisonError('USER_NOT_FOUND', `uids and gids must be in range 0-${MAX_ID}`);
  let additionalGids: number[] = [];
  if (groupPart !== undefined && groupPart !== '') {
    const gnum = parseId(groupPart);
    const g = gnum !== undefined ? groups.find((x) => x.gid === gnum) : groups.find((x) => x.name === groupPart);
    if (g) gid = g.gid;
    else if (gnum !== undefined) gid = gnum;
    else throw new JettisonError('GROUP_NOT_FOUND', `unable to find group ${groupPart}: no matching entries in group file`);
    if (gid > MAX_ID) throw new JettisonError('GROUP_NOT_FOUND', `uids and gids must be in range 0-${MAX_ID}`);
  } else if (name !== undefined) {
    additionalGids = [...new Set(groups.filter((g) => g.members.includes(name)).map((g) => g.gid))];
  }
  return { uid, gid, additionalGids };
}

async function readInRoot(rootfs: string, path: string): Promise<string | null> {
  try {
    return await readFile(await resolveInRoot(rootfs, path), 'utf8');
  } catch {
    return null;
  }
}

/** Resolves a USER value in a root filesystem (its /etc/passwd and /etc/group, symlinks kept inside). */
export async function resolveUser(rootfs: string, spec: string | undefined): Promise<ResolvedUser> {
  const s = spec ?? '';
  const colon = s.indexOf(':');
  if (s === '' || (colon >= 0 && fastId(s.slice(0, colon)) !== undefined && fastId(s.slice(colon + 1)) !== undefined)) {
    return resolveUserFrom(s, null, null);
  }
  return resolveUserFrom(s, await readInRoot(rootfs, '/etc/passwd'), await readInRoot(rootfs, '/etc/group'));
}
