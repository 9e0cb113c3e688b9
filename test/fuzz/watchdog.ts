/**
 * Runs the parser fuzzer in a worker thread and watches it: a parse that makes no progress for
 * `stallMs` is a hang, so the worker is terminated and the hanging case is regenerated from the
 * seed and reported like any other failure.
 */
import { Worker } from 'node:worker_threads';
import { caseAt, loadCorpus, type FuzzCase, type FuzzFailure, type FuzzOptions, type FuzzResult } from './parser-fuzz.ts';

export interface WatchedResult extends FuzzResult {
  /** Set when the worker stopped making progress. */
  hang?: FuzzFailure & { case: FuzzCase };
}

export function runWatched(options: Omit<FuzzOptions, 'progress'>, stallMs: number): Promise<WatchedResult> {
  const progress = new SharedArrayBuffer(8);
  const view = new Int32Array(progress);
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { workerData: { options, progress } });
  return new Promise((resolvePromise, reject) => {
    let lastDone = -1;
    let lastChange = Date.now();
    const timer = setInterval(() => {
      const done = Atomics.load(view, 1);
      if (done !== lastDone) {
        lastDone = done;
        lastChange = Date.now();
        return;
      }
      if (Date.now() - lastChange < stallMs) return;
      clearInterval(timer);
      const iteration = Atomics.load(view, 0);
      void worker.terminate().then(() => {
        const c = caseAt(options.seed, iteration, loadCorpus());
        resolvePromise({
          iterations: iteration,
          failures: [],
          slowest: { iteration, ms: stallMs, kind: c.kind },
          hang: { iteration, kind: c.kind, problem: `no progress for ${stallMs} ms (hang)`, case: c },
        });
      });
    }, Math.min(250, stallMs));
    worker.once('message', (result: FuzzResult) => {
      clearInterval(timer);
      void worker.terminate();
      resolvePromise(result);
    });
    worker.once('error', (err) => {
      clearInterval(timer);
      reject(err);
    });
  });
}
