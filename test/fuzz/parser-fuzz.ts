/**
 * Fuzzing the Dockerfile parser: inputs made by mutating real Dockerfiles (BuildKit's conformance
 * files when present, our golden cases), token soups and random bytes, from a seeded generator so
 * any case can be regenerated from (seed, iteration). The property: parseDockerfile returns a
 * well-formed tree or throws a DockerfileError naming FILE:LINE:COL — never another exception, and
 * (checked by the watchdog in ./watchdog.ts) never a hang.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DockerfileError } from '../../src/errors.ts';
import { dockerfileToJSON, formatTree, parseDockerfile, type Dockerfile } from '../../src/frontend/dockerfile/parser/index.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Seeded PRNG (mulberry32): the same seed gives the same cases. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

/** Every Dockerfile the fuzzer starts from: our golden cases and BuildKit's conformance files. */
export function loadCorpus(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name === 'Dockerfile') out.push(readFileSync(p));
    }
  };
  walk(join(REPO, 'test', 'cases', 'parser'));
  walk(resolve(REPO, '..', 'shared', 'conformance', 'buildkit'));
  if (out.length === 0) out.push(Buffer.from('FROM alpine\nRUN echo hi\n'));
  return out;
}

const KEYWORDS = [
  'FROM', 'RUN', 'CMD', 'ENTRYPOINT', 'SHELL', 'COPY', 'ADD', 'VOLUME', 'EXPOSE', 'USER', 'WORKDIR',
  'STOPSIGNAL', 'MAINTAINER', 'ENV', 'LABEL', 'ARG', 'HEALTHCHECK', 'ONBUILD', 'onbuild run', 'FOO',
];

const TOKENS = [
  '\\', '`', '\\\n', '`\n', '\\ \t\n', '\n', '\r\n', '\r', ' ', '\t', '\v', '#', '# escape=`\n', '# escape=\\\n',
  '# syntax=docker/dockerfile:1\n', '# check=skip=all\n', '#!/bin/sh\n', '<<', '<<EOF', '<<-EOF', "<<'EOF'", '<<"EOF"',
  '3<<EOF', '<< EOF', '<<- EOF', 'EOF\n', '\tEOF\n', '[', ']', '["a", "b"]', '[1]', '[[]]', '[1e999]', '["\\ud800"]',
  '"', "'", '=', 'a=b', '--', '--from=x', '--mount=type=cache,target=/x', '$', '${', '}', '${x:-y}', '${x/y/z}',
  '\u00a0', '\u0085', '\ufeff', '\u2028', '\x00', 'é', '😀', '\\u0000', '{', 'NONE', 'CMD', ' AS ', '\n\n',
];

/** One input; `kind` says how it was made. */
export interface FuzzCase {
  kind: string;
  input: string | Uint8Array;
}

function mutate(rng: Rng, base: Uint8Array, corpus: Uint8Array[]): Uint8Array {
  let b = Buffer.from(base);
  const rounds = 1 + rng.int(8);
  for (let r = 0; r < rounds; r++) {
    const at = rng.int(b.length + 1);
    switch (rng.int(8)) {
      case 0:
        if (b.length > 0) b[rng.int(b.length)] ^= 1 << rng.int(8);
        break;
      case 1:
      case 2:
        b = Buffer.concat([b.subarray(0, at), Buffer.from(rng.pick(rng.next() < 0.3 ? KEYWORDS : TOKENS)), b.subarray(at)]);
        break;
      case 3:
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.int(16)))]);
        break;
      case 4: {
        const len = rng.int(32);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
        break;
      }
      case 5: {
        const other = rng.pick(corpus);
        const from = rng.int(other.length + 1);
        b = Buffer.concat([b.subarray(0, at), other.subarray(from, from + rng.int(200)), b.subarray(at)]);
        break;
      }
      case 6: {
        const bytes = Buffer.alloc(1 + rng.int(8));
        for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
        b = Buffer.concat([b.subarray(0, at), bytes, b.subarray(at)]);
        break;
      }
      default:
        b = b.subarray(0, at);
    }
  }
  return b;
}

function tokenSoup(rng: Rng): string {
  let s = '';
  const n = rng.int(60);
  for (let i = 0; i < n; i++) s += rng.next() < 0.25 ? `${rng.pick(KEYWORDS)} ` : rng.pick(TOKENS);
  return s;
}

function randomBytes(rng: Rng): Uint8Array {
  const b = Buffer.alloc(rng.int(512));
  const specials = Buffer.from('\\`\n\r\t #<-\'"[]=$`{}');
  for (let i = 0; i < b.length; i++) b[i] = rng.next() < 0.5 ? specials[rng.int(specials.length)] : rng.int(256);
  return b;
}

/** Inputs built to expose super-linear behaviour: long lines, long continuations, many markers. */
function large(rng: Rng): string {
  const n = 1000 + rng.int(20000);
  switch (rng.int(8)) {
    case 0:
      return `FROM a\nRUN ${'x'.repeat(65530 + rng.int(10))}\n`;
    case 1:
      return `FROM a\nRUN ${'a \\\n'.repeat(n)}b\n`;
    case 2:
      return `FROM a\nRUN ${'<<EOF '.repeat(n / 10)}\n${'EOF\n'.repeat(n / 10)}`;
    case 3:
      return `FROM a\nENV ${'a="b c" '.repeat(n / 4)}\n`;
    case 4:
      return `# escape=${' '.repeat(n)}\nFROM a\n`;
    case 5:
      return `FROM a\nRUN ${'['.repeat(n)}${']'.repeat(n)}\n`;
    case 6:
      return `FROM a\nRUN a${'\\'.repeat(n)}${' '.repeat(n)}\n`;
    default:
      return `FROM a\n${'\n'.repeat(n)}RUN ${'$'.repeat(n)}{${'"'.repeat(n)}\n`;
  }
}

