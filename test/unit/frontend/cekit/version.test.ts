import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareVersions } from '../../../../src/frontend/cekit/version.ts';

// [lower, higher] pairs in packaging's (PEP 440) order, as CEKit picks a module's default version.
const ordered: [string, string][] = [
  ['1.9', '1.10'],
  ['1.0', '1.0.1'],
  ['1.0rc1', '1.0'],
  ['1.0a1', '1.0b1'],
  ['1.0b2', '1.0rc1'],
  ['1.0.dev1', '1.0a1'],
  ['1.0', '1.0.post1'],
  ['1.0', '1.0+local'],
  ['1.0+abc', '1.0+5'],
  ['1!0.1', '2!0.0'],
  ['9', '1!0'],
  ['2.0rc1', '2.0'],
  ['nightly', '0.0.1'],
  ['abc-1', 'abc-2'],
  ['v1.2', '1.3'],
];

for (const [lo, hi] of ordered) {
  test(`${lo} < ${hi}`, () => {
    assert.ok(compareVersions(lo, hi) < 0);
    assert.ok(compareVersions(hi, lo) > 0);
  });
}

const equal: [string, string][] = [
  ['1.0', '1'],
  ['1.0.0', '1'],
  ['1.0RC1', '1.0rc1'],
  ['1.0-1', '1.0.post1'],
  ['v2', '2.0'],
];
for (const [a, b] of equal) {
  test(`${a} == ${b}`, () => assert.equal(compareVersions(a, b), 0));
}
