/** `jettison run` argument parsing (options stop at the image, like docker run) and process args. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRunArgs, processArgs } from '../../../src/cli/commands/run.ts';

const cases: [string[], { image?: string; command: string[]; env?: string[]; user?: string; workdir?: string; rm?: boolean; network?: string }][] = [
  [['img'], { image: 'img', command: [] }],
  [['img', 'sh', '-c', 'exit 3'], { image: 'img', command: ['sh', '-c', 'exit 3'] }],
  [['--rm', '-e', 'A=1', '--env=B=2', '-eC=3', 'img', 'id', '-u'], { image: 'img', command: ['id', '-u'], env: ['A=1', 'B=2', 'C=3'], rm: true }],
  [['-u', 'www:staff', '-w', '/srv', '--network=none', 'img'], { image: 'img', command: [], user: 'www:staff', workdir: '/srv', network: 'none' }],
  [['--', '-weird-image', 'x'], { image: '-weird-image', command: ['x'] }],
];
for (const [argv, want] of cases) {
  test(`parseRunArgs ${argv.join(' ')}`, () => {
    const r = parseRunArgs(argv);
    assert.equal(r.image, want.image);
    assert.deepEqual(r.command, want.command);
    assert.deepEqual(r.flags.env, want.env ?? []);
    assert.equal(r.flags.user, want.user);
    assert.equal(r.flags.workdir, want.workdir);
    assert.equal(r.flags.rm, want.rm);
    assert.equal(r.flags.network, want.network ?? 'host');
  });
}

test('parseRunArgs: unknown flags and missing values are usage errors; --help is help', () => {
  assert.throws(() => parseRunArgs(['--bogus', 'img']), /unknown flag: --bogus/);
  assert.throws(() => parseRunArgs(['-u']), /flag needs an argument: -u/);
  assert.equal(parseRunArgs(['--help']).help, true);
  assert.equal(parseRunArgs(['img', '--help']).help, false);
});

const argCases: [string, Parameters<typeof processArgs>, string[]][] = [
  ['Cmd alone', [null, ['sh'], []], ['sh']],
  ['Entrypoint + Cmd', [['ep'], ['a'], []], ['ep', 'a']],
  ['CLI command replaces Cmd', [['ep'], ['a'], ['b']], ['ep', 'b']],
  ['--entrypoint drops the image Cmd', [['ep'], ['a'], [], 'x'], ['x']],
  ['--entrypoint "" clears it', [['ep'], ['a'], ['b'], ''], ['b']],
];
for (const [name, args, want] of argCases) {
  test(`processArgs: ${name}`, () => assert.deepEqual(processArgs(...args), want));
}
