/**
 * The build benchmarks' helpers: the generated contexts (sizes as the issue asks, deterministic,
 * every file distinct, edits never repeat) and the comparison table (medians, ratio, notes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Comparison } from '../../../bench/support/compare.ts';
import { EDITED, editFile, fileSize, generateContext, relPath } from '../../../bench/support/contexts.ts';

function tree(dir: string, base = ''): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of readdirSync(join(dir, base)).sort()) {
    const rel = base ? `${base}/${name}` : name;
    if (statSync(join(dir, rel)).isDirectory()) for (const [k, v] of tree(dir, rel)) out.set(k, v);
    else out.set(rel, readFileSync(join(dir, rel)));
  }
  return out;
}

const sizes: [files: number, minMB: number, maxMB: number][] = [
  [20_000, 190, 210],
  [2_000, 19, 21],
];
for (const [files, minMB, maxMB] of sizes) {
  test(`a ${files}-file context is ${minMB}–${maxMB} MB`, () => {
    let total = 0;
    for (let i = 0; i < files; i++) total += fileSize(i);
    assert.ok(total >= minMB * 1e6 && total <= maxMB * 1e6, `${total} bytes`);
  });
}

test('generateContext writes the sizes it promises, the same bytes every time, no two files alike', (t) => {
  const a = mkdtempSync(join(tmpdir(), 'bench-ctx-a-'));
  const b = mkdtempSync(join(tmpdir(), 'bench-ctx-b-'));
  t.after(() => {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  });
  const dockerfile = join(a, '..', `bench-ctx-Dockerfile-${process.pid}`);
  writeFileSync(dockerfile, 'FROM busybox\nCOPY . /ctx\n');
  t.after(() => rmSync(dockerfile, { force: true }));
  const files = 250;
  const total = generateContext(a, files, dockerfile);
  generateContext(b, files, dockerfile);
  const ta = tree(a);
  const tb = tree(b);
  assert.equal(ta.size, files + 1);
  assert.equal(ta.get('Dockerfile')?.toString(), 'FROM busybox\nCOPY . /ctx\n');
  let sum = 0;
  const digests = new Set<string>();
  for (let i = 0; i < files; i++) {
    const content = ta.get(relPath(i).replaceAll('\\', '/'));
    assert.ok(content, relPath(i));
    assert.equal(content.length, fileSize(i), relPath(i));
    assert.deepEqual(content, tb.get(relPath(i)));
    digests.add(createHash('sha256').update(content).digest('hex'));
    sum += content.length;
  }
  assert.equal(total, sum);
  assert.equal(digests.size, files);
  // Directories of 100 files.
  assert.equal(readdirSync(join(a, 'd000')).length, 100);
  assert.equal(readdirSync(join(a, 'd002')).length, 50);

  const before = readFileSync(join(a, EDITED));
  editFile(a, 'one');
  const one = readFileSync(join(a, EDITED));
  editFile(a, 'two');
  const two = readFileSync(join(a, EDITED));
  assert.notDeepEqual(one, before);
  assert.notDeepEqual(two, one);
  assert.equal(tree(a).size, files + 1);
});

test('the comparison shows medians, the jettison/BuildKit ratio, notes and peak RSS', () => {
  const c = new Comparison();
  c.addScenario({ id: 's1', title: 'first', goal: 'match or beat BuildKit', referenceS: 0.1 });
  c.addScenario({ id: 's2', title: 'second', goal: 'flat' });
  for (const ms of [300, 100, 200]) c.record('s1', 'jettison', ms, ms * 1024);
  for (const ms of [40, 60, 50, 70]) c.record('s1', 'BuildKit', ms);
  c.note('s1', 'buildah', 'not installed: buildah');
  c.note('s2', 'BuildKit', 'failed: boom');
  c.record('s2', 'jettison', 1500);
  assert.equal(c.median('s1', 'jettison'), 200);
  assert.equal(c.median('s1', 'BuildKit'), 55);
  assert.equal(c.median('s1', 'buildah'), undefined);
  assert.equal(c.maxRssKiB('s1'), 300 * 1024);
  const lines = c.format().split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0], /^scenario\s+jettison\s+BuildKit\s+buildah\s+jettison\/BuildKit\s+goal\s+BuildKit ref\s+jettison peak RSS$/);
  assert.match(lines[1], /^first\s+0\.20 s\s+0\.06 s\s+not installed: buildah\s+3\.64x\s+match or beat BuildKit\s+0\.10 s\s+300 MiB$/);
  assert.match(lines[2], /^second\s+1\.50 s\s+failed: boom\s+—\s+flat$/);
  const rows = c.rows();
  assert.equal(rows[0].results.jettison.runs, 3);
  assert.equal(rows[0].results.buildah.note, 'not installed: buildah');
  assert.equal(rows[1].results.BuildKit.medianMs, undefined);
});