/** The case for iteration `i` of a run with `seed` (deterministic). */
export function* cases(seed: number, corpus: Uint8Array[]): Generator<FuzzCase> {
  const rng = new Rng(seed);
  for (;;) {
    const roll = rng.next();
    let c: FuzzCase;
    if (roll < 0.7) c = { kind: 'mutated', input: mutate(rng, rng.pick(corpus), corpus) };
    else if (roll < 0.85) c = { kind: 'token soup', input: tokenSoup(rng) };
    else if (roll < 0.98) c = { kind: 'random bytes', input: randomBytes(rng) };
    else c = { kind: 'large', input: large(rng) };
    if (typeof c.input !== 'string' && rng.next() < 0.2) {
      // A JavaScript string can hold what no UTF-8 file can: lone surrogates.
      const s = Buffer.from(c.input).toString('utf8');
      const at = rng.int(s.length + 1);
      c = { kind: `${c.kind} (string)`, input: s.slice(0, at) + rng.pick(['\ud800', '\udfff', '\ud83d']) + s.slice(at) };
    }
    yield c;
  }
}

/** Regenerates the case of one iteration (for reports and reproduction). */
export function caseAt(seed: number, iteration: number, corpus: Uint8Array[]): FuzzCase {
  let k = 0;
  for (const c of cases(seed, corpus)) if (k++ === iteration) return c;
  throw new Error('unreachable');
}

function checkTree(df: Dockerfile): string | null {
  if (df.instructions.length === 0) return 'no instructions and no error';
  let prevEnd = 0;
  for (const inst of df.instructions) {
    if (inst.keyword !== inst.keyword.toLowerCase()) return `keyword not lower-cased: ${inst.keyword}`;
    if (!(inst.range.start >= 1 && inst.range.start <= inst.range.end)) return `bad range ${JSON.stringify(inst.range)}`;
    if (inst.range.start <= prevEnd) return `overlapping ranges at line ${inst.range.start}`;
    if (!(inst.column >= 1)) return `bad column ${inst.column}`;
    prevEnd = inst.range.end;
  }
  const tree = formatTree(df);
  if (tree.split('\n').length !== df.instructions.length + 1) return 'tree does not have one line per instruction';
  if (JSON.stringify(JSON.parse(dockerfileToJSON(df))) !== JSON.stringify(df)) return 'JSON form does not round-trip';
  return null;
}

/** Runs one input through `parse` (the parser unless a test passes a broken one); returns what is wrong, or null. */
export function checkOne(input: string | Uint8Array, parse: (input: string | Uint8Array) => Dockerfile = parseDockerfile): string | null {
  let df: Dockerfile;
  try {
    df = parse(input);
  } catch (err) {
    if (!(err instanceof DockerfileError)) return `threw ${err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : String(err)}`;
    if (!/^Dockerfile:\d+:\d+: \S/.test(err.message)) return `error message without FILE:LINE:COL: ${err.message}`;
    if (err.position.line < 1 || err.position.column < 1) return `bad error position: ${err.message}`;
    return null;
  }
  try {
    return checkTree(df);
  } catch (err) {
    return `printing the tree threw ${err instanceof Error ? err.stack : String(err)}`;
  }
}

export interface FuzzFailure {
  iteration: number;
  kind: string;
  problem: string;
}

export interface FuzzOptions {
  seed: number;
  /** Stop after this many iterations… */
  iterations?: number;
  /** …or at this time (Date.now()). */
  deadline?: number;
  /** [0] = iteration being run, [1] = iterations done (read by the watchdog). */
  progress?: Int32Array;
  /** Stop at the first failure. */
  stopOnFailure?: boolean;
  /** Test hook: spin forever at this iteration, to show the watchdog catches hangs. */
  simulateHangAt?: number;
}

export interface FuzzResult {
  iterations: number;
  failures: FuzzFailure[];
  slowest: { iteration: number; ms: number; kind: string };
}

export function runFuzz(opts: FuzzOptions, corpus: Uint8Array[] = loadCorpus()): FuzzResult {
  const failures: FuzzFailure[] = [];
  const slowest = { iteration: -1, ms: 0, kind: '' };
  let i = 0;
  for (const c of cases(opts.seed, corpus)) {
    if (opts.iterations !== undefined && i >= opts.iterations) break;
    if (opts.deadline !== undefined && Date.now() >= opts.deadline) break;
    if (opts.progress) Atomics.store(opts.progress, 0, i);
    const t0 = performance.now();
    if (opts.simulateHangAt === i) for (;;);
    const problem = checkOne(c.input);
    const ms = performance.now() - t0;
    if (ms > slowest.ms) Object.assign(slowest, { iteration: i, ms, kind: c.kind });
    if (problem !== null) {
      failures.push({ iteration: i, kind: c.kind, problem });
      if (opts.stopOnFailure) break;
    }
    i++;
    if (opts.progress) Atomics.store(opts.progress, 1, i);
  }
  return { iterations: i, failures, slowest };
}
