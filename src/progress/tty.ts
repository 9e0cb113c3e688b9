/**
 * The tty display: BuildKit's live view, redrawn in place at most `1000/interval` times a second
 * (10 by default) and on a ticker while steps run:
 *
 *   [+] Building 12.7s (7/9)
 *    => CACHED [build 1/5] FROM docker.io/library/alpine:3.20              0.0s
 *    => [build 2/5] RUN make                                               1.2s
 *    => => # cc -o app main.c                      (last lines of running steps, dimmed)
 *    => => sha256:ab12… 1.20MB / 3.40MB                                    0.4s
 *
 * Lines are fitted to the terminal's width (one column spare, so nothing wraps) and, when the
 * terminal's height is known, the frame keeps to it (finished steps scroll off first). Step names
 * and log lines are stripped of control sequences. When the build ends the frame is drawn in full
 * with "FINISHED", followed by each failed step's log in full (up to TTY_ERROR_LINES), warnings and
 * the size table. Done steps are blue, failed red, canceled yellow (no colour when NO_COLOR is set).
 */
import type { ProgressDisplay, ProgressEvent, ProgressStream } from './events.ts';
import { displayWidth, formatBytes, formatLogOffset, sanitize, truncateToWidth } from './format.ts';
import { errorBlock, sizeTable } from './summary.ts';

export const TTY_ERROR_LINES = 10_000;
const TAIL_LINES = 6;

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface TtyOptions {
  now?: () => number;
  /** Minimum ms between redraws (default 100: 10 fps). */
  interval?: number;
  timers?: Timers;
  color?: boolean;
  /** The word in the header (default "Building"). */
  phase?: string;
}

const ESC = '\x1b[';
const COLORS = { done: `${ESC}34m`, error: `${ESC}31m`, canceled: `${ESC}33m`, dim: `${ESC}2m`, reset: `${ESC}0m` };

