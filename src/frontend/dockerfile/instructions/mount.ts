/**
 * RUN --mount specs (type=bind|cache|tmpfs|secret|ssh and their keys), parsed and validated with
 * BuildKit's rules, aliases, defaults and messages. Values are expanded through `expand` when one
 * is given; without one (at parse time) a value holding `$` is kept as written and checked later.
 */
import type { CacheSharing, MountSpec, MountType } from './types.ts';
import { InstructionFault } from './fault.ts';
import { withSuggestion } from './suggest.ts';

const MOUNT_TYPES: MountType[] = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const SHARING: CacheSharing[] = ['shared', 'private', 'locked'];
const ALL_KEYS = [
  'type', 'from', 'source', 'target', 'readonly', 'id', 'sharing', 'required', 'size', 'mode', 'uid', 'gid',
  'src', 'dst', 'destination', 'ro', 'rw', 'readwrite', 'env',
];

/** Go's encoding/csv reading one record with default settings. */
function readCsvRecord(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  const col = (n: number): number => n + 1;
  for (;;) {
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new InstructionFault(`failed to parse csv mounts: parse error on line 1, column ${col(i)}: extraneous or missing " in quoted-field`);
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += line[i++];
      }
      if (i < line.length && line[i] !== ',') {
        throw new InstructionFault(`failed to parse csv mounts: parse error on line 1, column ${col(i)}: extraneous or missing " in quoted-field`);
      }
    } else {
      while (i < line.length && line[i] !== ',') {
        if (line[i] === '"') throw new InstructionFault(`failed to parse csv mounts: parse error on line 1, column ${col(i)}: bare " in non-quoted-field`);
        field += line[i++];
      }
    }
    fields.push(field);
    if (i >= line.length) return fields;
    i++; // the comma
  }
}

/** Go's strconv.ParseBool. */
function parseBool(v: string): boolean | null {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return null;
}

/** docker/go-units RAMInBytes: 64m, 1g, 512k, 1024 (binary multipliers). */
function ramInBytes(v: string): number | null {
  const m = /^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(v);
  if (!m) return null;
  const mult: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  return Math.floor(Number(m[1]) * (m[2] ? mult[m[2].toLowerCase()] : 1));
}

function parseUint(v: string, radix: 8 | 10): number | null {
  const re = radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!re.test(v)) return null;
  const n = parseInt(v, radix);
  return n <= 0xffffffff ? n : null;
}

/**
 * Parses one --mount value. With expand = null, values holding `$` are not checked (the planner
 * parses the mount again with the stage's variables).
 */
