/**
 * The gzip compressor (pieces deflated on several threads, pigz-style) as a table of input sizes around
 * its 1 MiB piece and 32 KiB window boundaries: the system's gzip and Node's gunzip both give the input
 * back, `gzip -t` finds the stream valid, the output is the same every time (and for every level it is
 * deterministic), about as small as single-threaded zlib's, and a failing source fails the stream.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { createCompressor, createDecompressor } from '../../../src/image/compression.ts';

const MiB = 1 << 20;

/** Text with repeats (compressible) and some noise, `n` bytes. */
function input(n: number): Buffer {
  const out = Buffer.alloc(n);
  let off = 0;
  let i = 0;
  while (off < n) {
    const line = i % 50 === 0 ? createHash('sha256').update(String(i)).digest('hex') : `line ${i % 977} of some layer file ${i % 13}\n`;
    off += out.write(line, off);
    i++;
  }
  return out;
}

/** Feeds `data` in uneven chunks through a compressor and collects the output. */
async function compress(data: Buffer, level?: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let off = 0, k = 1; off < data.length; k++) {
    const n = (k * 7919) % 200_000 + 1;
    chunks.push(data.subarray(off, off + n));
    off += n;
  }
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), createCompressor('gzip', level), async (src: AsyncIterable<Buffer>) => {
    for await (const c of src) out.push(c);
  });
  return Buffer.concat(out);
}

const sizes = [0, 1, 32 * 1024 - 1, 32 * 1024 + 1, MiB - 1, MiB, MiB + 1, 2 * MiB, 5 * MiB + 12345];

describe('gzip compressor', () => {
  for (const n of sizes) {
    test(`${n} bytes: gunzip (system and Node) gives them back; the same bytes every time; about zlib's size`, async () => {
      const data = input(n);
      const gz = await compress(data);
      assert.ok(execFileSync('gzip', ['-dc'], { input: gz, maxBuffer: 1 << 28 }).equals(data), 'system gzip');
      assert.ok(zlib.gunzipSync(gz).equals(data), 'Node gunzip');
      execFileSync('gzip', ['-t'], { input: gz });
      assert.ok((await compress(data)).equals(gz), 'deterministic');
      const single = zlib.gzipSync(data).length;
      assert.ok(gz.length <= single * 1.005 + 16, `${gz.length} vs zlib's ${single}`);
      // Our own decompressor reads it as a stream, too.
      const back: Buffer[] = [];
      await pipeline(Readable.from([gz]), createDecompressor('gzip'), async (src: AsyncIterable<Buffer>) => {
        for await (const c of src) back.push(c);
      });
      assert.ok(Buffer.concat(back).equals(data));
    });
  }

  test('the level is honoured (1 is larger than 9) and recorded in the header as zlib does', async () => {
    const data = input(3 * MiB);
    const fast = await compress(data, 1);
    const best = await compress(data, 9);
    assert.ok(fast.length > best.length, `${fast.length} > ${best.length}`);
    assert.equal(fast[8], 4);
    assert.equal(best[8], 2);
    assert.deepEqual(fast.subarray(0, 8), zlib.gzipSync(Buffer.from('x'), { level: 1 }).subarray(0, 8));
    assert.ok(zlib.gunzipSync(fast).equals(data) && zlib.gunzipSync(best).equals(data));
  });

  test('a writer that reuses its buffer after each write callback still gets its bytes compressed', async () => {
    const data = input(5 * MiB + 12345);
    const gz = createCompressor('gzip');
    const out: Buffer[] = [];
    gz.on('data', (c: Buffer) => out.push(c));
    const ended = new Promise((resolve, reject) => gz.on('end', resolve).on('error', reject));
    const scratch = Buffer.alloc(256 * 1024);
    for (let off = 0; off < data.length; off += scratch.length) {
      const n = data.copy(scratch, 0, off, off + scratch.length);
      await new Promise<void>((resolve, reject) => gz.write(scratch.subarray(0, n), (err) => (err ? reject(err) : resolve())));
      scratch.fill(0xa5); // the buffer is the writer's again once the callback has run
    }
    gz.end();
    await ended;
    assert.ok(zlib.gunzipSync(Buffer.concat(out)).equals(data));
  });

  test('a failing source fails the stream', async () => {
    async function* broken(): AsyncGenerator<Buffer> {
      yield input(3 * MiB);
      throw new Error('source broke');
    }
    await assert.rejects(pipeline(Readable.from(broken()), createCompressor('gzip'), async (src: AsyncIterable<Buffer>) => {
      for await (const _ of src) void _;
    }), /source broke/);
  });
});
