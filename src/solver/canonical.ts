/**
 * Canonical JSON: the one byte form of a value that cache keys are computed from. Object keys are
 * sorted (by UTF-16 code unit, i.e. JavaScript's default sort), there is no whitespace, properties
 * whose value is `undefined` are dropped, and anything JSON cannot represent exactly (functions,
 * symbols, bigints, non-finite numbers, class instances such as Date/Map/Buffer, undefined inside
 * arrays, cycles) is rejected rather than silently coerced.
 */
import { createHash } from 'node:crypto';
import { JettisonError } from '../errors.ts';
import type { Digest } from '../image/types.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

function fail(path: string, what: string): never {
  throw new JettisonError('SOLVER_DEFINITION', `cannot serialise ${path}: ${what}`);
}

function write(value: unknown, path: string, out: string[], seen: Set<object>): void {
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isFinite(value)) fail(path, `non-finite number ${value}`);
      out.push(JSON.stringify(value));
      return;
    case 'object':
      break;
    default:
      fail(path, `a ${typeof value} is not JSON`);
  }
  const obj = value as object;
  if (seen.has(obj)) fail(path, 'cycle');
  seen.add(obj);
  if (Array.isArray(obj)) {
    out.push('[');
    for (let i = 0; i < obj.length; i++) {
      if (i > 0) out.push(',');
      const item: unknown = obj[i];
      if (item === undefined) fail(`${path}[${i}]`, 'undefined in an array');
      write(item, `${path}[${i}]`, out, seen);
    }
    out.push(']');
  } else {
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) fail(path, `a ${proto?.constructor?.name ?? 'non-plain'} object is not JSON`);
    const record = obj as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort();
    out.push('{');
    keys.forEach((k, i) => {
      if (i > 0) out.push(',');
      out.push(JSON.stringify(k), ':');
      write(record[k], `${path}.${k}`, out, seen);
    });
    out.push('}');
  }
  seen.delete(obj);
}

/** The canonical JSON text of a value (see the header). */
export function canonicalJSON(value: unknown): string {
  const out: string[] = [];
  write(value, '$', out, new Set());
  return out.join('');
}

/** sha256 of the canonical JSON text (UTF-8). */
export function canonicalDigest(value: unknown): Digest {
  return `sha256:${createHash('sha256').update(canonicalJSON(value), 'utf8').digest('hex')}`;
}
