/**
 * Parses WWW-Authenticate headers (RFC 7235): one or more challenges, each a scheme followed by
 * comma-separated parameters whose values are tokens or quoted strings, e.g.
 *   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"
 * Scheme names are returned lowercase, parameter names lowercase, values unescaped.
 */

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const headers = Array.isArray(header) ? header : [header];
  return headers.flatMap(parseOne);
}

function parseOne(s: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const n = s.length;
  const skipWs = (): void => {
    while (i < n && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && TOKEN_CHAR.test(s[i])) i++;
    return s.slice(start, i);
  };
  const quoted = (): string => {
    // s[i] is the opening quote
    i++;
    let v = '';
    while (i < n && s[i] !== '"') {
      if (s[i] === '\\' && i + 1 < n) i++;
      v += s[i++];
    }
    i++; // closing quote (or end)
    return v;
  };
  let current: Challenge | undefined;
  while (i < n) {
    skipWs();
    if (s[i] === ',') {
      i++;
      continue;
    }
    const start = i;
    const word = token();
    if (word === '') {
      i++; // junk character: skip it
      continue;
    }
    skipWs();
    if (s[i] === '=' && current) {
      // a parameter of the current challenge (token68 values are not used by registries)
      i++;
      skipWs();
      const value = s[i] === '"' ? quoted() : token();
      current.params[word.toLowerCase()] = value;
      continue;
    }
    if (s[i] === '=' && !current) {
      i = start + word.length + 1;
      continue;
    }
    current = { scheme: word.toLowerCase(), params: {} };
    out.push(current);
  }
  return out;
}
