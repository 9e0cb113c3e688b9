/**
 * Character classes the Dockerfile parser shares, with Go's meanings (BuildKit is written in Go):
 * `isSpace` is Go's unicode.IsSpace, `trimSpace`/`trimLeftSpace` are strings.TrimSpace/TrimLeftFunc,
 * `isSplitSpace` is the class [\t\v\f\r ] BuildKit splits FROM/EXPOSE/COPY arguments on.
 * All functions work on UTF-16 code units; none of these characters is a surrogate.
 */

/** Go's unicode.IsSpace for one UTF-16 code unit. */
export function isSpace(c: number): boolean {
  if (c <= 0xff) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0;
  return (
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** The class [\t\v\f\r ] (BuildKit's reWhitespace). */
export function isSplitSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c || c === 0x0d;
}

/** Index of the first character of s at or after `from` that is not isSpace (s.length if none). */
export function skipSpace(s: string, from = 0): number {
  let i = from;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  return i;
}

/** Go's strings.TrimLeftFunc(s, unicode.IsSpace). */
export function trimLeftSpace(s: string): string {
  const i = skipSpace(s);
  return i === 0 ? s : s.slice(i);
}

/** Go's strings.TrimSpace. */
export function trimSpace(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isSpace(s.charCodeAt(start))) start++;
  while (end > start && isSpace(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** Splits on runs of [\t\v\f\r ] like Go's regexp Split(s, -1) (empty input gives [""]). */
export function splitOnSpaceRuns(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  while (i < s.length) {
    if (isSplitSpace(s.charCodeAt(i))) {
      out.push(s.slice(start, i));
      while (i < s.length && isSplitSpace(s.charCodeAt(i))) i++;
      start = i;
    } else {
      i++;
    }
  }
  out.push(s.slice(start));
  return out;
}

/** Offset of the first run of [\t\v\f\r ] in s and the offset just after it, or null. */
export function firstSpaceRun(s: string): { start: number; end: number } | null {
  for (let i = 0; i < s.length; i++) {
    if (isSplitSpace(s.charCodeAt(i))) {
      let end = i + 1;
      while (end < s.length && isSplitSpace(s.charCodeAt(end))) end++;
      return { start: i, end };
    }
  }
  return null;
}

/** Go regexp's \s: [\t\n\f\r ]. */
export function isRegexpSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d;
}

export function isAsciiDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

export function isAsciiLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

interface WellFormed {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/** s with lone surrogates replaced by U+FFFD (what Go's UTF-8 decoding would have produced). */
export function wellFormed(s: string): string {
  const w = s as unknown as WellFormed;
  return w.isWellFormed() ? s : w.toWellFormed();
}
