import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

test('the integration tier runs as root with runc available', () => {
  assert.equal(process.getuid?.(), 0, 'integration tests need root');
  const v = execFileSync('runc', ['--version'], { encoding: 'utf8' });
  assert.match(v, /runc version/);
});
