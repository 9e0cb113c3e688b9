/**
 * Compression levels as users type them, one table for both places they are typed: `jettison push
 * --compression-level N` (with --compression-format) and `-o …,compression=…,compression-level=N`
 * (parseOutput, which trims values; no compression= means gzip). Each row is checked three ways: parseCompressionLevel
 * itself, parseOutput, and the push command line (a refused level fails before anything else; an
 * accepted one gets as far as looking for the image in an empty store).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOutput } from '../../../src/build/outputs.ts';
import { parseCompressionLevel, type Compression } from '../../../src/image/compression.ts';
import { runCli } from '../../support/cli.ts';

/** [typed value, compression, the level, or the end of the refusal's message after `invalid <option> "<value>": `]. */
const table: [string, Compression, number | string][] = [
  ['1', 'gzip', 1],
  ['6', 'gzip', 6],
  ['9', 'gzip', 9],
  ['05', 'gzip', 5],
  ['0', 'gzip', 'expected 1-9 for gzip'],
  ['10', 'gzip', 'expected 1-9 for gzip'],
  ['19', 'gzip', 'expected 1-9 for gzip'],
  ['-1', 'gzip', 'expected 1-9 for gzip'],
  ['', 'gzip', 'expected 1-9 for gzip'],
  ['4 5', 'gzip', 'expected 1-9 for gzip'],
  ['5.0', 'gzip', 'expected 1-9 for gzip'],
  ['1e0', 'gzip', 'expected 1-9 for gzip'],
  ['0x5', 'gzip', 'expected 1-9 for gzip'],
  ['+5', 'gzip', 'expected 1-9 for gzip'],
  ['best', 'gzip', 'expected 1-9 for gzip'],
  ['1', 'zstd', 1],
  ['3', 'zstd', 3],
  ['19', 'zstd', 19],
  ['0', 'zstd', 'expected 1-19 for zstd'],
  ['20', 'zstd', 'expected 1-19 for zstd'],
  ['22', 'zstd', 'expected 1-19 for zstd'],
  ['1000', 'zstd', 'expected 1-19 for zstd'],
  ['5', 'none', 'uncompressed layers take no compression level'],
  ['1', 'none', 'uncompressed layers take no compression level'],
];

/** How the compression is spelled on the command line (BuildKit's word for none). */
const spelled = (c: Compression) => (c === 'none' ? 'uncompressed' : c);

const dir = mkdtempSync(join(tmpdir(), 'jettison-level-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const env = { JETTISON_ROOT: join(dir, 'root'), DOCKER_CONFIG: join(dir, 'docker'), JETTISON_CONFIG: join(dir, 'jettison.json') };

describe('compression levels', () => {
  for (const [value, compression, want] of table) {
    test(`${JSON.stringify(value)} for ${compression} → ${typeof want === 'number' ? want : 'refused'}`, async () => {
      const message = (what: string) => `invalid ${what} "${value}": ${want}`;
      const usage = (what: string) => (err: Error & { code?: string }) => err.code === 'USAGE' && err.message === message(what);

      if (typeof want === 'number') assert.equal(parseCompressionLevel(value, compression), want);
      else {
        assert.throws(() => parseCompressionLevel(value, compression), usage('compression-level'));
        assert.throws(() => parseCompressionLevel(value, compression, '--level'), usage('--level'));
      }

      // -o: gzip rows leave compression= out (gzip is the default), the others name it.
      const spec = `type=registry,name=localhost:1/x:1${compression === 'gzip' ? '' : `,compression=${spelled(compression)}`},compression-level=${value}`;
      if (typeof want === 'number') assert.equal(parseOutput(spec).attrs?.['compression-level'], value);
      else assert.throws(() => parseOutput(spec), usage('compression-level'));

      // push: `--opt=value`, so that "-1" and "" are values, not options.
      const r = await runCli(['push', `--compression-format=${spelled(compression)}`, `--compression-level=${value}`, 'localhost:1/x:1'], { env });
      assert.equal(r.code, 1, r.stdout);
      if (typeof want === 'number') assert.match(r.stderr, /An image does not exist locally with the tag: localhost:1\/x:1/);
      else assert.ok(r.stderr.includes(message('--compression-level')), r.stderr);
    });
  }
});
