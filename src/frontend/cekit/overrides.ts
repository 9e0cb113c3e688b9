/**
 * CEKit overrides: merging an overrides descriptor into an image descriptor, node by node, keeping
 * each value's source position. Rules (CEKit's): scalars and plain lists replace; lists of mappings
 * merge item by item on `name` (ports on `value`); `null` removes a key; package lists
 * (install/remove/reinstall) append; module install entries replace in place by name; an artifact
 * override replaces the artifact but keeps its `dest`, `target` and `description` unless given.
 */
import { posix } from 'node:path';
import type { YMap, YNode, YSeq } from './yaml.ts';

const APPEND_LISTS = new Set(['packages.install', 'packages.remove', 'packages.reinstall']);

function isNull(n: YNode | undefined): boolean {
  return n !== undefined && n.kind === 'scalar' && n.type === 'null';
}

function scalarText(n: YNode | undefined): string | undefined {
  return n && n.kind === 'scalar' && n.text !== null ? n.text : undefined;
}

/** The identity of a list item for merging, with CEKit's defaults for missing names. */
export function itemKey(listPath: string, item: YNode): string | undefined {
  if (item.kind !== 'map') return undefined;
  if (listPath === 'ports') return scalarText(item.entries.get('value'));
  const name = scalarText(item.entries.get('name'));
  if (name !== undefined) return name;
  if (listPath === 'volumes') {
    const p = scalarText(item.entries.get('path'));
    return p === undefined ? undefined : posix.basename(p);
  }
  if (listPath === 'artifacts' || listPath === 'modules.repositories') return defaultResourceName(item);
  return undefined;
}

/** CEKit's default `name` of an artifact or module repository that has none. */
export function defaultResourceName(item: YMap): string | undefined {
  const path = scalarText(item.entries.get('path'));
  if (path !== undefined) return posix.basename(path.replace(/\/+$/, ''));
  const url = scalarText(item.entries.get('url'));
  if (url !== undefined) return posix.basename(url.trim());
  const git = item.entries.get('git');
  if (git?.kind === 'map') {
    const gurl = scalarText(git.entries.get('url'));
    if (gurl !== undefined) return posix.basename(gurl.replace(/\/+$/, '')).split('.', 1)[0];
  }
  return undefined;
}

function mergeMaps(base: YMap, over: YMap, path: string): YMap {
  const entries = new Map(base.entries);
  const keyPos = new Map(base.keyPos);
  for (const [key, value] of over.entries) {
    const sub = path ? `${path}.${key}` : key;
    if (isNull(value)) {
      // `key: ~` removes the key; manager_flags keeps an explicit null (no flags at all).
      if (sub === 'packages.manager_flags') {
        entries.set(key, value);
        keyPos.set(key, over.keyPos.get(key) ?? over.pos);
      } else {
        entries.delete(key);
        keyPos.delete(key);
      }
      continue;
    }
    const old = entries.get(key);
    entries.set(key, old && !isNull(old) ? mergeNode(old, value, sub) : value);
    keyPos.set(key, over.keyPos.get(key) ?? over.pos);
  }
  return { ...base, entries, keyPos };
}

function mergeLists(base: YSeq, over: YSeq, path: string): YSeq {
  if (APPEND_LISTS.has(path)) {
    const items = [...base.items];
    const seen = new Set(items.map((i) => scalarText(i)));
    for (const item of over.items) {
      const t = scalarText(item);
      if (t === undefined || !seen.has(t)) {
        items.push(item);
        seen.add(t);
      }
    }
    return { ...base, items };
  }
  const keyed = over.items.length > 0 && over.items.every((i) => itemKey(path, i) !== undefined);
  const baseKeyed = base.items.every((i) => itemKey(path, i) !== undefined);
  if (!keyed || !baseKeyed) return over;
  const items = [...base.items];
  const index = new Map<string, number>();
  items.forEach((item, i) => index.set(itemKey(path, item)!, i));
  for (const item of over.items) {
    const key = itemKey(path, item)!;
    const at = index.get(key);
    if (at === undefined) {
      index.set(key, items.length);
      items.push(item);
    } else if (path === 'modules.install') {
      items[at] = item;
    } else if (path === 'artifacts') {
      items[at] = mergeArtifact(items[at] as YMap, item as YMap);
    } else {
      items[at] = mergeMaps(items[at] as YMap, item as YMap, `${path}[]`);
    }
  }
  return { ...base, items };
}

function mergeArtifact(base: YMap, over: YMap): YMap {
  const entries = new Map<string, YNode>();
  const keyPos = new Map(over.keyPos);
  for (const [k, v] of over.entries) if (!isNull(v)) entries.set(k, v);
  for (const key of ['dest', 'target', 'description']) {
    if (!entries.has(key) && base.entries.has(key) && !over.entries.has(key)) {
      entries.set(key, base.entries.get(key)!);
      keyPos.set(key, base.keyPos.get(key) ?? base.pos);
    }
  }
  if (!entries.has('name')) {
    const name = base.entries.get('name');
    if (name) entries.set('name', name);
  }
  return { ...over, entries, keyPos };
}

function mergeNode(base: YNode, over: YNode, path: string): YNode {
  if (base.kind === 'map' && over.kind === 'map') return mergeMaps(base, over, path);
  if (base.kind === 'seq' && over.kind === 'seq') return mergeLists(base, over, path);
  return over;
}

/** Applies overrides to an image descriptor, in order (the last wins). Does not modify its inputs. */
export function applyOverrides(image: YMap, overrides: YMap[]): YMap {
  let result = image;
  for (const o of overrides) result = mergeMaps(result, o, '');
  return result;
}
