/**
 * Keeps V8's young generation from growing past YOUNG_GENERATION_CAP while a build runs.
 *
 * V8 doubles the young generation whenever as many bytes as it holds have survived scavenges since
 * it last grew, so a long build that allocates steadily (walking, hashing and copying a large
 * context) grows it to its maximum (64 MiB here) however little it keeps alive: peak RSS then grows
 * with the number of files although the live heap does not. The young generation can only be sized
 * at start-up (--max-semi-space-size), but its growth factor can be changed at run time: once it has
 * reached the cap (the size a small build reaches anyway), growth is turned off for the process.
 */
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** Both semi-spaces of the young generation together, in bytes. */
export const YOUNG_GENERATION_CAP = 16 << 20;
const CHECK_MS = 20;

let capped = false;

function reachedCap(): boolean {
  const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  return !young || young.space_size >= YOUNG_GENERATION_CAP;
}

/** Starts watching the young generation; returns a function that stops watching (the cap, once set, stays). */
export function capYoungGeneration(): () => void {
  if (capped) return () => undefined;
  const check = (): boolean => {
    if (capped || !reachedCap()) return capped;
    setFlagsFromString('--semi-space-growth-factor=1');
    capped = true;
    return true;
  };
  if (check()) return () => undefined;
  const timer = setInterval(() => {
    if (check()) clearInterval(timer);
  }, CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
