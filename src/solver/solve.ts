/**
 * The scheduler: solves a DAG of vertices.
 *
 * 1. Resolve (top-down from the targets): a vertex whose key the cache has is "cached" and its
 *    inputs are not needed through it; a vertex that misses must run, so its inputs are needed.
 *    Vertices never reached this way are reported as not needed. `noCache` skips every lookup and
 *    `noCacheFilter` the lookups of the listed stages and of every vertex depending on them (a
 *    re-run vertex may produce a different result, so what was built on it cannot be reused);
 *    results are still recorded.
 * 2. Run: vertices that must run are executed dependencies first, at most `jobs` at a time,
 *    independent branches in parallel, each key once however many paths reach it. On the first
 *    failure nothing new starts; running vertices are aborted through their AbortSignal
 *    (onFailure 'abort', BuildKit's behaviour) or left to finish ('wait'). An abort of
 *    `options.signal` cancels the same way.
 *
 * The executor does the work (the worker, in a real build); results are opaque to the scheduler.
 */
import { availableParallelism } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { SolveError } from '../errors.ts';
import type { Digest } from '../image/types.ts';
import { topologicalOrder, type Vertex } from './vertex.ts';

export type LogStream = 'stdout' | 'stderr';

/** Progress of a sub-task of a vertex (a layer pull, a context transfer…). */
export interface VertexStatus {
  /** Stable id of the sub-task, e.g. "sha256:abcd… " or "transferring context". */
  id: string;
  current: number;
  total?: number;
  done?: boolean;
}

export type SolverEvent =
  | { type: 'vertex.started'; vertex: Vertex; time: number; cacheMiss?: string[] }
  | { type: 'vertex.cached'; vertex: Vertex; time: number }
  | { type: 'vertex.log'; vertex: Vertex; time: number; stream: LogStream; line: string }
  | { type: 'vertex.status'; vertex: Vertex; time: number; status: VertexStatus }
  | { type: 'vertex.done'; vertex: Vertex; time: number; durationMs: number }
  | { type: 'vertex.error'; vertex: Vertex; time: number; durationMs: number; error: Error; canceled: boolean }
  | { type: 'warning'; vertex?: Vertex; time: number; message: string };

export interface ExecuteContext<R> {
  key: Digest;
  /** Results of the vertex's inputs, in input order. */
  inputs: R[];
  /** Aborted when the build fails elsewhere (onFailure 'abort') or is canceled. */
  signal: AbortSignal;
  /** Output of the step; split into lines for the events (a partial last line is flushed at the end). */
  log(stream: LogStream, data: string | Uint8Array): void;
  status(status: VertexStatus): void;
}

export interface SolverCache<R> {
  /** The recorded result of a key, or undefined on a miss. */
  lookup(vertex: Vertex): Promise<R | undefined>;
  record(vertex: Vertex, result: R): Promise<void>;
  /** Why the vertex missed (called on misses only, never with noCache). */
  explain?(vertex: Vertex): Promise<string[]>;
  /**
   * Called once when the solve ends (done, failed or canceled) with every vertex of the graph:
   * housekeeping that must spare what those vertices use. A failure is reported as a warning.
   */
  finish?(vertices: readonly Vertex[]): Promise<void>;
}

export interface SolveOptions<R> {
  execute(vertex: Vertex, ctx: ExecuteContext<R>): Promise<R>;
  /** Parallel executions; default the number of CPUs, at least 2. */
  jobs?: number;
  cache?: SolverCache<R>;
  /** Ignore cache lookups (results are still recorded). */
  noCache?: boolean;
  /** Ignore lookups for these stages (StepInfo.stage) and everything depending on them. */
  noCacheFilter?: string[];
  onFailure?: 'abort' | 'wait';
  /**
   * BuildKit's view of a cached build: also look up the vertices that a cached dependent made
   * unnecessary (they count as cached when the cache has them, with their results in the report), and
   * emit every vertex.cached event after resolving, in graph order (inputs first). Default false.
   */
  reportCachedChain?: boolean;
  signal?: AbortSignal;
  onEvent?(event: SolverEvent): void;
  /** Clock for event times (ms); default Date.now. */
  now?(): number;
}

