/**
 * The benchmark harness's vocabulary: a bench file (bench/NAME.bench.ts) exports its list of
 * benchmarks (as `benchmarks`, `benches` or the default export); `measure` times one benchmark
 * (warm-up, then samples until both a minimum count and a time budget are reached; fewer samples
 * for runs over a second) and reports median and p95 in milliseconds.
 */

export interface Benchmark<T = unknown> {
  name: string;
  /**
   * A number: the median must be under that many milliseconds. A string is shown as written, and
   * checked when it reads "< N ms" or "< N s" (a throughput goal like "≥ 60 MB/s" is only shown).
   */
  goal?: number | string;
  /** Runs once before timing; its result is passed to every run. */
  setup?: () => T | Promise<T>;
  run: (context: T) => unknown;
  /** Runs once after timing. */
  teardown?: () => unknown;
}

/** The goal as a median limit in milliseconds, when it is one. */
export function goalMs(goal: number | string | undefined): number | undefined {
  if (typeof goal === 'number') return goal;
  const m = goal === undefined ? null : /^\s*<\s*([\d.]+)\s*(ms|s)\b/.exec(goal);
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

/** Declares a benchmark with a typed setup result. */
export function bench<T>(b: Benchmark<T>): Benchmark {
  return b as unknown as Benchmark;
}

export interface Measurement {
  name: string;
  iterations: number;
  median: number;
  p95: number;
  goal?: number | string;
  /** Whether the median met a checkable goal. */
  met?: boolean;
}

function quantile(sorted: number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export async function measure(b: Benchmark, opts: { budgetMs: number; minIterations: number; maxIterations: number }): Promise<Measurement> {
  const context = b.setup ? await b.setup() : undefined;
  const samples: number[] = [];
  try {
    // Warm up: one run, and more while they are short.
    const t0 = performance.now();
    await b.run(context);
    const first = performance.now() - t0;
    const warmUntil = performance.now() + Math.min(500, opts.budgetMs / 4);
    for (let warm = 1; first < 100 && warm < 50 && performance.now() < warmUntil; warm++) await b.run(context);
    const minimum = first > 1000 ? Math.min(3, opts.minIterations) : opts.minIterations;
    const until = performance.now() + opts.budgetMs;
    while (samples.length < minimum || (performance.now() < until && samples.length < opts.maxIterations)) {
      const t = performance.now();
      await b.run(context);
      samples.push(performance.now() - t);
    }
  } finally {
    await b.teardown?.();
  }
  samples.sort((x, y) => x - y);
  const median = quantile(samples, 0.5);
  const m: Measurement = { name: b.name, iterations: samples.length, median, p95: quantile(samples, 0.95) };
  if (b.goal !== undefined) {
    m.goal = b.goal;
    const limit = goalMs(b.goal);
    if (limit !== undefined) m.met = median < limit;
  }
  return m;
}

/** The results as an aligned text table. */
export function formatTable(rows: Measurement[]): string {
  const ms = (n: number): string => (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0));
  const cells = [
    ['benchmark', 'iterations', 'median ms', 'p95 ms', 'goal'],
    ...rows.map((r) => [
      r.name,
      String(r.iterations),
      ms(r.median),
      ms(r.p95),
      [typeof r.goal === 'number' ? `< ${r.goal} ms` : (r.goal ?? ''), r.met === undefined ? '' : r.met ? 'ok' : 'MISSED']
        .filter(Boolean)
        .join(' '),
    ]),
  ];
  const widths = cells[0].map((_, c) => Math.max(...cells.map((row) => row[c].length)));
  return cells
    .map((row) => row.map((cell, c) => (c === 0 || c === 4 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd())
    .join('\n');
}

/**
 * Runs a bench file's list once without the harness (`node bench/NAME.bench.ts`), printing each time.
 * `teardown: 'last'` is for lists whose benchmarks share one fixture that the last one removes.
 */
export async function runOnce(benches: Benchmark[], opts: { teardown: 'each' | 'last'; digits?: number }): Promise<void> {
  for (const b of benches) {
    const ctx = await b.setup?.();
    const t = performance.now();
    await b.run(ctx);
    console.log(`${b.name}: ${((performance.now() - t) / 1000).toFixed(opts.digits ?? 2)} s`);
    if (opts.teardown === 'each') await b.teardown?.();
  }
  if (opts.teardown === 'last') await benches[benches.length - 1]?.teardown?.();
}
