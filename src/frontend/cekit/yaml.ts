/**
 * CEKit descriptors as CEKit reads them: YAML 1.1 (PyYAML's rules for booleans, integers and floats),
 * turned into a small tree of nodes that remember where they came from (file, line, column) and the
 * directory relative paths in them are resolved against. Scalars also carry the text Python's str()
 * would give them, because CEKit converts numbers to strings that way (`version: 1.0` is "1.0").
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { SourceError, type SourcePosition } from '../../errors.ts';

export type ScalarType = 'str' | 'int' | 'float' | 'bool' | 'null';

interface NodeBase {
  pos: SourcePosition;
  /** Directory that relative paths written in this node are relative to. */
  base: string;
}
export interface YScalar extends NodeBase {
  kind: 'scalar';
  type: ScalarType;
  value: string | number | boolean | null;
  /** What Python's str() gives for the value (null for null). */
  text: string | null;
}
export interface YMap extends NodeBase {
  kind: 'map';
  entries: Map<string, YNode>;
  keyPos: Map<string, SourcePosition>;
}
export interface YSeq extends NodeBase {
  kind: 'seq';
  items: YNode[];
}
export type YNode = YScalar | YMap | YSeq;

export function cekitError(pos: SourcePosition, detail: string): SourceError {
  return new SourceError('CEKIT', pos, detail);
}

// PyYAML's implicit resolvers (YAML 1.1), which differ from the yaml package's 1.1 schema in details
// (`y`/`n` are strings, `1e3` is a string, an exponent needs a sign).
const PY_BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const PY_INT = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const PY_FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const PY_NULL = /^(?:~|null|Null|NULL|)$/;

/** Python's repr/str of a float. */
export function pythonFloat(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return `${v}.0`;
  const s = String(v);
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

function parseInt11(src: string): bigint {
  let s = src.replace(/_/g, '');
  let sign = 1n;
  if (s.startsWith('-')) {
    sign = -1n;
    s = s.slice(1);
  } else if (s.startsWith('+')) s = s.slice(1);
  if (s.includes(':')) return sign * s.split(':').reduce((acc, part) => acc * 60n + BigInt(part), 0n);
  if (s.startsWith('0b')) return sign * BigInt(s);
  if (s.startsWith('0x')) return sign * BigInt(s);
  if (s.length > 1 && s.startsWith('0')) return sign * BigInt(`0o${s.slice(1)}`);
  return sign * BigInt(s);
}

function parseFloat11(src: string): number {
  const s = src.replace(/_/g, '');
  const lower = s.toLowerCase();
  if (lower.endsWith('.inf')) return s.startsWith('-') ? -Infinity : Infinity;
  if (lower === '.nan') return NaN;
  if (s.includes(':')) {
    const sign = s.startsWith('-') ? -1 : 1;
    const parts = s.replace(/^[-+]/, '').split(':');
    return sign * parts.reduce((acc, part) => acc * 60 + Number(part), 0);
  }
  return Number(s);
}

function scalarFrom(raw: unknown, source: string | undefined, plain: boolean): Pick<YScalar, 'type' | 'value' | 'text'> {
  if (plain && source !== undefined) {
    if (PY_NULL.test(source)) return { type: 'null', value: null, text: null };
    if (PY_BOOL.test(source)) {
      const b = /^(?:yes|true|on)$/i.test(source);
      return { type: 'bool', value: b, text: b ? 'True' : 'False' };
    }
    if (PY_INT.test(source)) {
      const n = parseInt11(source);
      return { type: 'int', value: Number(n), text: n.toString() };
    }
    if (PY_FLOAT.test(source)) {
      const f = parseFloat11(source);
      return { type: 'float', value: f, text: pythonFloat(f) };
    }
    return { type: 'str', value: source, text: source };
  }
  if (raw === null || raw === undefined) return { type: 'null', value: null, text: null };
  if (typeof raw === 'string') return { type: 'str', value: raw, text: raw };
  // Explicitly tagged values (!!int, !!bool…) keep the yaml package's reading.
  if (typeof raw === 'boolean') return { type: 'bool', value: raw, text: raw ? 'True' : 'False' };
  if (typeof raw === 'number') {
    return Number.isInteger(raw) && !/[.eE]/.test(source ?? '')
      ? { type: 'int', value: raw, text: String(raw) }
      : { type: 'float', value: raw, text: pythonFloat(raw) };
  }
  const s = source ?? String(raw);
  return { type: 'str', value: s, text: s };
}

/** Parses YAML text (a file's content or an inline --overrides value) into nodes. */
export function parseYaml(text: string, file: string, base: string): YNode {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { version: '1.1', lineCounter, keepSourceTokens: true, uniqueKeys: true, prettyErrors: false });
  const posAt = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  const firstError = doc.errors[0];
  if (firstError) {
    const msg = firstError.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw cekitError(posAt(firstError.pos[0]), `invalid YAML: ${msg}`);
  }
  if (doc.contents === null) return { kind: 'map', entries: new Map(), keyPos: new Map(), pos: posAt(0), base };
  return convert(doc, doc.contents as Node, posAt, base, new Set());
}

