/**
 * Feeds a display from the solver: turns solve()'s events into progress events (a vertex's id is
 * its cache key, its name the vertex's display name).
 */
import type { SolverEvent } from '../solver/index.ts';
import type { ProgressEvent } from './events.ts';

export function fromSolverEvent(e: SolverEvent): ProgressEvent {
  switch (e.type) {
    case 'vertex.started':
      return { type: 'vertex.started', time: e.time, id: e.vertex.key, name: e.vertex.name, ...(e.cacheMiss ? { cacheMiss: [...e.cacheMiss] } : {}) };
    case 'vertex.cached':
      return { type: 'vertex.cached', time: e.time, id: e.vertex.key, name: e.vertex.name };
    case 'vertex.log':
      return { type: 'vertex.log', time: e.time, id: e.vertex.key, stream: e.stream, line: e.line };
    case 'vertex.status':
      return {
        type: 'vertex.status',
        time: e.time,
        id: e.vertex.key,
        status: e.status.id,
        current: e.status.current,
        ...(e.status.total !== undefined ? { total: e.status.total } : {}),
        ...(e.status.done ? { done: true } : {}),
      };
    case 'vertex.done':
      return { type: 'vertex.done', time: e.time, id: e.vertex.key, durationMs: e.durationMs };
    case 'vertex.error':
      return { type: 'vertex.error', time: e.time, id: e.vertex.key, error: e.error.message, canceled: e.canceled };
    case 'warning':
      return { type: 'warning', time: e.time, ...(e.vertex ? { id: e.vertex.key } : {}), message: e.message };
  }
}

/** An onEvent for solve() that writes to a display. */
export function solverEventsTo(display: { event(e: ProgressEvent): void }): (e: SolverEvent) => void {
  return (e) => display.event(fromSolverEvent(e));
}
