import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { TransferDisplay } from '../../../src/cli/commands/pull.ts';
import type { TransferEvent } from '../../../src/registry/index.ts';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const C = `sha256:${'c'.repeat(64)}`;

const events: TransferEvent[] = [
  { id: 'localhost:5000/x:1', action: 'resolving', current: 0, total: 0 },
  { id: C, action: 'waiting', current: 0, total: 100, kind: 'config' },
  { id: A, action: 'waiting', current: 0, total: 2_000_000, kind: 'layer' },
  { id: B, action: 'waiting', current: 0, total: 10, kind: 'layer' },
  { id: B, action: 'exists', current: 10, total: 10, kind: 'layer' },
  { id: A, action: 'downloading', current: 1_000_000, total: 2_000_000, kind: 'layer' },
  { id: C, action: 'done', current: 100, total: 100, kind: 'config' },
  { id: A, action: 'done', current: 2_000_000, total: 2_000_000, kind: 'layer' },
];

function render(tty: boolean): string {
  const out = Object.assign(new PassThrough(), { isTTY: tty, columns: 100 });
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  const d = new TransferDisplay(
    out,
    (e) => (e.action === 'done' ? 'Pull complete' : e.action === 'exists' ? 'Already exists' : undefined),
    (e) => (e.action === 'downloading' ? 'Downloading' : 'Waiting'),
  );
  for (const e of events) d.onEvent(e);
  d.finish();
  return text;
}

test('not a terminal: one plain line per finished layer, nothing for the config or the reference', () => {
  assert.equal(render(false), 'bbbbbbbbbbbb: Already exists\naaaaaaaaaaaa: Pull complete\n');
});

test('a terminal: a redrawn line per layer with a bar while downloading', () => {
  const text = render(true);
  assert.match(text, /\x1b\[2Kaaaaaaaaaaaa: Downloading \[=+>\s+\] 1\.00MB\/2\.00MB\n/);
  // The last frame: cursor up over both lines, both final.
  const frames = text.split(/\x1b\[2A/);
  assert.equal(frames.at(-1), '\x1b[2Kaaaaaaaaaaaa: Pull complete\n\x1b[2Kbbbbbbbbbbbb: Already exists\n');
  assert.doesNotMatch(text, /cccccccccccc/);
});
