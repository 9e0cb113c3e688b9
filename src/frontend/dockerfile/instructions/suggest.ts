/**
 * "Did you mean …?" suggestions, as BuildKit's util/suggest adds them to error messages.
 */

function levenshtein(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  let prev = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[y.length];
}

/**
 * The option closest to value, or null when none is close enough (an edit distance of at most
 * half the value's length). An option equal to value ignoring case wins outright.
 */
export function suggest(value: string, options: Iterable<string>, caseSensitive = true): string | null {
  if (value === '') return null;
  const v = caseSensitive ? value : value.toLowerCase();
  let best: string | null = null;
  let bestDist = Infinity;
  for (const option of options) {
    const o = caseSensitive ? option : option.toLowerCase();
    if (o === v) return caseSensitive ? option : o;
    if (o.toLowerCase() === v.toLowerCase()) return option;
    const d = levenshtein(v, o);
    if (d < bestDist) {
      bestDist = d;
      best = caseSensitive ? option : o;
    }
  }
  if (best === null) return null;
  const limit = Math.max(1, Math.floor(Array.from(v).length / 2));
  return bestDist <= limit ? best : null;
}

/** Appends BuildKit's ` (did you mean X?)` when there is a close option. */
export function withSuggestion(message: string, value: string, options: Iterable<string>, caseSensitive = true): string {
  const s = suggest(value, options, caseSensitive);
  return s === null || s === value ? message : `${message} (did you mean ${s}?)`;
}
