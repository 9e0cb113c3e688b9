// The tty display against a fake terminal: a small screen emulator (cursor moves, erase, wrap) with
// a fixed width/height, a manual clock and manual timers. No timing: redraws are counted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProgressEvent } from '../../../src/progress/events.ts';
import { displayWidth } from '../../../src/progress/format.ts';
import { TtyDisplay, type Timers } from '../../../src/progress/tty.ts';

/** A terminal screen: applies the sequences the display uses; wraps at `columns` like a real one. */
class FakeTTY {
  isTTY = true;
  columns: number;
  rows?: number;
  screen: string[][] = [[]];
  row = 0;
  col = 0;
  writes = 0;
  raw = '';
  constructor(columns: number, rows?: number) {
    this.columns = columns;
    this.rows = rows;
  }
  private put(ch: string) {
    const w = displayWidth(ch);
    if (this.col + w > this.columns) {
      this.row++;
      this.col = 0;
    }
    while (this.screen.length <= this.row) this.screen.push([]);
    const line = this.screen[this.row];
    while (line.length < this.col) line.push(' ');
    line[this.col] = ch;
    if (w === 2) line[this.col + 1] = '';
    this.col += w;
  }
  write(s: string) {
    this.writes++;
    this.raw += s;
    // eslint-disable-next-line no-control-regex
    const re = /\x1b\[([0-9;?]*)([A-Za-z])|\r|\n|[^\x1b\r\n]/gu;
    for (const m of s.matchAll(re)) {
      const t = m[0];
      if (t === '\r') this.col = 0;
      else if (t === '\n') {
        this.row++;
        this.col = 0;
        while (this.screen.length <= this.row) this.screen.push([]);
      } else if (m[2] !== undefined) {
        const n = Number(m[1] || '1');
        if (m[2] === 'A') this.row = Math.max(0, this.row - n);
        else if (m[2] === 'K') this.screen[this.row] = (this.screen[this.row] ?? []).slice(0, this.col);
        else if (m[2] === 'J') {
          this.screen[this.row] = (this.screen[this.row] ?? []).slice(0, this.col);
          this.screen.length = this.row + 1;
        }
        // m (colours), ?25l/?25h (cursor visibility): no effect on text
      } else this.put(t);
    }
    return true;
  }
  /** Screen lines, trailing blank lines dropped. */
  text(): string[] {
    const lines = this.screen.map((l) => l.join('').trimEnd());
    while (lines.length && lines.at(-1) === '') lines.pop();
    return lines;
  }
}

class ManualTimers implements Timers {
  queue: { fn: () => void; at: number; id: number }[] = [];
  private next = 0;
  clock: { now: number };
  constructor(clock: { now: number }) {
    this.clock = clock;
  }
  set(fn: () => void, ms: number) {
    const id = ++this.next;
    this.queue.push({ fn, at: this.clock.now + ms, id });
    return id;
  }
  clear(h: unknown) {
    this.queue = this.queue.filter((t) => t.id !== h);
  }
  /** Advances the clock by ms, running each timer at its due time (timers set by timers included). */
  advance(ms: number) {
    const target = this.clock.now + ms;
    for (;;) {
      const due = this.queue.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.queue = this.queue.filter((t) => t !== due);
      this.clock.now = Math.max(this.clock.now, due.at);
      due.fn();
    }
    this.clock.now = target;
  }
}

type Untimed<E = ProgressEvent> = E extends unknown ? Omit<E, 'time'> & { time?: number } : never;

function setup(columns: number, rows?: number, color = false) {
  const clock = { now: 0 };
  const timers = new ManualTimers(clock);
  const tty = new FakeTTY(columns, rows);
  const d = new TtyDisplay(tty, { now: () => clock.now, timers, color });
  const send = (e: Untimed) => d.event({ time: clock.now, ...e } as ProgressEvent);
  return { clock, timers, tty, d, send };
}

test('tty: a frame in BuildKit\'s layout, fitted to the width, log tail under the running step', () => {
  const { tty, timers, send } = setup(60);
  send({ type: 'build.started' });
  send({ type: 'vertex.cached', id: 'a', name: '[build 1/3] FROM docker.io/library/alpine:3.20@sha256:0123456789abcdef' });
  send({ type: 'vertex.started', id: 'b', name: '[build 2/3] RUN make' });
  timers.advance(1200);
  send({ type: 'vertex.log', id: 'b', stream: 'stdout', line: 'cc -O2 -o app main.c' });
  timers.advance(100);
  const screen = tty.text();
  assert.deepEqual(screen, [
    '[+] Building 1.3s (1/2)',
    ' => CACHED [build 1/3] FROM docker.io/library/alpine:3 0.0s',
    ' => [build 2/3] RUN make                               1.3s',
    ' => => # cc -O2 -o app main.c',
  ]);
  for (const l of screen) assert.ok(displayWidth(l) <= 59, `fits: ${l}`);
  assert.equal(screen[1].length, 59);
});

test('tty: redraws are throttled (10 fps) however many events arrive', () => {
  const { tty, d, timers, send } = setup(80);
  send({ type: 'vertex.started', id: 'b', name: 'RUN yes' });
  for (let i = 0; i < 1000; i++) send({ type: 'vertex.log', id: 'b', stream: 'stdout', line: `y ${i}` });
  assert.equal(d.draws, 1);
  timers.advance(100);
  assert.equal(d.draws, 2);
  assert.equal(tty.text().at(-1), ' => => # y 999');
  for (let i = 0; i < 1000; i++) {
    send({ type: 'vertex.log', id: 'b', stream: 'stdout', line: `z ${i}` });
    if (i % 100 === 0) timers.advance(10);
  }
  // 100ms of events → at most one more frame, plus the one the ticker owes
  assert.ok(d.draws <= 4, `draws ${d.draws}`);
  timers.advance(100);
  assert.equal(tty.text().at(-1), ' => => # z 999');
  // nothing running: no ticker
  send({ type: 'vertex.done', id: 'b', durationMs: 300 });
  timers.advance(100);
  const settled = d.draws;
  timers.advance(10_000);
  assert.equal(d.draws, settled);
});

test('tty: the clock ticks while a step runs without output', () => {
  const { tty, d, timers, send } = setup(80);
  send({ type: 'vertex.started', id: 'b', name: 'RUN sleep 3' });
  timers.advance(3000);
  assert.match(tty.text()[0], /^\[\+\] Building 3\.0s \(0\/1\)$/);
  assert.match(tty.text()[1], / 3\.0s$/);
  assert.ok(d.draws >= 30 && d.draws <= 31, `draws ${d.draws}`);
});

test('tty: each frame overwrites the last one (a shorter frame leaves nothing behind)', () => {
  const { tty, timers, send } = setup(50);
  send({ type: 'vertex.started', id: 'b', name: 'RUN make' });
  for (let i = 0; i < 6; i++) send({ type: 'vertex.log', id: 'b', stream: 'stdout', line: `line ${i}` });
  timers.advance(100);
  assert.equal(tty.text().length, 1 + 1 + 6);
  send({ type: 'vertex.done', id: 'b', durationMs: 100 });
  timers.advance(100);
  assert.deepEqual(tty.text(), ['[+] Building 0.2s (1/1)', ' => RUN make                                 0.1s']);
});

test('tty: the frame keeps to the terminal height, running steps stay visible', () => {
  const { tty, timers, send } = setup(60, 8);
  for (let i = 0; i < 20; i++) send({ type: 'vertex.cached', id: `c${i}`, name: `[s ${i + 1}/22] COPY f${i} .` });
  send({ type: 'vertex.started', id: 'r', name: '[s 21/22] RUN long' });
  send({ type: 'vertex.log', id: 'r', stream: 'stdout', line: 'working' });
  timers.advance(100);
  const screen = tty.text();
  assert.ok(screen.length <= 7, screen.join('\n'));
  assert.ok(screen.some((l) => l.includes('RUN long')));
});

test('tty: control sequences in names and logs cannot move the cursor; wide characters are measured', () => {
  const { tty, timers, send } = setup(40);
  send({ type: 'vertex.started', id: 'r', name: 'RUN echo \x1b[2J你好你好你好你好你好你好你好你好你好你好' });
  send({ type: 'vertex.log', id: 'r', stream: 'stdout', line: 'evil\x1b[10Aup\rback' });
  timers.advance(100);
  assert.ok(!tty.raw.includes('\x1b[2J'));
  assert.ok(!tty.raw.includes('\x1b[10A'));
  const screen = tty.text();
  assert.equal(screen.length, 3);
  for (const l of screen) assert.ok(displayWidth(l) <= 39, `fits: ${l}`);
  assert.equal(screen[2], ' => => # evilupback');
});

test('tty: at the end, FINISHED, the failed step\'s log in full, the size table', () => {
  const { tty, timers, send, d } = setup(70, 10, true);
  send({ type: 'vertex.started', id: 'bad', name: '[build 3/4] RUN make' });
  for (let i = 1; i <= 40; i++) send({ type: 'vertex.log', id: 'bad', stream: 'stderr', line: `error ${i}` });
  timers.advance(500);
  send({ type: 'vertex.error', id: 'bad', error: 'process "/bin/sh -c make" did not complete successfully: exit code: 2', canceled: false });
  send({ type: 'build.done', durationMs: 500, stages: [{ name: 'build', size: 1_000_000, jettisoned: true }, { name: 'run', size: 2000, jettisoned: false, final: true }], image: { id: 'sha256:x', size: 2000 } });
  const screen = tty.text();
  assert.equal(screen[0], '[+] Building 0.5s (1/1) FINISHED');
  assert.equal(screen[1], ' => ERROR [build 3/4] RUN make                                   0.5s');
  assert.equal(screen[1].length, 69);
  assert.equal(screen[2], '------');
  assert.equal(screen[3], ' > [build 3/4] RUN make:');
  assert.equal(screen[4], '0.000 error 1');
  assert.equal(screen[43], '0.000 error 40');
  assert.equal(screen[44], '------');
  assert.deepEqual(screen.slice(46), ['STAGE          SIZE', 'run (image)  2.00kB', 'build        1.00MB  jettisoned']);
  assert.ok(tty.raw.includes('\x1b[31m'), 'error in red');
  const draws = d.draws;
  timers.advance(1000);
  send({ type: 'vertex.log', id: 'bad', stream: 'stdout', line: 'late' });
  d.close();
  assert.equal(d.draws, draws, 'nothing after the end');
});
