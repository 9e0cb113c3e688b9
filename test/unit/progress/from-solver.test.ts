// A real solve() feeding the plain display through the bridge (a counting clock makes times fixed).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256 } from '../../../src/image/digest.ts';
import { PlainDisplay } from '../../../src/progress/plain.ts';
import { solverEventsTo } from '../../../src/progress/from-solver.ts';
import { solve } from '../../../src/solver/solve.ts';
import { vertex } from '../../../src/solver/vertex.ts';

test('solve() events drive the plain display', async () => {
  let t = 0;
  const now = () => (t += 100);
  let text = '';
  const display = new PlainDisplay({ write: (s: string) => (text += s) });
  const base = vertex({ op: { kind: 'image', digest: sha256('b'), platform: { architecture: 'amd64', os: 'linux' } }, name: '[a 1/2] FROM busybox' });
  const run = vertex({ op: { kind: 'exec', args: ['false'], env: [], cwd: '/' }, inputs: [base], name: '[a 2/2] RUN false' });
  await assert.rejects(
    solve([run], {
      jobs: 1,
      now,
      onEvent: solverEventsTo(display),
      execute: async (v, ctx) => {
        if (v === base) return 'ok';
        ctx.log('stderr', 'boom\n');
        throw new Error('process "/bin/sh -c false" did not complete successfully: exit code: 1');
      },
    }),
    /failed to solve/,
  );
  display.event({ type: 'build.done', time: now(), durationMs: 0 });
  assert.equal(
    text,
    [
      '#1 [a 1/2] FROM busybox',
      '#1 DONE 0.1s',
      '',
      '#2 [a 2/2] RUN false',
      '#2 0.100 boom',
      '#2 ERROR: process "/bin/sh -c false" did not complete successfully: exit code: 1',
      '------',
      ' > [a 2/2] RUN false:',
      '0.100 boom',
      '------',
      '',
    ].join('\n'),
  );
});
