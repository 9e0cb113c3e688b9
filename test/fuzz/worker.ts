/** Worker-thread entry for the fuzz watchdog: runs runFuzz and posts its result. */
import { parentPort, workerData } from 'node:worker_threads';
import { runFuzz, type FuzzOptions } from './parser-fuzz.ts';

const data = workerData as { options: FuzzOptions; progress: SharedArrayBuffer };
const result = runFuzz({ ...data.options, progress: new Int32Array(data.progress) });
parentPort!.postMessage(result);
