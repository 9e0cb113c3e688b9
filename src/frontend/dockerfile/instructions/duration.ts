/**
 * Go's time.ParseDuration ("1m30s", "1.5h", "300ms"), in nanoseconds, with Go's error texts.
 */
import { InstructionFault } from './fault.ts';
import { goQuote } from '../shell/quote.ts';

const UNITS: Record<string, number> = {
  ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9,
};

export function parseGoDuration(text: string): number {
  const bad = (): never => {
    throw new InstructionFault(`time: invalid duration ${goQuote(text)}`);
  };
  let s = text;
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') bad();
  let total = 0;
  while (s !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s) as RegExpExecArray;
    if (m[0] === '' || m[0] === '.' || (m[1] === '' && (m[2] ?? '') === '')) bad();
    s = s.slice(m[0].length);
    const u = /^[^\d.]+/.exec(s);
    if (!u) throw new InstructionFault(`time: missing unit in duration ${goQuote(text)}`);
    const unit = UNITS[u[0]];
    if (unit === undefined) throw new InstructionFault(`time: unknown unit ${goQuote(u[0])} in duration ${goQuote(text)}`);
    s = s.slice(u[0].length);
    total += Number(`${m[1] || '0'}.${m[2] || '0'}`) * unit;
  }
  if (total > 2 ** 63 - 1) bad();
  return Math.round(neg ? -total : total);
}

/** Go's Duration.String for whole values used in messages (1ms, 30s, 1m30s…). */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${ns / 1e3}µs`;
  if (ns < 1e9) return `${ns / 1e6}ms`;
  let rest = ns / 1e9;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  rest -= m * 60;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${+rest.toFixed(9)}s`;
}
