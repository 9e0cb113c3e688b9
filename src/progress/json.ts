/**
 * The json display: one JSON object per line, for programs. Schema (version 1):
 *
 *   every line      { "v": 1, "type": <string>, "time": <ms since epoch>, … }
 *   build.started   {}
 *   vertex.started  { "id": <string>, "name": <string>, "cacheMiss"?: [<reason>…] }
 *   vertex.cached   { "id", "name" }
 *   vertex.log      { "id", "stream": "stdout"|"stderr", "line": <string, no newline> }
 *   vertex.status   { "id", "status": <sub-task>, "current": <bytes>, "total"?: <bytes>, "done"?: true }
 *   vertex.done     { "id", "durationMs": <number> }
 *   vertex.error    { "id", "error": <message>, "canceled": <boolean> }
 *   warning         { "id"?: <string>, "message": <string> }
 *   build.done      { "durationMs", "image"?: { "id": <digest>, "size": <bytes> },
 *                     "stages"?: [{ "name", "size", "jettisoned", "final"? }], "error"?: <message> }
 *
 * `id` identifies a vertex across lines (its cache key); `name` is what the other displays show.
 * Unknown fields may be added in later versions of the same "v"; readers should ignore them.
 */
import type { ProgressDisplay, ProgressEvent, ProgressStream } from './events.ts';

export const JSON_SCHEMA_VERSION = 1;

export class JsonDisplay implements ProgressDisplay {
  private readonly out: ProgressStream;
  constructor(out: ProgressStream) {
    this.out = out;
  }
  event(e: ProgressEvent): void {
    const { type, time, ...rest } = e;
    this.out.write(`${JSON.stringify({ v: JSON_SCHEMA_VERSION, type, time, ...rest })}\n`);
  }
  close(): void {}
}