const realTimers: Timers = {
  set(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clear(h) {
    clearTimeout(h as NodeJS.Timeout);
  },
};

interface TtyStatus {
  id: string;
  current: number;
  total?: number;
  started: number;
  ended?: number;
}

interface TtyVertex {
  name: string;
  started: number;
  ended?: number;
  cached: boolean;
  error?: string;
  canceled: boolean;
  logs: string[];
  omitted: number;
  statuses: Map<string, TtyStatus>;
}

export class TtyDisplay implements ProgressDisplay {
  private readonly out: ProgressStream;
  private readonly now: () => number;
  private readonly interval: number;
  private readonly timers: Timers;
  private readonly color: boolean;
  private readonly phase: string;
  private readonly vertices = new Map<string, TtyVertex>();
  private start: number | undefined;
  private end: number | undefined;
  private lineCount = 0;
  private lastDraw = -Infinity;
  private timer: unknown;
  private warnings: string[] = [];
  private closed = false;
  /** Frames drawn so far (tests bound it). */
  draws = 0;

  constructor(out: ProgressStream, options: TtyOptions = {}) {
    this.out = out;
    this.now = options.now ?? Date.now;
    this.interval = options.interval ?? 100;
    this.timers = options.timers ?? realTimers;
    this.color = options.color ?? true;
    this.phase = options.phase ?? 'Building';
  }

  event(e: ProgressEvent): void {
    if (this.closed) return;
    this.start ??= e.time;
    switch (e.type) {
      case 'build.started':
        this.start = e.time;
        break;
      case 'vertex.started': {
        const v = this.vertices.get(e.id);
        if (v) {
          v.started = e.time;
          v.ended = undefined;
        } else {
          this.vertices.set(e.id, { name: sanitize(e.name), started: e.time, cached: false, canceled: false, logs: [], omitted: 0, statuses: new Map() });
        }
        break;
      }
      case 'vertex.cached':
        this.vertices.set(e.id, { name: sanitize(e.name), started: e.time, ended: e.time, cached: true, canceled: false, logs: [], omitted: 0, statuses: new Map() });
        break;
      case 'vertex.log': {
        const v = this.vertices.get(e.id);
        if (!v) return;
        v.logs.push(`${formatLogOffset(e.time - v.started)} ${sanitize(e.line)}`);
        if (v.logs.length > TTY_ERROR_LINES) {
          v.logs.shift();
          v.omitted++;
        }
        break;
      }
      case 'vertex.status': {
        const v = this.vertices.get(e.id);
        if (!v) return;
        const s = v.statuses.get(e.status) ?? { id: sanitize(e.status), current: 0, started: e.time };
        s.current = e.current;
        s.total = e.total;
        if (e.done) s.ended = e.time;
        v.statuses.set(e.status, s);
        break;
      }
      case 'vertex.done': {
        const v = this.vertices.get(e.id);
        if (!v) return;
        v.ended = e.time;
        break;
      }
      case 'vertex.error': {
        const v = this.vertices.get(e.id);
        if (!v) return;
        v.ended = e.time;
        v.error = e.error;
        v.canceled = e.canceled;
        break;
      }
      case 'warning':
        this.warnings.push(e.message);
        return;
      case 'build.done':
        this.end = e.time;
        this.finish(e);
        return;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    const wait = this.lastDraw + this.interval - this.now();
    if (wait <= 0) this.draw(false);
    else this.timer = this.timers.set(() => this.tick(), wait);
  }

  private tick(): void {
    this.timer = undefined;
    if (this.closed) return;
    this.draw(false);
  }

  private frame(all: boolean): string[] {
    const width = Math.max(20, this.out.columns || Number(process.env.COLUMNS) || 80);
    const now = this.end ?? this.now();
    const list = [...this.vertices.values()];
    const completed = list.filter((v) => v.ended !== undefined).length;
    const finished = all && completed === list.length && list.length > 0;
    const elapsed = ((now - (this.start ?? now)) / 1000).toFixed(1);
    const header = truncateToWidth(`[+] ${this.phase} ${elapsed}s (${completed}/${list.length})${finished ? ' FINISHED' : ''}`, width - 1);

    const fit = (left: string, timer: string, color?: string): string => {
      const room = width - 1 - displayWidth(timer);
      const name = truncateToWidth(left, room);
      const line = name + ' '.repeat(Math.max(0, room - displayWidth(name))) + timer;
      return color && this.color ? `${color}${line}${COLORS.reset}` : line;
    };
    const secs = (ms: number) => ` ${(ms < 50 ? 0 : ms / 1000).toFixed(1)}s`;

    type Row = { text: string; done: boolean; tail: boolean };
    const rows: Row[] = [];
    for (const v of list) {
      const label = v.error !== undefined ? (v.canceled ? 'CANCELED ' : 'ERROR ') : v.cached ? 'CACHED ' : '';
      const color = v.ended === undefined ? undefined : v.error !== undefined ? (v.canceled ? COLORS.canceled : COLORS.error) : COLORS.done;
      rows.push({ text: fit(` => ${label}${v.name}`, secs((v.ended ?? now) - v.started), color), done: v.ended !== undefined, tail: false });
      for (const s of v.statuses.values()) {
        const amount = s.total ? ` ${formatBytes(s.current)} / ${formatBytes(s.total)}` : s.current ? ` ${formatBytes(s.current)}` : '';
        const scolor = s.ended !== undefined ? COLORS.done : undefined;
        rows.push({ text: fit(` => => ${s.id}${amount}`, secs((s.ended ?? now) - s.started), scolor), done: s.ended !== undefined || v.ended !== undefined, tail: false });
      }
      if (v.ended === undefined && !all) {
        for (const l of v.logs.slice(-TAIL_LINES)) {
          const t = truncateToWidth(` => => # ${l.slice(l.indexOf(' ') + 1)}`, width - 1);
          rows.push({ text: this.color ? `${COLORS.dim}${t}${COLORS.reset}` : t, done: false, tail: true });
        }
      }
    }
    let visible = rows;
    const rowsAvailable = this.out.rows;
    if (!all && rowsAvailable !== undefined) {
      const limit = Math.max(0, rowsAvailable - 2);
      if (visible.length > limit) visible = visible.filter((r) => !r.tail);
      while (visible.length > limit) {
        const i = visible.findIndex((r) => r.done);
        if (i < 0) break;
        visible.splice(i, 1);
      }
      if (visible.length > limit) visible = visible.slice(visible.length - limit);
    }
    return [header, ...visible.map((r) => r.text)];
  }

  private draw(all: boolean): void {
    const lines = this.frame(all);
    let s = '';
    if (this.lineCount > 0) s += `${ESC}${this.lineCount}A`;
    s += `\r${ESC}?25l`;
    for (const l of lines) s += `${l}${ESC}K\n`;
    if (lines.length < this.lineCount) s += `${ESC}J`;
    s += `${ESC}?25h`;
    this.out.write(s);
    this.lineCount = lines.length;
    this.lastDraw = this.now();
    this.draws++;
    if (!all && this.timer === undefined && [...this.vertices.values()].some((v) => v.ended === undefined)) {
      // keep the clock moving while steps run
      this.timer = this.timers.set(() => this.tick(), this.interval);
    }
  }

  private finish(e: Extract<ProgressEvent, { type: 'build.done' }>): void {
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    this.draw(true);
    this.closed = true;
    let text = '';
    for (const v of this.vertices.values()) if (v.error !== undefined && !v.canceled) text += errorBlock(v.name, v.logs, v.omitted);
    for (const w of this.warnings) text += `WARNING: ${sanitize(w)}\n`;
    const table = sizeTable(e.image, e.stages);
    if (table) text += `\n${table}`;
    if (text) this.out.write(text);
  }

  close(): void {
    if (this.closed) return;
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    this.draw(true);
    this.closed = true;
  }
}
