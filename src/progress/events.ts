/**
 * The progress event model: what a build reports while it runs, independent of how it is shown.
 * Times are milliseconds since the epoch (events carry them so displays are deterministic given
 * the events). A vertex is a step of the build (`id` is its cache key or any stable string); it is
 * started (or cached) before it logs, reports sub-task progress (layer pulls and pushes, context
 * transfers), and ends done or in error.
 */

export interface StageSize {
  name: string;
  /** Bytes of the stage's image (its layers, compressed as stored). */
  size: number;
  /** True when the stage is not part of the final image. */
  jettisoned: boolean;
  /** The stage that is the final image. */
  final?: boolean;
  /** Set for a stage of the Dockerfile that was not built: why (e.g. "not needed by target app"). */
  skipped?: string;
}

export type ProgressEvent =
  | { type: 'build.started'; time: number }
  | { type: 'vertex.started'; time: number; id: string; name: string; cacheMiss?: string[] }
  | { type: 'vertex.cached'; time: number; id: string; name: string }
  | { type: 'vertex.log'; time: number; id: string; stream: 'stdout' | 'stderr'; line: string }
  /** Sub-task progress; `id` names the vertex, `status` the sub-task (e.g. "sha256:abc…", "pushing layers"). */
  | { type: 'vertex.status'; time: number; id: string; status: string; current: number; total?: number; done?: boolean }
  | { type: 'vertex.done'; time: number; id: string; durationMs: number }
  | { type: 'vertex.error'; time: number; id: string; error: string; canceled: boolean }
  | { type: 'warning'; time: number; id?: string; message: string }
  | {
      type: 'build.done';
      time: number;
      durationMs: number;
      /** The final image (absent when the build failed). */
      image?: { id: string; size: number };
      stages?: StageSize[];
      error?: string;
    };

export type ProgressEventType = ProgressEvent['type'];

/** What every display implements. */
export interface ProgressDisplay {
  event(e: ProgressEvent): void;
  /** Stops timers and writes anything still pending. Idempotent. */
  close(): void;
}

/** The output a display writes to (process.stderr, a fake TTY in tests…). */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}
