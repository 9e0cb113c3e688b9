import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sizeTable } from '../../../src/progress/summary.ts';

test('the size table lists the final image, jettisoned stages, then stages not built with the reason', () => {
  const out = sizeTable({ size: 1_400_000 }, [
    { name: 'runtime', size: 1_400_000, jettisoned: false, final: true },
    { name: 'build', size: 225_870_000, jettisoned: true },
    { name: 'docs', size: 0, jettisoned: true, skipped: 'not needed by target runtime' },
  ]);
  assert.equal(
    out,
    [
      'STAGE                SIZE',
      'runtime (image)    1.40MB',
      'build            225.87MB  jettisoned',
      'docs                    -  not built: not needed by target runtime',
      '',
    ].join('\n'),
  );
});
