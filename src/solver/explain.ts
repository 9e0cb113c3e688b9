/**
 * Why did a step miss the cache? Compares a vertex with an earlier cache record of the same step
 * component by component (op definition, each input's key, each content digest) and says what
 * changed in words a user recognises: "base image changed", "build arg VERSION changed",
 * "COPY src/ changed: file src/main.c differs". Values of build args and env vars are not shown.
 * Per-file detail, for contents kept as on-disk listings, comes from a comparison of the two listings
 * the caller makes (cache.ts) and passes in.
 */
import { canonicalJSON } from './canonical.ts';
import type { ExecOp, Op } from './ops.ts';
import type { Vertex } from './vertex.ts';

/** The parts of a cache record a comparison needs (see cache.ts for the full record). */
export interface ComparableRecord {
  components: { definition: string; inputs: string[]; contents: { label: string; digest: string }[] };
  op: Op;
  step?: { instruction: string };
  buildArgs: string[];
}

export interface Comparison {
  /** How many components (and fields of the definition) differ: 0 = same key. */
  distance: number;
  reasons: string[];
}

export const MAX_FILES_NAMED = 3;

/** File-level changes of one content item: the first few named, and how many in all. */
export interface FileChanges {
  named: string[];
  total: number;
}

function same(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a === b;
  return canonicalJSON(a) === canonicalJSON(b);
}

function envMap(env: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env) {
    const i = e.indexOf('=');
    m.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  return m;
}

const execFieldWords: Record<string, string> = {
  args: 'command changed',
  cwd: 'working directory changed',
  user: 'user changed',
  network: 'network mode changed',
  security: 'security mode changed',
  mounts: 'mounts changed',
  validExitCodes: 'accepted exit codes changed',
};

function describeOpChange(prev: ComparableRecord, v: Vertex): string[] {
  const before = prev.op;
  const after = v.op;
  const instrBefore = prev.step?.instruction;
  const instrAfter = v.step?.instruction;
  if (instrBefore !== undefined && instrAfter !== undefined && instrBefore !== instrAfter) {
    return [`instruction changed (was "${instrBefore}")`];
  }
  if (before.kind !== after.kind) return [`operation changed from ${before.kind} to ${after.kind}`];
  if (after.kind === 'image' && before.kind === 'image') {
    const out: string[] = [];
    if (before.digest !== after.digest) out.push(`base image changed (${before.digest.slice(0, 19)}… → ${after.digest.slice(0, 19)}…)`);
    if (!same(before.platform, after.platform)) out.push('platform changed');
    return out;
  }
  if (after.kind === 'exec' && before.kind === 'exec') {
    const out: string[] = [];
    const args = new Set([...prev.buildArgs, ...v.buildArgs]);
    const eb = envMap(before.env);
    const ea = envMap(after.env);
    for (const name of [...new Set([...eb.keys(), ...ea.keys()])].sort()) {
      if (eb.get(name) === ea.get(name)) continue;
      out.push(`${args.has(name) ? 'build arg' : 'environment variable'} ${name} changed`);
    }
    for (const field of Object.keys(execFieldWords) as (keyof ExecOp)[]) {
      if (!same(before[field], after[field])) out.push(execFieldWords[field]);
    }
    return out;
  }
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const changed = fields.filter((f) => !same((before as unknown as Record<string, unknown>)[f], (after as unknown as Record<string, unknown>)[f]));
  return changed.length > 0 ? changed.map((f) => `${after.kind} ${f} changed`) : ['definition changed'];
}

/**
 * Compares an earlier record of a step with the vertex now being built. `fileChanges` (by content
 * label) gives the file-level changes of contents kept as listings.
 */
export function compareWithRecord(prev: ComparableRecord, v: Vertex, fileChanges?: ReadonlyMap<string, FileChanges>): Comparison {
  const reasons: string[] = [];
  let distance = 0;
  if (prev.components.definition !== v.components.definition) {
    const changes = describeOpChange(prev, v);
    distance += Math.max(1, changes.length);
    reasons.push(...changes);
  }
  const pi = prev.components.inputs;
  const vi = v.components.inputs;
  if (pi.length !== vi.length) {
    distance++;
    reasons.push(`number of inputs changed (${pi.length} → ${vi.length})`);
  } else {
    for (let i = 0; i < vi.length; i++) {
      if (pi[i] === vi[i]) continue;
      distance++;
      const input = v.inputs[i];
      if (input.op.kind === 'image') {
        if (!reasons.some((r) => r.startsWith('base image changed'))) reasons.push('base image changed');
      } else if (i === 0) reasons.push(`previous step changed: ${input.name}`);
      else reasons.push(`input changed: ${input.name}`);
    }
  }
  const before = new Map(prev.components.contents.map((c) => [c.label, c.digest]));
  const after = new Map(v.contents.map((c) => [c.label, c]));
  for (const label of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const b = before.get(label);
    const a = after.get(label);
    if (b === a?.digest) continue;
    distance++;
    if (b === undefined) reasons.push(`${label} is new`);
    else if (a === undefined) reasons.push(`${label} is no longer read`);
    else {
      const changes = fileChanges?.get(label);
      if (!changes || changes.total === 0) reasons.push(`${label} changed`);
      else {
        const named = changes.named.slice(0, MAX_FILES_NAMED).join(', ');
        const more = changes.total > MAX_FILES_NAMED ? ` (and ${changes.total - MAX_FILES_NAMED} more)` : '';
        reasons.push(`${label} changed: ${named}${more}`);
      }
    }
  }
  return { distance, reasons };
}