export interface SolveStats {
  /** Distinct keys reachable from the targets. */
  vertices: number;
  ran: number;
  cached: number;
  notNeeded: number;
  /** The most executions that were running at the same time. */
  maxConcurrency: number;
}

export interface SolveReport<R> {
  /** Results by key, for every cached or executed vertex. */
  results: Map<Digest, R>;
  /** The targets' results, in the order given. */
  targets: R[];
  ran: Vertex[];
  cached: Vertex[];
  /** Reachable vertices that neither ran nor were looked up (a cached dependent made them unnecessary). */
  notNeeded: Vertex[];
  /** Needed vertices that did not run because the build failed or was canceled. */
  skipped: Vertex[];
  stats: SolveStats;
}

/** Thrown by solve(): the SolveError plus what happened before it. */
export class SolveFailure<R> extends SolveError {
  readonly report: SolveReport<R>;
  constructor(message: string, details: { vertex?: string; canceled?: boolean }, report: SolveReport<R>, cause?: unknown) {
    super(message, details, { cause });
    this.report = report;
  }
}

/** The default parallelism: the number of CPUs, at least 2. */
export function defaultJobs(): number {
  return Math.max(2, availableParallelism());
}

interface Node<R> {
  vertex: Vertex;
  /** Distinct input nodes. */
  deps: Node<R>[];
  dependents: Node<R>[];
  forced: boolean;
  state: 'unvisited' | 'cached' | 'torun' | 'running' | 'done' | 'failed';
  pending: number;
  result?: R;
  cacheMiss?: string[];
}

const MAX_LINE = 64 * 1024;
const LOOKUP_PARALLELISM = 16;

