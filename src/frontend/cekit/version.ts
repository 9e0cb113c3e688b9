/**
 * Module version comparison as CEKit does it: versions are strings parsed as PEP 440 versions (the
 * Python `packaging` rules: epoch, release, pre/post/dev releases, local part); a version that is not
 * PEP 440 is a "legacy" version, which sorts below every PEP 440 version. `compareVersions` is the
 * order CEKit uses to pick a module's default (highest) version.
 */

interface Pep440 {
  epoch: number;
  release: number[];
  pre?: [number, number]; // letter rank (a=0, b=1, rc=2), number
  post?: number;
  dev?: number;
  local?: (number | string)[];
}

const PEP440 =
  /^v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|alpha|b|beta|c|rc|pre|preview)[-_.]?(\d+)?)?(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?(?:[-_.]?(dev)[-_.]?(\d+)?)?(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$/;

export function parsePep440(version: string): Pep440 | undefined {
  const m = PEP440.exec(version.trim().toLowerCase());
  if (!m) return undefined;
  const v: Pep440 = { epoch: m[1] ? Number(m[1]) : 0, release: m[2]!.split('.').map(Number) };
  if (m[3]) {
    const letter = m[3];
    const rank = letter === 'a' || letter === 'alpha' ? 0 : letter === 'b' || letter === 'beta' ? 1 : 2;
    v.pre = [rank, m[4] ? Number(m[4]) : 0];
  }
  if (m[5] !== undefined) v.post = Number(m[5]);
  else if (m[6]) v.post = m[7] ? Number(m[7]) : 0;
  if (m[8]) v.dev = m[9] ? Number(m[9]) : 0;
  if (m[10]) v.local = m[10].split(/[-_.]/).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  return v;
}

function cmpNum(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpPep440(a: Pep440, b: Pep440): number {
  let c = cmpNum(a.epoch, b.epoch);
  if (c) return c;
  const ra = [...a.release];
  const rb = [...b.release];
  while (ra.length > 1 && ra[ra.length - 1] === 0) ra.pop();
  while (rb.length > 1 && rb[rb.length - 1] === 0) rb.pop();
  for (let i = 0; i < Math.max(ra.length, rb.length); i++) {
    c = cmpNum(ra[i] ?? -1, rb[i] ?? -1);
    if (c) return c;
  }
  // Pre-release: a dev release of a final version sorts before its pre-releases; no pre-release sorts last.
  const preKey = (v: Pep440): [number, number, number] =>
    v.pre ? [0, v.pre[0], v.pre[1]] : v.post === undefined && v.dev !== undefined ? [-1, 0, 0] : [1, 0, 0];
  const pa = preKey(a);
  const pb = preKey(b);
  for (let i = 0; i < 3; i++) {
    c = cmpNum(pa[i]!, pb[i]!);
    if (c) return c;
  }
  c = cmpNum(a.post ?? -1, b.post ?? -1);
  if (c) return c;
  c = cmpNum(a.dev ?? Infinity, b.dev ?? Infinity);
  if (c) return c;
  const la = a.local;
  const lb = b.local;
  if (!la || !lb) return la ? 1 : lb ? -1 : 0;
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    const x = la[i];
    const y = lb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (typeof x === 'number' && typeof y === 'number') c = cmpNum(x, y);
    else if (typeof x === 'number') c = 1;
    else if (typeof y === 'number') c = -1;
    else c = x < y ? -1 : x > y ? 1 : 0;
    if (c) return c;
  }
  return 0;
}

/** Legacy (non PEP 440) versions: compared part by part, numbers numerically. */
function legacyParts(version: string): string[] {
  const parts: string[] = [];
  for (const p of version.toLowerCase().match(/\d+|[a-z]+|[^a-z\d.]+/g) ?? []) {
    if (/^\d+$/.test(p)) parts.push(p.padStart(8, '0'));
    else parts.push(`*${p}`);
  }
  while (parts.length && parts[parts.length - 1] === '*final') parts.pop();
  return parts;
}

/** Negative when a < b, positive when a > b, 0 when equal, in CEKit's (packaging's) order. */
export function compareVersions(a: string, b: string): number {
  const pa = parsePep440(a);
  const pb = parsePep440(b);
  if (pa && pb) return cmpPep440(pa, pb);
  if (pa) return 1;
  if (pb) return -1;
  const la = legacyParts(a);
  const lb = legacyParts(b);
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    const x = la[i];
    const y = lb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
