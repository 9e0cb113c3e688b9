// Golden tests of the plain, json and quiet displays: each case in test/cases/progress/<case>/ has
// events.jsonl (the input) and the expected output of each display (plain.txt, json.jsonl,
// quiet.txt; plain-explain.txt with cache-miss explanations on).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { expectBaseline, listCases } from '../../support/golden.ts';
import { createDisplay, parseProgressMode, resolveProgressMode, type ProgressMode } from '../../../src/progress/display.ts';
import type { ProgressEvent } from '../../../src/progress/events.ts';
import { formatBytes, formatLogOffset, formatSeconds } from '../../../src/progress/format.ts';
import { JsonDisplay } from '../../../src/progress/json.ts';
import { PlainDisplay } from '../../../src/progress/plain.ts';
import { QuietDisplay } from '../../../src/progress/quiet.ts';
import { TtyDisplay } from '../../../src/progress/tty.ts';

class Capture {
  text = '';
  isTTY?: boolean;
  columns?: number;
  constructor(isTTY?: boolean) {
    this.isTTY = isTTY;
  }
  write(s: string) {
    this.text += s;
    return true;
  }
}

function readEvents(dir: string): ProgressEvent[] {
  return readFileSync(join(dir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ProgressEvent);
}

const cases = listCases('progress');

test('the progress suite has cases', () => {
  assert.ok(cases.length >= 4);
});

for (const c of cases) {
  const events = readEvents(c.dir);
  const outputs: [string, (out: Capture) => { event(e: ProgressEvent): void; close(): void }][] = [
    ['plain.txt', (o) => new PlainDisplay(o)],
    ['plain-explain.txt', (o) => new PlainDisplay(o, { explainCache: true })],
    ['json.jsonl', (o) => new JsonDisplay(o)],
    ['quiet.txt', (o) => new QuietDisplay(o)],
  ];
  for (const [file, make] of outputs) {
    test(`progress/${c.name}: ${file}`, () => {
      const out = new Capture();
      const d = make(out);
      for (const e of events) d.event(e);
      d.close();
      expectBaseline(join(c.dir, file), out.text);
    });
  }
  test(`progress/${c.name}: every json line parses back to its event`, () => {
    const out = new Capture();
    const d = new JsonDisplay(out);
    for (const e of events) d.event(e);
    const lines = out.text.trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, events.length);
    lines.forEach((l, i) => {
      assert.equal(l.v, 1);
      const { v: _v, ...rest } = l;
      assert.deepEqual(rest, events[i]);
    });
  });
}

test('formatting: sizes, durations, log offsets in BuildKit units', () => {
  const table: [number, string][] = [[0, '0B'], [37, '37B'], [999, '999B'], [1000, '1.00kB'], [2345, '2.35kB'], [3_400_000, '3.40MB'], [845_201_234, '845.20MB'], [2e12, '2.00TB']];
  for (const [n, s] of table) assert.equal(formatBytes(n), s, String(n));
  assert.equal(formatSeconds(1234), '1.2s');
  assert.equal(formatSeconds(0), '0.0s');
  assert.equal(formatLogOffset(512), '0.512');
  assert.equal(formatLogOffset(12_345), '12.35');
  assert.equal(formatLogOffset(123_456), '123.5');
});

test('modes: auto is tty on a terminal and plain elsewhere; bad modes are refused', () => {
  assert.equal(resolveProgressMode('auto', new Capture(true)), 'tty');
  assert.equal(resolveProgressMode('auto', new Capture(false)), 'plain');
  assert.equal(resolveProgressMode('plain', new Capture(true)), 'plain');
  const kinds: [ProgressMode, boolean, unknown][] = [
    ['auto', true, TtyDisplay],
    ['auto', false, PlainDisplay],
    ['tty', false, TtyDisplay],
    ['json', true, JsonDisplay],
    ['quiet', true, QuietDisplay],
  ];
  for (const [mode, tty, cls] of kinds) {
    const d = createDisplay(mode, { stream: new Capture(tty), env: {} });
    assert.ok(d instanceof (cls as new (...a: never[]) => unknown), `${mode} on ${tty ? 'a tty' : 'a pipe'}`);
    d.close();
  }
  assert.equal(parseProgressMode('json'), 'json');
  assert.throws(() => parseProgressMode('fancy'), /invalid progress mode fancy/);
});
