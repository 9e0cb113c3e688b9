/**
 * The quiet display: nothing while the build runs; at the end only failed steps (their last log
 * lines in BuildKit's "------" frame). The CLI prints the image id itself.
 */
import type { ProgressDisplay, ProgressEvent, ProgressStream } from './events.ts';
import { formatLogOffset } from './format.ts';
import { PLAIN_ERROR_LINES } from './plain.ts';
import { errorBlock } from './summary.ts';

export class QuietDisplay implements ProgressDisplay {
  private readonly out: ProgressStream;
  private readonly vertices = new Map<string, { name: string; started: number; tail: string[]; failed: boolean }>();
  private finished = false;
  constructor(out: ProgressStream) {
    this.out = out;
  }
  event(e: ProgressEvent): void {
    switch (e.type) {
      case 'vertex.started':
        this.vertices.set(e.id, { name: e.name, started: e.time, tail: [], failed: false });
        return;
      case 'vertex.log': {
        const v = this.vertices.get(e.id);
        if (!v) return;
        v.tail.push(`${formatLogOffset(e.time - v.started)} ${e.line}`);
        if (v.tail.length > PLAIN_ERROR_LINES) v.tail.shift();
        return;
      }
      case 'vertex.error': {
        const v = this.vertices.get(e.id);
        if (v && !e.canceled) v.failed = true;
        return;
      }
      case 'build.done':
        if (this.finished) return;
        this.finished = true;
        for (const v of this.vertices.values()) if (v.failed) this.out.write(errorBlock(v.name, v.tail));
        return;
      default:
    }
  }
  close(): void {}
}
