/**
 * The plain display: BuildKit's `--progress=plain` lines, for logs and CI.
 *
 *   #5 [build 2/5] RUN make          a vertex starts (numbered in order of appearance)
 *   #5 0.512 cc -o app main.c        a log line, seconds since the vertex started
 *   #5 sha256:ab… 1.20MB / 3.40MB    sub-task progress (printed at 5% / 5s steps, and when done)
 *   #5 DONE 1.2s | #5 CACHED | #5 ERROR: … | #5 CANCELED
 *
 * Blocks are separated by a blank line; when output of two running vertices interleaves, the one
 * left is closed with "#N ..." and its header is printed again when it resumes. At the end: the
 * last lines of each failed step in a "------" frame, warnings, and the size table.
 */
import type { ProgressDisplay, ProgressEvent, ProgressStream } from './events.ts';
import { formatBytes, formatLogOffset, formatSeconds } from './format.ts';
import { errorBlock, sizeTable } from './summary.ts';

/** Log lines kept per vertex for the error summary. */
export const PLAIN_ERROR_LINES = 10;
const MIN_PROGRESS_DELTA = 0.05;
const MIN_TIME_DELTA_MS = 5000;

interface PlainVertex {
  index: number;
  name: string;
  started: number;
  open: boolean;
  tail: string[];
  error?: string;
  canceled?: boolean;
  statuses: Map<string, { current: number; time: number; started: number }>;
}

export interface PlainOptions {
  /** Print cache-miss explanations ("#5 cache miss: …"): not in BuildKit's output, off by default. */
  explainCache?: boolean;
}

export class PlainDisplay implements ProgressDisplay {
  private readonly out: ProgressStream;
  private readonly options: PlainOptions;
  private readonly vertices = new Map<string, PlainVertex>();
  private current: string | undefined;
  private notFirst = false;
  private warnings: string[] = [];
  private finished = false;

  constructor(out: ProgressStream, options: PlainOptions = {}) {
    this.out = out;
    this.options = options;
  }

  private vertex(id: string, name: string, time: number): PlainVertex {
    let v = this.vertices.get(id);
    if (!v) {
      v = { index: this.vertices.size + 1, name, started: time, open: true, tail: [], statuses: new Map() };
      this.vertices.set(id, v);
    }
    return v;
  }

  private header(id: string, v: PlainVertex): void {
    if (this.current === id) return;
    let text = '';
    if (this.current !== undefined) {
      const old = this.vertices.get(this.current);
      if (old?.open) text += `#${old.index} ...\n`;
    }
    if (this.notFirst) text += '\n';
    this.notFirst = true;
    text += `#${v.index} ${v.name}\n`;
    this.out.write(text);
    this.current = id;
  }

  private line(v: PlainVertex, text: string): void {
    this.out.write(`#${v.index} ${text}\n`);
  }

  event(e: ProgressEvent): void {
    switch (e.type) {
      case 'build.started':
        return;
      case 'vertex.started': {
        const existing = this.vertices.get(e.id);
        const v = this.vertex(e.id, e.name, e.time);
        if (existing) {
          existing.started = e.time;
          existing.open = true;
        }
        this.header(e.id, v);
        if (this.options.explainCache) for (const r of e.cacheMiss ?? []) this.line(v, `cache miss: ${r}`);
        return;
      }
      case 'vertex.cached': {
        const v = this.vertex(e.id, e.name, e.time);
        this.header(e.id, v);
        this.line(v, 'CACHED');
        v.open = false;
        this.current = undefined;
        return;
      }
      case 'vertex.log': {
        const v = this.vertices.get(e.id);
        if (!v) return;
        this.header(e.id, v);
        const text = `${formatLogOffset(e.time - v.started)} ${e.line}`;
        this.line(v, text);
        v.tail.push(text);
        if (v.tail.length > PLAIN_ERROR_LINES) v.tail.shift();
        return;
      }
      case 'vertex.status': {
        const v = this.vertices.get(e.id);
        if (!v) return;
        const last = v.statuses.get(e.status);
        const started = last?.started ?? e.time;
        if (last && !e.done) {
          const progress = e.total ? (e.current - last.current) / e.total : 0;
          if (progress < MIN_PROGRESS_DELTA && e.time - last.time < MIN_TIME_DELTA_MS) return;
        }
        v.statuses.set(e.status, { current: e.current, time: e.time, started });
        this.header(e.id, v);
        let text = e.status;
        if (e.total) text += ` ${formatBytes(e.current)} / ${formatBytes(e.total)}`;
        else if (e.current) text += ` ${formatBytes(e.current)}`;
        if (e.time - started > 10) text += ` ${formatSeconds(e.time - started)}`;
        if (e.done) text += ' done';
        this.line(v, text);
        return;
      }
      case 'vertex.done': {
        const v = this.vertices.get(e.id);
        if (!v) return;
        this.header(e.id, v);
        this.line(v, `DONE ${formatSeconds(e.durationMs)}`);
        v.open = false;
        this.current = undefined;
        return;
      }
      case 'vertex.error': {
        const v = this.vertices.get(e.id);
        if (!v) return;
        this.header(e.id, v);
        this.line(v, e.canceled ? 'CANCELED' : `ERROR: ${e.error}`);
        v.open = false;
        v.error = e.error;
        v.canceled = e.canceled;
        this.current = undefined;
        return;
      }
      case 'warning':
        this.warnings.push(e.message);
        return;
      case 'build.done': {
        if (this.finished) return;
        this.finished = true;
        let text = '';
        for (const v of this.vertices.values()) if (v.error !== undefined && !v.canceled) text += errorBlock(v.name, v.tail);
        for (const w of this.warnings) text += `WARNING: ${w}\n`;
        const table = sizeTable(e.image, e.stages);
        if (table) text += `${this.notFirst || text ? '\n' : ''}${table}`;
        if (text) this.out.write(text);
        return;
      }
    }
  }

  close(): void {}
}
