/**
 * `--chmod` values as COPY and ADD take them (dockerfile 1.14+): octal ("755", "0644") or chmod(1)'s
 * symbolic modes ("u+x", "go-w", "a=rX,u+w", "g=u"), applied to each copied entry's own mode. A clause
 * without a who (`+x`) applies to all (no umask), as `--chmod` has no umask. Pure functions.
 */
import { JettisonError } from '../errors.ts';

/** The new mode of an entry from its current permission bits (07777) and whether it is a directory. */
export type ModeChange = (mode: number, isDir: boolean) => number;

const OCTAL = /^0*[0-7]{1,4}$/;
const CLAUSE = /^([ugoa]*)((?:[-+=](?:[rwxXst]*|[ugo]))+)$/;

const WHO: Record<string, number> = { u: 0o4700, g: 0o2070, o: 0o1007, a: 0o7777 };

/** Parses a --chmod value; undefined when it is neither octal (≤ 07777) nor a valid symbolic mode. */
export function parseChmodSpec(spec: string): ModeChange | undefined {
  if (OCTAL.test(spec)) {
    const m = parseInt(spec, 8);
    return () => m;
  }
  const clauses: { who: number; actions: { op: string; perms: string }[] }[] = [];
  for (const part of spec.split(',')) {
    const c = CLAUSE.exec(part);
    if (!c) return undefined;
    const who = c[1] === '' ? WHO.a : [...c[1]].reduce((m, w) => m | WHO[w], 0);
    const actions = [...c[2].matchAll(/([-+=])([ugo]|[rwxXst]*)/g)].map((a) => ({ op: a[1], perms: a[2] }));
    clauses.push({ who, actions });
  }
  return (start, isDir) => {
    let mode = start & 0o7777;
    for (const { who, actions } of clauses) {
      for (const { op, perms } of actions) {
        let bits = 0;
        if (perms === 'u' || perms === 'g' || perms === 'o') {
          // Copy another class's rwx bits to every class.
          const shift = perms === 'u' ? 6 : perms === 'g' ? 3 : 0;
          const rwx = (mode >> shift) & 0o7;
          bits = (rwx << 6) | (rwx << 3) | rwx;
        } else {
          for (const p of perms) {
            if (p === 'r') bits |= 0o444;
            else if (p === 'w') bits |= 0o222;
            else if (p === 'x') bits |= 0o111;
            else if (p === 'X') bits |= isDir || (mode & 0o111) !== 0 ? 0o111 : 0;
            else if (p === 's') bits |= 0o6000;
            else if (p === 't') bits |= 0o1000;
          }
        }
        bits &= who;
        if (op === '+') mode |= bits;
        else if (op === '-') mode &= ~bits;
        else mode = (mode & ~who) | bits;
      }
    }
    return mode & 0o7777;
  };
}

/** A --chmod value's change, or BuildKit's error for a value that is neither octal nor symbolic. */
export function chmodChange(spec: string): ModeChange {
  const change = parseChmodSpec(spec);
  if (!change) throw new JettisonError('BAD_CHMOD', `invalid chmod parameter: '${spec}'. it should be octal string and between 0 and 07777`);
  return change;
}