export function parseMount(spec: string, expand: ((word: string) => string) | null): MountSpec {
  const fields = readCsvRecord(spec);
  const m: MountSpec = {
    type: 'bind', from: null, source: null, target: null, readonly: false, id: null, sharing: null,
    required: false, mode: null, uid: null, gid: null, env: null, size: null,
  };
  let roAuto = true;
  let typeKnown = true;
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (key === 'readonly' || key === 'ro') {
        m.readonly = true;
        roAuto = false;
        continue;
      }
      if (key === 'readwrite' || key === 'rw') {
        m.readonly = false;
        roAuto = false;
        continue;
      }
      if (key === 'required') {
        if (m.type === 'secret' || m.type === 'ssh') {
          m.required = true;
          continue;
        }
        throw new InstructionFault(`unexpected key '${key}' for mount type '${m.type}'`);
      }
      throw new InstructionFault(`invalid field '${field}' must be a key=value pair`);
    }
    let value = field.slice(eq + 1);
    if (key === 'from') {
      if (/\$./su.test(value)) throw new InstructionFault(`'${key}' doesn't support variable expansion, define alias stage instead`);
    } else if (expand) {
      value = expand(value);
    } else if (value.includes('$')) {
      // Checked after expansion; keep the key's effect on later checks neutral.
      if (key === 'type') typeKnown = false;
      if (!ALL_KEYS.includes(key)) throw new InstructionFault(withSuggestion(`unexpected key '${key}' in '${field}'`, key, ALL_KEYS));
      continue;
    }
    switch (key) {
      case 'type': {
        const t = value.toLowerCase();
        if (!MOUNT_TYPES.includes(t as MountType)) {
          throw new InstructionFault(withSuggestion(`unsupported mount type "${value}"`, value, MOUNT_TYPES));
        }
        m.type = t as MountType;
        break;
      }
      case 'from':
        m.from = value;
        break;
      case 'source':
      case 'src':
        m.source = value;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.target = value;
        break;
      case 'readonly':
      case 'ro': {
        const b = parseBool(value);
        if (b === null) throw new InstructionFault(`invalid value for ${key}: ${value}`);
        m.readonly = b;
        roAuto = false;
        break;
      }
      case 'readwrite':
      case 'rw': {
        const b = parseBool(value);
        if (b === null) throw new InstructionFault(`invalid value for ${key}: ${value}`);
        m.readonly = !b;
        roAuto = false;
        break;
      }
      case 'required': {
        if (typeKnown && m.type !== 'secret' && m.type !== 'ssh') {
          throw new InstructionFault(`unexpected key '${key}' for mount type '${m.type}'`);
        }
        const b = parseBool(value);
        if (b === null) throw new InstructionFault(`invalid value for ${key}: ${value}`);
        m.required = b;
        break;
      }
      case 'size': {
        if (typeKnown && m.type !== 'tmpfs') throw new InstructionFault(`unexpected key '${key}' for mount type '${m.type}'`);
        const n = ramInBytes(value);
        if (n === null) throw new InstructionFault(`invalid value for ${key}: ${value}`);
        m.size = n;
        break;
      }
      case 'id':
        m.id = value;
        break;
      case 'sharing': {
        const s = value.toLowerCase();
        if (!SHARING.includes(s as CacheSharing)) throw new InstructionFault(`unsupported sharing value "${value}"`);
        m.sharing = s as CacheSharing;
        break;
      }
      case 'mode': {
        const n = parseUint(value, 8);
        if (n === null) throw new InstructionFault(`invalid value ${value} for mode`);
        m.mode = n;
        break;
      }
      case 'uid': {
        const n = parseUint(value, 10);
        if (n === null) throw new InstructionFault(`invalid value ${value} for uid`);
        m.uid = n;
        break;
      }
      case 'gid': {
        const n = parseUint(value, 10);
        if (n === null) throw new InstructionFault(`invalid value ${value} for gid`);
        m.gid = n;
        break;
      }
      case 'env':
        m.env = value;
        break;
      default:
        throw new InstructionFault(withSuggestion(`unexpected key '${key}' in '${field}'`, key, ALL_KEYS));
    }
  }
  if (!typeKnown) return m;

  const fileInfoAllowed = m.type === 'secret' || m.type === 'ssh' || m.type === 'cache';
  if (m.mode !== null && !fileInfoAllowed) throw new InstructionFault(`mode not allowed for "${m.type}" type mounts`);
  if (m.uid !== null && !fileInfoAllowed) throw new InstructionFault(`uid not allowed for "${m.type}" type mounts`);
  if (m.gid !== null && !fileInfoAllowed) throw new InstructionFault(`gid not allowed for "${m.type}" type mounts`);
  if (m.env !== null && m.type !== 'secret') throw new InstructionFault(`unexpected key 'env' for mount type '${m.type}'`);
  if (roAuto) m.readonly = !(m.type === 'cache' || m.type === 'tmpfs');
  if (m.sharing !== null && m.type !== 'cache') throw new InstructionFault(`invalid cache sharing set for ${m.type} mount`);
  if (m.type === 'cache' && m.sharing === null) m.sharing = 'shared';
  if (m.type === 'secret') {
    if (m.from !== null) throw new InstructionFault('secret mount should not have a from');
    if (m.source === null && m.target === null && m.id === null && m.env === null) {
      throw new InstructionFault('invalid secret mount. one of source, target required');
    }
    if (m.source !== null && m.id !== null) throw new InstructionFault("both source and id can't be set");
    if (m.id === null) m.id = m.source ?? (m.target !== null ? m.target.replace(/\/+$/, '').split('/').pop() || null : null);
    if (m.target === null && m.env === null && m.id !== null) m.target = `/run/secrets/${m.id}`;
  }
  if (m.type === 'ssh') {
    if (m.from !== null) throw new InstructionFault('ssh mount should not have a from');
    if (m.id === null) m.id = 'default';
  }
  if (m.type === 'tmpfs' && m.from !== null) throw new InstructionFault('tmpfs mount should not have a from');
  return m;
}
