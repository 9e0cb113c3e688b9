/**
 * Helper process for the crash test: starts a RUN that sleeps (with a secret and a rw bind mount, so there
 * are mounts of every kind), prints "running" once the container is up, then waits to be killed -9.
 * argv: STORE_ROOT LAYER_DIR BIND_SOURCE
 */
import { createWorker } from '../../../src/worker/index.ts';

const [root, layer, bindSrc] = process.argv.slice(2);
const worker = await createWorker({ root });
const snap = await worker.prepare([layer]);
await worker.exec(
  snap,
  {
    args: ['/bin/sh', '-c', 'echo running; exec sleep 600'],
    mounts: [
      { type: 'secret', target: '/run/secrets/s', data: 'x' },
      { type: 'bind', source: bindSrc, target: '/src', readonly: false },
    ],
  },
  { onStdout: (c) => process.stdout.write(c) },
);