function convert(doc: Document, node: Node, posAt: (o: number) => SourcePosition, base: string, seen: Set<Node>): YNode {
  const pos = posAt(node.range?.[0] ?? 0);
  if (isAlias(node)) {
    const target = node.resolve(doc) as Node | undefined;
    if (!target) throw cekitError(pos, `unknown YAML alias *${node.source}`);
    if (seen.has(target)) throw cekitError(pos, `recursive YAML alias *${node.source}`);
    seen.add(target);
    try {
      return convert(doc, target, posAt, base, seen);
    } finally {
      seen.delete(target);
    }
  }
  if (isScalar(node)) {
    const plain = node.type === 'PLAIN' && !node.tag;
    return { kind: 'scalar', pos, base, ...scalarFrom(node.value, node.source as string | undefined, plain) };
  }
  if (isSeq(node)) {
    return { kind: 'seq', pos, base, items: node.items.map((item) => convert(doc, item as Node, posAt, base, seen)) };
  }
  if (isMap(node)) {
    const entries = new Map<string, YNode>();
    const keyPos = new Map<string, SourcePosition>();
    const merges: YMap[] = [];
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const kpos = keyNode?.range ? posAt(keyNode.range[0]) : pos;
      if (isScalar(keyNode) && (keyNode.source === '<<' || typeof keyNode.value === 'symbol')) {
        // YAML 1.1 merge key: the referenced mapping(s) fill in keys not given here.
        const v = convert(doc, pair.value as Node, posAt, base, seen);
        const list = v.kind === 'seq' ? v.items : [v];
        for (const m of list) {
          if (m.kind !== 'map') throw cekitError(m.pos, 'merge key <<: expected a mapping');
          merges.push(m);
        }
        continue;
      }
      let key: string;
      if (isScalar(keyNode)) key = String(keyNode.source ?? keyNode.value);
      else throw cekitError(kpos, 'expected a plain key');
      const value: YNode = pair.value
        ? convert(doc, pair.value as Node, posAt, base, seen)
        : { kind: 'scalar', type: 'null', value: null, text: null, pos: kpos, base };
      entries.set(key, value);
      keyPos.set(key, kpos);
    }
    for (const m of merges) {
      for (const [k, v] of m.entries) {
        if (!entries.has(k)) {
          entries.set(k, v);
          keyPos.set(k, m.keyPos.get(k) ?? m.pos);
        }
      }
    }
    return { kind: 'map', pos, base, entries, keyPos };
  }
  throw cekitError(pos, 'unsupported YAML node');
}

/** Reads and parses a descriptor file; relative paths inside resolve against its directory. */
export function loadYamlFile(path: string, displayName = path): YNode {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw cekitError({ file: displayName, line: 1, column: 1 }, `cannot read descriptor: ${(err as Error).message}`);
  }
  return parseYaml(text, displayName, dirname(resolve(path)));
}

/** The node at a key of a mapping, undefined when absent or null. */
export function get(map: YMap, key: string): YNode | undefined {
  const v = map.entries.get(key);
  if (!v || (v.kind === 'scalar' && v.type === 'null')) return undefined;
  return v;
}

/** The Python-str text of a scalar at a key (validated beforehand). */
export function str(map: YMap, key: string): string | undefined {
  const v = get(map, key);
  return v && v.kind === 'scalar' ? (v.text ?? undefined) : undefined;
}

export function posOf(map: YMap, key: string): SourcePosition {
  return map.entries.get(key)?.pos ?? map.keyPos.get(key) ?? map.pos;
}
