/**
 * Progress: one event model (events.ts) and its displays: tty (live, BuildKit-style), plain
 * (BuildKit's plain lines), json (one event a line), quiet (errors only). createDisplay() picks
 * one for a `--progress` mode; solverEventsTo() connects solve() to a display.
 */
export type { ProgressEvent, ProgressEventType, ProgressDisplay, ProgressStream, StageSize } from './events.ts';
export { createDisplay, parseProgressMode, resolveProgressMode, PROGRESS_MODES, type ProgressMode, type DisplayOptions } from './display.ts';
export { PlainDisplay, type PlainOptions } from './plain.ts';
export { TtyDisplay, type TtyOptions, type Timers } from './tty.ts';
export { JsonDisplay, JSON_SCHEMA_VERSION } from './json.ts';
export { QuietDisplay } from './quiet.ts';
export { fromSolverEvent, solverEventsTo } from './from-solver.ts';
export { formatBytes, formatSeconds } from './format.ts';
export { sizeTable, errorBlock } from './summary.ts';
