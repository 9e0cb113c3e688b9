import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseYaml, type YMap } from '../../../../src/frontend/cekit/yaml.ts';

// YAML 1.1 scalars as PyYAML reads them, and the text Python's str() gives (what CEKit uses).
const scalars: [string, string, string | null][] = [
  ['1.0', 'float', '1.0'],
  ['1.10', 'float', '1.1'],
  ['1', 'int', '1'],
  ['010', 'int', '8'],
  ['0x1F', 'int', '31'],
  ['0b101', 'int', '5'],
  ['1_000', 'int', '1000'],
  ['1:30', 'int', '90'],
  ['12345678901234567890123', 'int', '12345678901234567890123'],
  ['1e3', 'str', '1e3'],
  ['1.5e+3', 'float', '1500.0'],
  ['.inf', 'float', 'inf'],
  ['yes', 'bool', 'True'],
  ['No', 'bool', 'False'],
  ['on', 'bool', 'True'],
  ['OFF', 'bool', 'False'],
  ['y', 'str', 'y'],
  ['n', 'str', 'n'],
  ['~', 'null', null],
  ['null', 'null', null],
  ['', 'null', null],
  ['"1.0"', 'str', '1.0'],
  ["'yes'", 'str', 'yes'],
  ['2024-01-31', 'str', '2024-01-31'],
  ['!!str 1.0', 'str', '1.0'],
];

for (const [src, type, text] of scalars) {
  test(`scalar ${JSON.stringify(src)} is ${type} ${JSON.stringify(text)}`, () => {
    const node = parseYaml(`v: ${src}\n`, 'x.yaml', '/') as YMap;
    const v = node.entries.get('v')!;
    assert.equal(v.kind, 'scalar');
    if (v.kind !== 'scalar') return;
    assert.equal(v.type, type);
    assert.equal(v.text, text);
  });
}

test('positions are 1-based line and column of the value', () => {
  const node = parseYaml('a: 1\nlist:\n  - name: x\n', 'f.yaml', '/') as YMap;
  const list = node.entries.get('list')!;
  assert.equal(list.kind, 'seq');
  if (list.kind !== 'seq') return;
  assert.deepEqual(list.items[0]!.pos, { file: 'f.yaml', line: 3, column: 5 });
  assert.deepEqual(node.keyPos.get('list'), { file: 'f.yaml', line: 2, column: 1 });
});

test('merge keys and aliases resolve', () => {
  const node = parseYaml('base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n', 'f.yaml', '/') as YMap;
  const m = node.entries.get('m') as YMap;
  assert.equal((m.entries.get('x') as { text: string }).text, '1');
  assert.equal((m.entries.get('y') as { text: string }).text, '3');
});

test('syntax errors and duplicate keys carry a position', () => {
  assert.throws(() => parseYaml('a: [1, 2\n', 'bad.yaml', '/'), (e: Error) => /^bad\.yaml:\d+:\d+: invalid YAML/.test(e.message));
  assert.throws(() => parseYaml('a: 1\na: 2\n', 'dup.yaml', '/'), (e: Error) => /^dup\.yaml:2:1: invalid YAML: Map keys must be unique/.test(e.message));
});
