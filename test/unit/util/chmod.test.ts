/**
 * --chmod values (src/util/chmod.ts) as a table, each checked against GNU chmod(1) itself (umask 0, as
 * --chmod has none) on a real file or directory with the same starting mode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chmodChange, parseChmodSpec } from '../../../src/util/chmod.ts';

const cases: { spec: string; start: number; dir?: boolean; want: number }[] = [
  { spec: '755', start: 0o600, want: 0o755 },
  { spec: '0644', start: 0o777, want: 0o644 },
  { spec: '000755', start: 0o600, want: 0o755 },
  { spec: '4755', start: 0o644, want: 0o4755 },
  { spec: 'u+x', start: 0o644, want: 0o744 },
  { spec: '+x', start: 0o644, want: 0o755 },
  { spec: 'a+x', start: 0o600, want: 0o711 },
  { spec: 'go-w', start: 0o666, want: 0o644 },
  { spec: 'u+x,go-w', start: 0o664, want: 0o744 },
  { spec: 'a=rX', start: 0o640, want: 0o444 },
  { spec: 'a=rX', start: 0o740, want: 0o555 },
  { spec: 'a=rX', start: 0o600, dir: true, want: 0o555 },
  { spec: 'a=rX,u+w', start: 0o750, want: 0o755 },
  { spec: 'g=u', start: 0o640, want: 0o660 },
  { spec: 'o=g', start: 0o754, want: 0o755 },
  { spec: 'o=', start: 0o777, want: 0o770 },
  { spec: 'u=rwx,g=rx,o=', start: 0o000, want: 0o750 },
  { spec: 'u+s', start: 0o755, want: 0o4755 },
  { spec: 'g+s', start: 0o755, want: 0o2755 },
  { spec: '+t', start: 0o777, dir: true, want: 0o1777 },
  { spec: 'ug+rw-x', start: 0o755, want: 0o665 },
  { spec: 'u-s', start: 0o4755, want: 0o755 },
  { spec: '=r', start: 0o777, want: 0o444 },
];

test('--chmod: octal and symbolic modes, the same as GNU chmod with umask 0', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jettison-chmod-'));
  try {
    for (const [i, c] of cases.entries()) {
      const change = parseChmodSpec(c.spec);
      assert.ok(change, `${c.spec}: parsed`);
      const got = change(c.start, c.dir ?? false);
      assert.equal(got.toString(8), c.want.toString(8), `${c.spec} on ${c.start.toString(8)}${c.dir ? ' (dir)' : ''}`);
      const path = join(dir, `e${i}`);
      if (c.dir) mkdirSync(path);
      else writeFileSync(path, '');
      chmodSync(path, c.start);
      execFileSync('sh', ['-c', 'umask 0 && chmod "$0" "$1"', c.spec, path]);
      assert.equal((statSync(path).mode & 0o7777).toString(8), c.want.toString(8), `GNU chmod ${c.spec} on ${c.start.toString(8)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--chmod: invalid values are refused', () => {
  for (const spec of ['', '8', '07778', '17777', 'u+q', 'x+r', 'u', 'u+x,', ',u+x', 'rwx', '+ug']) {
    assert.equal(parseChmodSpec(spec), undefined, JSON.stringify(spec));
    assert.throws(() => chmodChange(spec), { message: `invalid chmod parameter: '${spec}'. it should be octal string and between 0 and 07777` });
  }
});