function errorOf(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

export async function solve<R>(targets: readonly Vertex[], options: SolveOptions<R>): Promise<SolveReport<R>> {
  const jobs = Math.max(1, Math.floor(options.jobs ?? defaultJobs()));
  const now = options.now ?? Date.now;
  const emit = (e: SolverEvent): void => {
    try {
      options.onEvent?.(e);
    } catch {
      // a display bug must not break the build
    }
  };
  const cache = options.cache;
  const noCacheStages = new Set(options.noCacheFilter ?? []);

  // Graph: one node per key, inputs first.
  const order = topologicalOrder(targets);
  const nodes = new Map<Digest, Node<R>>();
  for (const v of order) {
    const deps: Node<R>[] = [];
    for (const input of v.inputs) {
      const n = nodes.get(input.key)!;
      if (!deps.includes(n)) deps.push(n);
    }
    const forced =
      options.noCache === true ||
      (v.step !== undefined && noCacheStages.has(v.step.stage)) ||
      deps.some((d) => d.forced);
    const node: Node<R> = { vertex: v, deps, dependents: [], forced, state: 'unvisited', pending: 0 };
    for (const d of deps) d.dependents.push(node);
    nodes.set(v.key, node);
  }

  const report: SolveReport<R> = {
    results: new Map(),
    targets: [],
    ran: [],
    cached: [],
    notNeeded: [],
    skipped: [],
    stats: { vertices: nodes.size, ran: 0, cached: 0, notNeeded: 0, maxConcurrency: 0 },
  };

  const controller = new AbortController();
  const external = options.signal;
  const onExternalAbort = (): void => controller.abort(external?.reason);
  if (external) {
    if (external.aborted) controller.abort(external.reason);
    else external.addEventListener('abort', onExternalAbort, { once: true });
  }

  const finishReport = (): void => {
    for (const n of nodes.values()) {
      if (n.state === 'unvisited') report.notNeeded.push(n.vertex);
      else if (n.state === 'torun') report.skipped.push(n.vertex);
    }
    report.stats.ran = report.ran.length;
    report.stats.cached = report.cached.length;
    report.stats.notNeeded = report.notNeeded.length;
  };
  const canceledFailure = (): SolveFailure<R> => {
    finishReport();
    return new SolveFailure('Canceled: context canceled', { canceled: true }, report, controller.signal.reason);
  };

  try {
    // ---- phase 1: resolve from the targets down ----
    const toRun: Node<R>[] = [];
    await new Promise<void>((resolve, reject) => {
      const queue: Node<R>[] = [];
      const seen = new Set<Node<R>>();
      for (const t of targets) queue.push(nodes.get(t.key)!);
      let inflight = 0;
      let failed = false;
      const markRun = (n: Node<R>): void => {
        n.state = 'torun';
        toRun.push(n);
        for (const d of n.deps) queue.push(d);
      };
      const pump = (): void => {
        if (failed) return;
        if (controller.signal.aborted) {
          failed = true;
          reject(canceledFailure());
          return;
        }
        while (queue.length > 0 && inflight < LOOKUP_PARALLELISM) {
          const n = queue.shift()!;
          if (seen.has(n)) continue;
          seen.add(n);
          if (!cache || n.forced) {
            markRun(n);
            continue;
          }
          inflight++;
          (async () => {
            const hit = await cache.lookup(n.vertex);
            if (hit !== undefined) return { hit };
            const miss = cache.explain ? await cache.explain(n.vertex).catch(() => undefined) : undefined;
            return { miss };
          })().then(
            (r) => {
              inflight--;
              if ('hit' in r) {
                n.state = 'cached';
                n.result = r.hit;
                report.results.set(n.vertex.key, r.hit as R);
                report.cached.push(n.vertex);
                if (!options.reportCachedChain) emit({ type: 'vertex.cached', vertex: n.vertex, time: now() });
              } else {
                if (r.miss && r.miss.length > 0) n.cacheMiss = r.miss;
                markRun(n);
              }
              pump();
            },
            (err) => {
              failed = true;
              reject(err);
            },
          );
        }
        if (queue.length === 0 && inflight === 0) resolve();
      };
      pump();
    });

    if (options.reportCachedChain) {
      if (cache) {
        const below = order.map((v) => nodes.get(v.key)!).filter((n) => n.state === 'unvisited' && !n.forced);
        for (let i = 0; i < below.length; i += LOOKUP_PARALLELISM) {
          await Promise.all(
            below.slice(i, i + LOOKUP_PARALLELISM).map(async (n) => {
              const hit = await cache.lookup(n.vertex);
              if (hit === undefined) return;
              n.state = 'cached';
              n.result = hit;
              report.results.set(n.vertex.key, hit);
              report.cached.push(n.vertex);
            }),
          );
        }
      }
      for (const v of order) {
        const n = nodes.get(v.key)!;
        if (n.state === 'cached') emit({ type: 'vertex.cached', vertex: n.vertex, time: now() });
      }
    }

    // ---- phase 2: run ----
    const ready: Node<R>[] = [];
    for (const n of toRun) {
      n.pending = n.deps.filter((d) => d.state === 'torun').length;
      if (n.pending === 0) ready.push(n);
    }
    const bySeq = (a: Node<R>, b: Node<R>): number => a.vertex.seq - b.vertex.seq;
    ready.sort(bySeq);

    let running = 0;
    let remaining = toRun.length;
    let failure: { node: Node<R>; error: Error } | undefined;
    const records: Promise<void>[] = [];

    await new Promise<void>((resolve) => {
      if (remaining === 0) {
        resolve();
        return;
      }
      const stopped = (): boolean => failure !== undefined || controller.signal.aborted;
      const maybeFinish = (): void => {
        if (running === 0 && (remaining === 0 || stopped())) resolve();
      };
      const start = (n: Node<R>): void => {
        n.state = 'running';
        running++;
        report.stats.maxConcurrency = Math.max(report.stats.maxConcurrency, running);
        const started = now();
        const v = n.vertex;
        emit({ type: 'vertex.started', vertex: v, time: started, ...(n.cacheMiss ? { cacheMiss: n.cacheMiss } : {}) });
        const decoders: Record<LogStream, { decoder: StringDecoder; partial: string }> = {
          stdout: { decoder: new StringDecoder('utf8'), partial: '' },
          stderr: { decoder: new StringDecoder('utf8'), partial: '' },
        };
        let open = true;
        const emitLine = (stream: LogStream, line: string): void => {
          emit({ type: 'vertex.log', vertex: v, time: now(), stream, line });
        };
        const log = (stream: LogStream, data: string | Uint8Array): void => {
          if (!open) return;
          const d = decoders[stream];
          let text = d.partial + (typeof data === 'string' ? data : d.decoder.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength)));
          let nl: number;
          while ((nl = text.indexOf('\n')) >= 0) {
            emitLine(stream, text.slice(0, nl).replace(/\r$/, ''));
            text = text.slice(nl + 1);
          }
          while (text.length > MAX_LINE) {
            emitLine(stream, text.slice(0, MAX_LINE));
            text = text.slice(MAX_LINE);
          }
          d.partial = text;
        };
        const flush = (): void => {
          for (const stream of ['stdout', 'stderr'] as const) {
            const d = decoders[stream];
            const rest = d.partial + d.decoder.end();
            if (rest.length > 0) emitLine(stream, rest);
            d.partial = '';
          }
          open = false;
        };
        const ctx: ExecuteContext<R> = {
          key: v.key,
          inputs: v.inputs.map((i) => nodes.get(i.key)!.result as R),
          signal: controller.signal,
          log,
          status: (status) => {
            if (open) emit({ type: 'vertex.status', vertex: v, time: now(), status: { ...status } });
          },
        };
        let promise: Promise<R>;
        try {
          promise = Promise.resolve(options.execute(v, ctx));
        } catch (err) {
          promise = Promise.reject(err);
        }
        promise.then(
          (result) => {
            flush();
            running--;
            remaining--;
            n.state = 'done';
            n.result = result;
            report.results.set(v.key, result);
            report.ran.push(v);
            const end = now();
            emit({ type: 'vertex.done', vertex: v, time: end, durationMs: end - started });
            if (cache) {
              records.push(
                cache.record(v, result).catch((err: unknown) => {
                  emit({ type: 'warning', vertex: v, time: now(), message: `could not record ${v.name} in the build cache: ${errorOf(err).message}` });
                }),
              );
            }
            for (const d of n.dependents) {
              if (d.state !== 'torun') continue;
              if (--d.pending === 0) ready.push(d);
            }
            ready.sort(bySeq);
            pump();
          },
          (err: unknown) => {
            flush();
            running--;
            remaining--;
            n.state = 'failed';
            const error = errorOf(err);
            const end = now();
            const canceled = controller.signal.aborted;
            emit({ type: 'vertex.error', vertex: v, time: end, durationMs: end - started, error, canceled });
            if (!canceled && failure === undefined) {
              failure = { node: n, error };
              if ((options.onFailure ?? 'abort') === 'abort') controller.abort(error);
            }
            pump();
          },
        );
      };
      const pump = (): void => {
        while (!stopped() && running < jobs && ready.length > 0) start(ready.shift()!);
        maybeFinish();
      };
      controller.signal.addEventListener('abort', () => maybeFinish(), { once: true });
      pump();
    });
    await Promise.all(records);

    if (failure) {
      finishReport();
      const f = failure as { node: Node<R>; error: Error };
      throw new SolveFailure(f.error.message, { vertex: f.node.vertex.name }, report, f.error);
    }
    if (controller.signal.aborted) throw canceledFailure();
    finishReport();
    report.targets = targets.map((t) => nodes.get(t.key)!.result as R);
    return report;
  } finally {
    external?.removeEventListener('abort', onExternalAbort);
    if (cache?.finish) {
      await cache.finish(order).catch((err: unknown) => emit({ type: 'warning', time: now(), message: `build cache: ${(err as Error).message}` }));
    }
  }
}
