/** File times: nanoseconds (as tar and stat keep them) to the seconds Node's utimes functions take. */

const NS = 1_000_000_000n;

/**
 * Seconds as Node's utimes wants them. libuv truncates to the microsecond; the half-microsecond
 * offset makes that truncation land exactly on floor(ns / 1000) despite double rounding.
 */
export function utimesSeconds(ns: bigint): number {
  const sec = ns / NS;
  const micros = (ns % NS) / 1000n;
  return Number(sec) + (Number(micros) + 0.5) / 1e6;
}
