/**
 * Picks a display for `--progress auto|tty|plain|json|quiet`: auto is tty when the stream is a
 * terminal, else plain. tty on a stream that is not a terminal is honoured (the caller asked for
 * it), at 80 columns unless the stream says otherwise. Colour is off when NO_COLOR is set.
 */
import { JettisonError } from '../errors.ts';
import type { ProgressDisplay, ProgressStream } from './events.ts';
import { JsonDisplay } from './json.ts';
import { PlainDisplay } from './plain.ts';
import { QuietDisplay } from './quiet.ts';
import { TtyDisplay, type TtyOptions } from './tty.ts';

export const PROGRESS_MODES = ['auto', 'tty', 'plain', 'json', 'quiet'] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

export function parseProgressMode(value: string): ProgressMode {
  if ((PROGRESS_MODES as readonly string[]).includes(value)) return value as ProgressMode;
  throw new JettisonError('USAGE', `invalid progress mode ${value} (expected ${PROGRESS_MODES.join(', ')})`);
}

export interface DisplayOptions {
  /** Where the display writes (normally stderr). */
  stream: ProgressStream;
  env?: NodeJS.ProcessEnv;
  /** Print cache-miss explanations in plain mode. */
  explainCache?: boolean;
  tty?: Omit<TtyOptions, 'color'>;
}

/** The mode `auto` stands for on this stream. */
export function resolveProgressMode(mode: ProgressMode, stream: ProgressStream): Exclude<ProgressMode, 'auto'> {
  if (mode !== 'auto') return mode;
  return stream.isTTY ? 'tty' : 'plain';
}

export function createDisplay(mode: ProgressMode, options: DisplayOptions): ProgressDisplay {
  const env = options.env ?? process.env;
  switch (resolveProgressMode(mode, options.stream)) {
    case 'tty':
      return new TtyDisplay(options.stream, { ...options.tty, color: env.NO_COLOR === undefined || env.NO_COLOR === '' });
    case 'plain':
      return new PlainDisplay(options.stream, { explainCache: options.explainCache });
    case 'json':
      return new JsonDisplay(options.stream);
    case 'quiet':
      return new QuietDisplay(options.stream);
  }
}
