/**
 * main.ts loads only the command the arguments name (startup time): which arguments allow that,
 * that the command is found after each of the program's global options (by the one commandName
 * that the bin's cache key uses too), and that a program holding just that command prints exactly
 * what the full program prints.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { cacheKey } from '../../../src/cli/compile-cache.ts';
import { createProgram, lazyCommand } from '../../../src/cli/main.ts';
import type { CliIO } from '../../../src/cli/context.ts';

const cases: [argv: string[], expected: string | undefined][] = [
  [['build', '.'], 'build'],
  [['--root', '/x', 'build', '.'], 'build'],
  [['--root=/x', 'images'], 'images'],
  [['--debug', '--insecure-registry', 'h:5000', '--registry-mirror', 'docker.io=http://m', 'pull', 'a'], 'pull'],
  [['--insecure-registry=h', 'push', 'a'], 'push'],
  [['import', 'f.tar'], 'import'],
  [['cekit', '--help'], 'cekit'],
  [['build', '--help'], 'build'],
  [[], undefined],
  [['--help'], undefined],
  [['-h'], undefined],
  [['-v'], undefined],
  [['--version'], undefined],
  [['help', 'build'], undefined],
  [['bild'], undefined],
  [['constructor'], undefined],
  [['--root'], undefined],
  [['--bogus', 'build'], undefined],
  [['--root', 'build'], undefined],
  [['--foo', 'build'], undefined],
  [['--debug', '--root=/x', 'build', '.'], 'build'],
];

for (const [argv, expected] of cases) {
  test(`lazyCommand(${JSON.stringify(argv)}) = ${expected}`, () => {
    assert.equal(lazyCommand(argv), expected);
  });
}

test('the command is found after every global option the program has (compile-cache.ts lists them)', async () => {
  const program = await createProgram(capture().io, 'build');
  const globals = program.options.filter((o) => o.long !== '--version');
  assert.ok(globals.length >= 4, globals.map((o) => o.long).join(' '));
  for (const o of globals) {
    const forms = o.required ? [[o.long!, 'x'], [`${o.long}=x`]] : [[o.long!]];
    for (const form of forms) {
      const argv = [...form, 'build', '.'];
      assert.equal(lazyCommand(argv), 'build', JSON.stringify(argv));
      assert.equal(cacheKey(argv), 'build', JSON.stringify(argv));
    }
  }
});

function capture(): { io: CliIO; out: () => string } {
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => chunks.push(c));
  const io: CliIO = { stdout: sink, stderr: sink, stdin: Readable.from([]), env: {}, cwd: '/' };
  return { io, out: () => Buffer.concat(chunks).toString() };
}

test('every registered command can be loaded alone, with the same help', async () => {
  const all = await createProgram(capture().io);
  const names = all.commands.map((c) => c.name());
  assert.ok(names.includes('build') && names.length > 10, names.join(' '));
  for (const name of names) {
    assert.equal(lazyCommand([name]), name, `${name} is missing from main.ts's LAZY table`);
    const alone = await createProgram(capture().io, name);
    assert.deepEqual(
      alone.commands.map((c) => c.name()),
      [name],
    );
    const full = all.commands.find((c) => c.name() === name)!;
    assert.equal(alone.commands[0].helpInformation(), full.helpInformation(), `${name} --help`);
  }
});
